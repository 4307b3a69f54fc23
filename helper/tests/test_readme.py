"""The README's exit code table matches the runner's."""

from __future__ import annotations

import re
from pathlib import Path

from chef_cron import exitcodes

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_exit_codes() -> list[tuple[str, str]]:
    section = README.read_text().split("### Exit codes", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| (\S+) \| (.+) \|$", section, re.MULTILINE)
    # The first two rows are the header and its rule.
    return rows[2:]


def test_readme_exit_codes_match_table() -> None:
    expected = [(str(code), text) for code, text in exitcodes.TABLE]
    assert readme_exit_codes() == expected
