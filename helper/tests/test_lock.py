from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from chef_cron import lock
from chef_cron.errors import UnsafePathError


def test_acquire_creates_dir_0700(tmp_path: Path) -> None:
    path = tmp_path / "lock" / "chef-cron.lock"
    fd = lock.acquire(str(path))
    os.close(fd)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_acquire_creates_file_0600(tmp_path: Path) -> None:
    path = tmp_path / "lock" / "chef-cron.lock"
    fd = lock.acquire(str(path))
    os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_acquire_fd_not_inheritable(tmp_path: Path) -> None:
    fd = lock.acquire(str(tmp_path / "lock" / "chef-cron.lock"))
    try:
        assert not os.get_inheritable(fd)
    finally:
        os.close(fd)


def test_acquire_busy_returns_none(tmp_path: Path) -> None:
    path = str(tmp_path / "lock" / "chef-cron.lock")
    first = lock.acquire(path)
    try:
        assert lock.acquire(path) is None
    finally:
        os.close(first)


def test_acquire_again_after_release(tmp_path: Path) -> None:
    path = str(tmp_path / "lock" / "chef-cron.lock")
    os.close(lock.acquire(path))
    second = lock.acquire(path)
    assert second is not None
    os.close(second)


def test_acquire_keeps_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "lock" / "chef-cron.lock"
    os.close(lock.acquire(str(path)))
    assert path.exists()


def test_acquire_symlink_file_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir(mode=0o700)
    (directory / "chef-cron.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match="symlink"):
        lock.acquire(str(directory / "chef-cron.lock"))


def test_acquire_symlink_file_target_not_created(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir(mode=0o700)
    (directory / "chef-cron.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError):
        lock.acquire(str(directory / "chef-cron.lock"))
    assert not (tmp_path / "elsewhere").exists()


def test_acquire_symlink_dir_unsafe(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "lock").symlink_to(real)
    with pytest.raises(UnsafePathError, match="symlink"):
        lock.acquire(str(tmp_path / "lock" / "chef-cron.lock"))


@pytest.mark.parametrize("mode", [0o770, 0o702, 0o777])
def test_acquire_writable_dir_unsafe(tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "lock"
    directory.mkdir()
    directory.chmod(mode)
    with pytest.raises(UnsafePathError, match="writable by group or others"):
        lock.acquire(str(directory / "chef-cron.lock"))


@pytest.mark.container
def test_acquire_foreign_dir_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir(mode=0o700)
    os.chown(directory, 65534, 65534)
    with pytest.raises(UnsafePathError, match="owned by uid 65534"):
        lock.acquire(str(directory / "chef-cron.lock"))


@pytest.mark.container
def test_acquire_foreign_file_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir(mode=0o700)
    (directory / "chef-cron.lock").touch()
    os.chown(directory / "chef-cron.lock", 65534, 65534)
    with pytest.raises(UnsafePathError, match="owned by uid 65534"):
        lock.acquire(str(directory / "chef-cron.lock"))
