"""Spread cron runs of many nodes over time so they do not hit the Chef server at once."""

from __future__ import annotations

import os
from collections.abc import Callable

# 53 random bits, as many as a float mantissa holds.
_RANDOM_BITS = 53


def seconds(delay: int, splay: int, random_bytes: Callable[[int], bytes] = os.urandom) -> float:
    """Return ``delay`` plus a uniformly random amount from 0 to ``splay`` seconds.

    ``delay`` is the fixed per-node offset that the cookbook computes;
    ``splay`` adds a random part on top of it. The random module is not
    used because importing it costs more than the rest of this step.
    """
    if splay <= 0:
        return float(delay)
    fraction = (int.from_bytes(random_bytes(7), "big") >> (56 - _RANDOM_BITS)) / (1 << _RANDOM_BITS)
    return delay + fraction * splay
