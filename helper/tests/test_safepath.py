from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chef_cron import safepath
from chef_cron.errors import UnsafePathError


def test_open_dir_creates_missing_parents(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    os.close(safepath.open_dir(str(path), create_mode=0o750))
    assert stat.S_IMODE(path.stat().st_mode) == 0o750


def test_open_dir_regular_file_unsafe(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.touch()
    with pytest.raises(UnsafePathError, match="not a directory"):
        safepath.open_dir(str(path))


def test_open_file_in_fifo_unsafe(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    dir_fd = safepath.open_dir(str(tmp_path))
    try:
        with pytest.raises(UnsafePathError, match="not a regular file"):
            safepath.open_file_in(dir_fd, str(tmp_path), "fifo", os.O_RDWR | os.O_NONBLOCK, 0o600)
    finally:
        os.close(dir_fd)


def test_trusted_uids_contains_root() -> None:
    assert 0 in safepath.trusted_uids()
