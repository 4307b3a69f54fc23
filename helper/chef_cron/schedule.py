"""Preview the cron slot that the chef_cron cookbook gives a node.

This mirrors hash mode of ChefCron::Schedule in
cookbooks/chef_cron/libraries/schedule.rb, and both are checked against
cookbooks/chef_cron/spec/fixtures/schedule_vectors.json. The library's header
comment explains the stem-and-number scheme, and docs/schedule.md states it
exactly.
"""

from __future__ import annotations

import hashlib
import re
import sys
from typing import NamedTuple

from chef_cron import exitcodes

# Name and version of the node-name-to-offset mapping, equal to
# ChefCron::Schedule::DIGEST in the cookbook.
DIGEST = "sha256-golden-v1"

# floor(2**64 / golden ratio), the step between consecutive numbers of a stem.
GOLDEN_STEP = 0x9E3779B97F4A7C15

POSITION_MODULUS = 1 << 64

# 10**64 = 2**64 * 5**64 is a multiple of 2**64, so a decimal number modulo
# 2**64 depends only on its last 64 digits. Reading only those also stays
# below Python's limit on int() of long digit strings.
SIGNIFICANT_DIGITS = 64

_DIGIT_RUN = re.compile("[0-9]+")  # ASCII only, unlike \d on str

# Interval lengths in minutes. Only divisors of 60 repeat on the same minutes
# every hour, which a single cron minute field can express.
ALLOWED_INTERVALS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)

DEFAULT_INTERVAL = 30


class Schedule(NamedTuple):
    """Cron minute field, sleep after cron fires, and the offset they encode."""

    minute: str
    delay: int
    offset: int


def compute(name: str, interval: int = DEFAULT_INTERVAL) -> Schedule:
    """Return the schedule that places ``name`` at its hash-mode offset.

    Raises ValueError on an invalid name or interval, with the cookbook's
    message text except that values and type names appear as Python writes them.
    """
    seconds = offset(name, interval)
    first_minute, delay = divmod(seconds, 60)
    minute = ",".join(str(m) for m in range(first_minute, 60, interval))
    return Schedule(minute=minute, delay=delay, offset=seconds)


def offset(name: str, interval: int = DEFAULT_INTERVAL) -> int:
    """Return the seconds from the start of the interval at which ``name`` runs.

    A multiply-high scales the circle of positions down to the interval, so
    a stem's evenly spaced positions stay evenly spaced in seconds. A modulo
    would keep only the low bits, which lose that spacing.
    """
    validate_interval(interval)
    return (position(name) * interval * 60) >> 64


def position(name: str) -> int:
    """Return (digest_key(stem) + number * GOLDEN_STEP) mod 2**64 for ``name``.

    The name is used exactly as given, with no case folding or trimming,
    so renaming a node moves it.
    """
    stem, number = split_name(name)
    return (digest_key(stem) + number * GOLDEN_STEP) % POSITION_MODULUS


def split_name(name: str) -> tuple[str, int]:
    """Split ``name`` into its stem and its number modulo 2**64.

    The number is the last run of ASCII digits in the host label, the part
    before the first ".". The stem is the name with that run replaced by
    "#". A host label without digits gives ``(name, 0)``, for example
    ``split_name("web-001.example.com") == ("web-#.example.com", 1)``.
    Raises ValueError if the name is invalid.
    """
    encode_name(name)
    host_label = name.split(".", 1)[0]
    runs = list(_DIGIT_RUN.finditer(host_label))
    if not runs:
        return name, 0
    last_run = runs[-1]
    stem = name[: last_run.start()] + "#" + name[last_run.end() :]
    digits = last_run.group()[-SIGNIFICANT_DIGITS:]
    return stem, int(digits) % POSITION_MODULUS


def digest_key(name: str) -> int:
    """Return the first 8 bytes of SHA-256 over the UTF-8 name as a big-endian integer.

    Hash mode applies it to the stem, not to the whole name.
    """
    digest = hashlib.sha256(encode_name(name)).digest()
    return int.from_bytes(digest[:8], "big")


def validate_interval(interval: int) -> None:
    """Raise ValueError unless ``interval`` is one of ALLOWED_INTERVALS."""
    # bool is a subclass of int, but True is not a number of minutes.
    is_int = isinstance(interval, int) and not isinstance(interval, bool)
    if is_int and interval in ALLOWED_INTERVALS:
        return
    allowed = ", ".join(str(i) for i in ALLOWED_INTERVALS)
    raise ValueError(
        f"chef_cron: interval {interval!r} is invalid. "
        f"Use a number of minutes that divides 60: {allowed}"
    )


def encode_name(name: str, label: str = "node name") -> bytes:
    """Return the UTF-8 bytes of ``name``, raising ValueError if it is invalid."""
    if not isinstance(name, str):
        raise ValueError(
            f"chef_cron: {label} {name!r} is invalid because its type is "
            f"{type(name).__name__}, not str"
        )
    if not name:
        raise ValueError(f"chef_cron: {label} is empty. Pass the Chef node name.")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates, e.g. from undecodable bytes in sys.argv.
        raise ValueError(
            f"chef_cron: {label} {name!r} is invalid because it is not valid UTF-8"
        ) from None


def main_schedule(name: str, interval: int = DEFAULT_INTERVAL) -> int:
    """Print ``minute=<field> delay=<seconds>`` for ``name`` and return 0.

    On an invalid name or interval, print the error as one line on stderr
    and return exitcodes.USAGE. ``interval`` must already be an int.
    """
    try:
        schedule = compute(name, interval)
    except ValueError as error:
        print(error, file=sys.stderr)
        return exitcodes.USAGE
    print(f"minute={schedule.minute} delay={schedule.delay}")
    return exitcodes.SUCCESS
