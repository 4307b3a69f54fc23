from __future__ import annotations

import pytest

from chef_cron import splay


@pytest.mark.parametrize("delay", [0, 1, 1800, 3599])
def test_seconds_without_splay_is_delay(delay: int) -> None:
    assert splay.seconds(delay, 0) == delay


def _bytes(seed: int):
    """Return a stand-in for os.urandom that yields fixed bytes."""
    def random_bytes(count: int) -> bytes:
        return bytes((seed * 37 + index * 101) % 256 for index in range(count))

    return random_bytes


@pytest.mark.parametrize("extreme", [b"\x00" * 7, b"\xff" * 7])
def test_seconds_extremes_in_range(extreme: bytes) -> None:
    value = splay.seconds(100, 50, lambda count: extreme[:count])
    assert 100 <= value <= 150


@pytest.mark.parametrize("seed", range(20))
def test_seconds_at_least_delay(seed: int) -> None:
    assert splay.seconds(100, 50, _bytes(seed)) >= 100


@pytest.mark.parametrize("seed", range(20))
def test_seconds_at_most_delay_plus_splay(seed: int) -> None:
    assert splay.seconds(100, 50, _bytes(seed)) <= 150


def test_seconds_random_part_varies() -> None:
    values = {splay.seconds(0, 600, _bytes(seed)) for seed in range(10)}
    assert len(values) > 1
