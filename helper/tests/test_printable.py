from __future__ import annotations

import pytest

from chef_cron.printable import decode, printable


@pytest.mark.parametrize("text, expected", [
    ("chef-client --once", "chef-client --once"),
    ("a\nINFO forged line", "a\\nINFO forged line"),
    ("a\r\tb\x1b[2J", "a\\r\\tb\\x1b[2J"),
    ("back\\slash", "back\\\\slash"),
    ("bidi\u202eoverride", "bidi\\u202eoverride"),
    ("line\u2028separator", "line\\u2028separator"),
    ("caf\u00e9", "caf\u00e9"),
])
def test_printable_escapes(text: str, expected: str) -> None:
    assert printable(text) == expected


def test_printable_invalid_utf8_as_hex() -> None:
    assert printable(decode(b"a\xff\xfeb")) == "a\\xff\\xfeb"


def test_printable_cuts_long_text() -> None:
    result = printable("x" * 120_000)
    assert result == "x" * 200 + "... (119800 more bytes)"


def test_printable_counts_escapes_in_limit() -> None:
    result = printable("\n" * 150)
    assert result.startswith("\\n" * 100 + "...")
    assert result.endswith("(50 more bytes)")


def test_printable_keeps_text_at_limit() -> None:
    assert printable("y" * 200) == "y" * 200


def test_printable_output_single_line() -> None:
    result = printable("".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF), limit=10**7)
    assert "\n" not in result
    assert "\r" not in result
    assert result.isprintable()
