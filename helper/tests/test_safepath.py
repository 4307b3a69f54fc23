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


def test_ensure_dir_sets_exact_mode(tmp_path: Path) -> None:
    path = tmp_path / "new"
    old_umask = os.umask(0o077)
    try:
        safepath.ensure_dir(str(path), 0o755)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_ensure_dir_creates_parents_0755(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c"
    old_umask = os.umask(0o077)
    try:
        safepath.ensure_dir(str(path), 0o700)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o755
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_open_dir_symlink_at_path_unsafe(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symlink"):
        safepath.open_dir(str(tmp_path / "link"), create_mode=0o755)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_ensure_dir_symlink_swapped_after_mkdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Between mkdir and the mode change, a user who can write to the parent
    # puts a symlink to another directory in place of the new one.
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    real_mkdir = os.mkdir

    def mkdir_then_swap(name: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(name, mode, dir_fd=dir_fd)
        os.rmdir(name, dir_fd=dir_fd)
        os.symlink(str(target), name, dir_fd=dir_fd)

    monkeypatch.setattr(os, "mkdir", mkdir_then_swap)
    with pytest.raises(UnsafePathError, match="symlink"):
        safepath.ensure_dir(str(tmp_path / "new"), 0o755)
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_ensure_dir_existing_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "existing"
    path.mkdir(mode=0o700)
    safepath.ensure_dir(str(path), 0o755)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700
