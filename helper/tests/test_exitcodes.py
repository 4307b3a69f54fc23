from __future__ import annotations

import pytest

from chef_cron import exitcodes

NAMED_CODES = {
    "USAGE": 64, "UNAVAILABLE": 69, "INTERNAL": 70, "LOG_FILE_FAILED": 73, "SKIPPED": 75,
    "UNSAFE_PATH": 77, "TIMEOUT": 124,
}


@pytest.mark.parametrize(("name", "code"), sorted(NAMED_CODES.items()))
def test_exitcodes_values(name: str, code: int) -> None:
    assert getattr(exitcodes, name) == code


def test_for_signal_sigterm() -> None:
    assert exitcodes.for_signal(15) == 143


@pytest.mark.parametrize("code", sorted(NAMED_CODES.values()))
def test_describe_lists_code(code: int) -> None:
    assert "\n  %-6s " % code in exitcodes.describe()
