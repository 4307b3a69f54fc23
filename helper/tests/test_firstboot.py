from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from chef_cron import firstboot
from chef_cron.errors import UnsafePathError

BOOT = 1_700_000_000.0


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "chef-firstboot"


def test_check_absent_marker(marker: Path) -> None:
    assert not firstboot.check(str(marker), BOOT).present


def test_check_trusted_marker_present(marker: Path) -> None:
    marker.touch()
    assert firstboot.check(str(marker), BOOT).present


def test_check_fresh_marker_not_stale(marker: Path) -> None:
    marker.touch()
    os.utime(marker, (BOOT + 60, BOOT + 60))
    assert not firstboot.check(str(marker), BOOT).stale


def test_check_old_marker_stale(marker: Path) -> None:
    marker.touch()
    os.utime(marker, (BOOT - 60, BOOT - 60))
    assert firstboot.check(str(marker), BOOT).stale


def test_check_old_marker_still_present(marker: Path) -> None:
    marker.touch()
    os.utime(marker, (BOOT - 60, BOOT - 60))
    assert firstboot.check(str(marker), BOOT).present


def test_check_unknown_boot_time_not_stale(marker: Path) -> None:
    marker.touch()
    os.utime(marker, (0, 0))
    assert not firstboot.check(str(marker), None).stale


def _make_symlink(marker: Path) -> None:
    target = marker.parent / "target"
    target.touch()
    marker.symlink_to(target)


def _make_directory(marker: Path) -> None:
    marker.mkdir()


def _make_dangling_symlink(marker: Path) -> None:
    marker.symlink_to(marker.parent / "missing")


@pytest.mark.parametrize(("make", "reason"), [
    (_make_symlink, "symlink"),
    (_make_dangling_symlink, "symlink"),
    (_make_directory, "not a regular file"),
])
def test_check_untrusted_marker_ignored(marker: Path, make, reason: str) -> None:
    make(marker)
    assert not firstboot.check(str(marker), BOOT).present


@pytest.mark.parametrize(("make", "reason"), [
    (_make_symlink, "symlink"),
    (_make_directory, "not a regular file"),
])
def test_check_untrusted_marker_warns(marker: Path, make, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    make(marker)
    with caplog.at_level(logging.WARNING, logger="chef_cron"):
        firstboot.check(str(marker), BOOT)
    assert reason in caplog.text


@pytest.mark.container
def test_check_foreign_marker_ignored(marker: Path, caplog: pytest.LogCaptureFixture) -> None:
    marker.touch()
    os.chown(marker, 65534, 65534)
    with caplog.at_level(logging.WARNING, logger="chef_cron"):
        result = firstboot.check(str(marker), BOOT)
    assert not result.present
    assert "owned by uid 65534" in caplog.text


def test_check_directory_sticky_world_writable_accepted(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir()
    directory.chmod(0o1777)
    firstboot.check_directory(str(directory / "chef-firstboot"))


def test_check_directory_world_writable_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir()
    directory.chmod(0o777)
    with pytest.raises(UnsafePathError, match="writable by group or others"):
        firstboot.check_directory(str(directory / "chef-firstboot"))


def test_check_directory_symlink_followed(tmp_path: Path) -> None:
    # As /var/lock -> /run/lock on Debian.
    real = tmp_path / "run-lock"
    real.mkdir()
    real.chmod(0o1777)
    (tmp_path / "lock").symlink_to(real)
    firstboot.check_directory(str(tmp_path / "lock" / "chef-firstboot"))


def test_check_directory_missing_accepted(tmp_path: Path) -> None:
    firstboot.check_directory(str(tmp_path / "missing" / "chef-firstboot"))


@pytest.mark.container
def test_check_directory_foreign_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "lock"
    directory.mkdir()
    os.chown(directory, 65534, 65534)
    with pytest.raises(UnsafePathError, match="owned by uid 65534"):
        firstboot.check_directory(str(directory / "chef-firstboot"))


@pytest.mark.parametrize(("content", "expected"), [
    ("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n", 1_700_000_000.0),
    ("cpu  1 2 3\n", None),
    ("btime notanumber\n", None),
])
def test_boot_time_parses_btime(tmp_path: Path, content: str, expected: float | None) -> None:
    path = tmp_path / "stat"
    path.write_text(content)
    assert firstboot.boot_time(str(path)) == expected


def test_boot_time_real_proc_in_past() -> None:
    import time

    value = firstboot.boot_time()
    assert value is not None and value < time.time()
