from __future__ import annotations

import logging
import os
import socket
import stat
from pathlib import Path

import pytest

from chef_cron import logsetup
from chef_cron.errors import UnsafePathError


def test_open_log_creates_dir_0750(tmp_path: Path) -> None:
    os.close(logsetup.open_log(str(tmp_path / "log" / "chef-cron.log")))
    assert stat.S_IMODE((tmp_path / "log").stat().st_mode) == 0o750


def test_open_log_creates_file_0640(tmp_path: Path) -> None:
    os.close(logsetup.open_log(str(tmp_path / "log" / "chef-cron.log")))
    assert stat.S_IMODE((tmp_path / "log" / "chef-cron.log").stat().st_mode) == 0o640


def test_open_log_appends(tmp_path: Path) -> None:
    path = tmp_path / "log" / "chef-cron.log"
    path.parent.mkdir(mode=0o750)
    path.write_text("old\n")
    fd = logsetup.open_log(str(path))
    os.write(fd, b"new\n")
    os.close(fd)
    assert path.read_text() == "old\nnew\n"


def test_open_log_symlink_unsafe(tmp_path: Path) -> None:
    (tmp_path / "log").mkdir(mode=0o750)
    (tmp_path / "log" / "chef-cron.log").symlink_to(tmp_path / "shadow")
    with pytest.raises(UnsafePathError, match="symlink"):
        logsetup.open_log(str(tmp_path / "log" / "chef-cron.log"))


def test_configure_writes_timestamped_line(tmp_path: Path) -> None:
    fd = logsetup.open_log(str(tmp_path / "chef-cron.log"))
    handlers = logsetup.configure(fd, "")
    try:
        logging.getLogger("chef_cron.test").info("hello %s", "world")
    finally:
        logsetup.close(handlers)
        os.close(fd)
    line = (tmp_path / "chef-cron.log").read_text()
    assert line.endswith(" INFO hello world\n")
    assert line[:4].isdigit()


def test_configure_missing_syslog_skipped(tmp_path: Path) -> None:
    fd = logsetup.open_log(str(tmp_path / "chef-cron.log"))
    handlers = logsetup.configure(fd, str(tmp_path / "no-socket"))
    logsetup.close(handlers)
    os.close(fd)
    assert len(handlers) == 1


def test_configure_sends_syslog(tmp_path: Path) -> None:
    address = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(5)
    fd = logsetup.open_log(str(tmp_path / "chef-cron.log"))
    handlers = logsetup.configure(fd, address)
    try:
        logging.getLogger("chef_cron.test").warning("to syslog")
        message = server.recv(4096).decode()
    finally:
        logsetup.close(handlers)
        os.close(fd)
        server.close()
    # Priority 76 = facility cron (9) * 8 + warning (4).
    assert message.startswith("<76>chef-cron[%d]: WARNING to syslog" % os.getpid())


def _full_disk_fd() -> int:
    # Every write to /dev/full fails with ENOSPC, as on a full log disk.
    return os.open("/dev/full", os.O_WRONLY)


def test_configure_full_disk_one_stderr_line(capsys: pytest.CaptureFixture[str]) -> None:
    fd = _full_disk_fd()
    handlers = logsetup.configure(fd, "")
    try:
        for number in range(20):
            logging.getLogger("chef_cron.test").info("line %d", number)
    finally:
        logsetup.close(handlers)
        os.close(fd)
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "No space left on device" in error


def test_main_full_log_disk_keeps_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from chef_cron import cli, exitcodes

    monkeypatch.setattr(logsetup, "open_log", lambda path: _full_disk_fd())
    marker_dir = tmp_path / "run-lock"
    marker_dir.mkdir()
    (marker_dir / "chef-firstboot").touch()
    code = cli.main(["run", "--lock-file", str(tmp_path / "lock" / "chef-cron.lock"),
                     "--log-file", str(tmp_path / "log" / "chef-cron.log"),
                     "--status-file", str(tmp_path / "state" / "status.json"),
                     "--firstboot-file", str(marker_dir / "chef-firstboot"), "--syslog-socket", ""])
    assert code == exitcodes.SKIPPED
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.container
def test_run_full_log_disk_succeeds(sandbox, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from chef_cron import cli

    monkeypatch.setattr(logsetup, "open_log", lambda path: _full_disk_fd())
    assert cli.main(["run", *sandbox.options(), "--", "--quiet"]) == 0
    assert capsys.readouterr().err.count("\n") == 1
    assert len(sandbox.events("start")) == 1
