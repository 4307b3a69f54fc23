"""Make untrusted text safe for one log line.

Command lines from /proc and fields of the status file are written by other
users or other programs. A newline in them would forge log lines, and a huge
argument would fill the disk, so each one is escaped and cut before it is
logged or printed.
"""

from __future__ import annotations

# Maximum length of the kept text, in escaped characters, before the marker.
MAX_CHARS = 200


def printable(text: str, limit: int = MAX_CHARS) -> str:
    """Escape non-printable characters in ``text`` and cut the result to ``limit`` characters.

    Characters that str.isprintable rejects (controls, line and paragraph
    separators, bidi overrides) become ``\\n``, ``\\xNN``, ``\\uNNNN`` or
    ``\\UNNNNNNNN``. A backslash becomes ``\\\\``, so an escape in the output
    always stands for one character. Bytes that were not valid UTF-8 and were
    decoded with ``surrogateescape`` become ``\\xNN``. Cut text ends with
    ``... (N more bytes)``, where N counts the UTF-8 bytes of the rest.
    """
    pieces: list[str] = []
    used = 0
    for index, char in enumerate(text):
        piece = char if char.isprintable() and char != "\\" else _escape(char)
        if used + len(piece) > limit:
            return "".join(pieces) + "... (%d more bytes)" % _utf8_length(text[index:])
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


def decode(data: bytes) -> str:
    """Decode ``data`` as UTF-8, keeping invalid bytes so that ``printable`` shows them as ``\\xNN``."""
    return data.decode("utf-8", "surrogateescape")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that surrogateescape could not decode.
        return "\\x%02x" % (code - 0xDC00)
    # repr of a one-character string gives the shortest escape: \n, \x1b, \u202e, \\.
    return repr(char)[1:-1]


def _utf8_length(text: str) -> int:
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        # A lone surrogate that surrogateescape did not make counts as 3 bytes.
        return len(text.encode("utf-8", "surrogatepass"))
