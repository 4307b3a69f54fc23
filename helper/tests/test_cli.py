"""In-process tests of the command line.

Each ``run`` test here stops at or before the lock: usage error, unsafe
path, firstboot marker or busy lock. If one does not, conftest makes the
daemon and chef-client steps fail on the host.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from chef_cron import cli, exitcodes


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, Path]:
    marker_dir = tmp_path / "run-lock"
    marker_dir.mkdir()
    return {
        "lock": tmp_path / "lock" / "chef-cron.lock",
        "log": tmp_path / "log" / "chef-cron.log",
        "status": tmp_path / "state" / "status.json",
        "firstboot": marker_dir / "chef-firstboot",
        "chef": tmp_path / "missing-chef-client",
    }


def _run_argv(paths: dict[str, Path], *extra: str) -> list[str]:
    return ["run", "--lock-file", str(paths["lock"]), "--log-file", str(paths["log"]),
            "--status-file", str(paths["status"]), "--firstboot-file", str(paths["firstboot"]),
            "--chef-client", str(paths["chef"]), "--syslog-socket", "", *extra]


INVALID_VALUES = [
    ("--delay", "-1", "from 0 to 3599"),
    ("--delay", "3600", "from 0 to 3599"),
    ("--delay", "1.5", "from 0 to 3599"),
    ("--splay", "-5", "at least 0"),
    ("--splay", "ten", "at least 0"),
    ("--timeout", "-1", "at least 0"),
    ("--kill-grace", "x", "at least 0"),
    ("--rss-warn-mb", "-1", "at least 0"),
    ("--setenv", "http_proxy", "NAME=VALUE"),
    ("--setenv", "1PROXY=x", "NAME=VALUE"),
    ("--setenv", "=x", "NAME=VALUE"),
]


@pytest.mark.parametrize(("option", "value", "allowed"), INVALID_VALUES)
def test_main_invalid_value_exit_64(paths: dict[str, Path], option: str, value: str, allowed: str) -> None:
    # The marker would make a run that slipped past validation exit 75, not 64.
    paths["firstboot"].touch()
    assert cli.main(_run_argv(paths, option, value)) == exitcodes.USAGE


@pytest.mark.parametrize(("option", "value", "allowed"), INVALID_VALUES)
def test_main_invalid_value_one_line(paths: dict[str, Path], option: str, value: str, allowed: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    paths["firstboot"].touch()
    cli.main(_run_argv(paths, option, value))
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert option in error
    assert repr(value) in error
    assert allowed in error


@pytest.mark.parametrize("option", [option for option, _, _ in INVALID_VALUES])
def test_main_invalid_value_touches_nothing(paths: dict[str, Path], option: str) -> None:
    cli.main(_run_argv(paths, option, "-1"))
    assert not paths["log"].parent.exists()


@pytest.mark.parametrize("argv", [
    [], ["bogus"], ["run", "--bogus"], ["run", "positional"], ["status", "--max-age", "0"],
    ["schedule"], ["schedule", "web1", "--interval", "x"], ["status", "--", "-x"],
])
def test_main_usage_error_exit_64(argv: list[str]) -> None:
    assert cli.main(argv) == exitcodes.USAGE


@pytest.mark.parametrize("word", ["-d", "--daemonize", "-i", "--interval", "--interval=60"])
def test_main_daemon_chef_argument_exit_64(paths: dict[str, Path], word: str) -> None:
    paths["firstboot"].touch()
    assert cli.main(_run_argv(paths, "--", word)) == exitcodes.USAGE


def test_parse_chef_args_after_double_dash(paths: dict[str, Path]) -> None:
    args = cli.parse(_run_argv(paths, "--", "-j", "/etc/chef/first.json", "--", "x"))
    assert args.chef_args == ["-j", "/etc/chef/first.json", "--", "x"]


def test_parse_setenv_repeated(paths: dict[str, Path]) -> None:
    args = cli.parse(_run_argv(paths, "--setenv", "http_proxy=http://proxy:3128", "--setenv", "NO_PROXY=a=b"))
    assert args.setenv == [("http_proxy", "http://proxy:3128"), ("NO_PROXY", "a=b")]


def test_run_help_lists_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--help"]) == 0
    assert exitcodes.describe() in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--delay", "--splay", "--timeout", "--kill-grace", "--lock-file",
                                    "--firstboot-file", "--log-file", "--status-file", "--textfile-dir",
                                    "--chef-client", "--chef-license", "--rss-warn-mb"])
def test_run_help_documents_default(option: str) -> None:
    parser = cli.build_parser()
    run_parser = parser._subparsers._group_actions[0].choices["run"]
    action = next(action for action in run_parser._actions if option in action.option_strings)
    assert "default" in action.help


def test_main_firstboot_marker_exit_75(paths: dict[str, Path]) -> None:
    paths["firstboot"].touch()
    assert cli.main(_run_argv(paths)) == exitcodes.SKIPPED


def test_main_firstboot_marker_silent(paths: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    paths["firstboot"].touch()
    cli.main(_run_argv(paths))
    assert capsys.readouterr() == ("", "")


def test_main_firstboot_marker_status(paths: dict[str, Path]) -> None:
    paths["firstboot"].touch()
    cli.main(_run_argv(paths))
    assert json.loads(paths["status"].read_text())["outcome"] == "skipped_firstboot"


def test_main_firstboot_stale_marker_status(paths: dict[str, Path]) -> None:
    paths["firstboot"].touch()
    os.utime(paths["firstboot"], (0, 0))
    cli.main(_run_argv(paths))
    assert json.loads(paths["status"].read_text())["firstboot_marker_stale"] is True


def test_main_firstboot_marker_before_lock(paths: dict[str, Path]) -> None:
    paths["firstboot"].touch()
    cli.main(_run_argv(paths))
    assert not paths["lock"].exists()


def test_main_firstboot_symlink_ignored_logged(paths: dict[str, Path]) -> None:
    # Ignored, so the run goes on to the lock, which is held here so it stops.
    target = paths["firstboot"].parent / "target"
    target.touch()
    paths["firstboot"].symlink_to(target)
    with _held_lock(paths["lock"]):
        assert cli.main(_run_argv(paths)) == exitcodes.SKIPPED
    assert "ignoring firstboot marker" in paths["log"].read_text()


class _held_lock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.path.parent.mkdir(mode=0o700, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc_info: object) -> None:
        os.close(self.fd)


def test_main_lock_busy_exit_75_without_sleep(paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from chef_cron import run

    def reject_sleep(self: object) -> bool:
        raise AssertionError("a run that found the lock busy started its delay")

    monkeypatch.setattr(run._Run, "_sleep", reject_sleep)
    with _held_lock(paths["lock"]):
        code = cli.main(_run_argv(paths, "--delay", "30"))
    assert code == exitcodes.SKIPPED


def test_main_lock_busy_status(paths: dict[str, Path]) -> None:
    with _held_lock(paths["lock"]):
        cli.main(_run_argv(paths))
    assert json.loads(paths["status"].read_text())["outcome"] == "skipped_locked"


def test_main_lock_busy_silent(paths: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with _held_lock(paths["lock"]):
        cli.main(_run_argv(paths))
    assert capsys.readouterr() == ("", "")


def test_main_lock_busy_logged(paths: dict[str, Path]) -> None:
    with _held_lock(paths["lock"]):
        cli.main(_run_argv(paths))
    assert "is busy" in paths["log"].read_text()


@pytest.mark.parametrize("name", ["lock", "log", "status"])
def test_main_symlink_path_exit_77(paths: dict[str, Path], name: str) -> None:
    paths[name].parent.mkdir(mode=0o700, exist_ok=True)
    paths[name].symlink_to(paths[name].parent / "elsewhere")
    assert cli.main(_run_argv(paths)) == exitcodes.UNSAFE_PATH


@pytest.mark.parametrize("name", ["lock", "log", "status"])
def test_main_symlink_path_one_line(paths: dict[str, Path], name: str, capsys: pytest.CaptureFixture[str]) -> None:
    paths[name].parent.mkdir(mode=0o700, exist_ok=True)
    paths[name].symlink_to(paths[name].parent / "elsewhere")
    cli.main(_run_argv(paths))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert str(paths[name]) in captured.err


def test_main_marker_directory_world_writable_exit_77(paths: dict[str, Path]) -> None:
    paths["firstboot"].parent.chmod(0o777)
    assert cli.main(_run_argv(paths)) == exitcodes.UNSAFE_PATH


def test_main_schedule_prints_fields(capsys: pytest.CaptureFixture[str]) -> None:
    from chef_cron import schedule

    expected = schedule.compute("web1.example.com", 30)
    assert cli.main(["schedule", "web1.example.com", "--interval", "30"]) == 0
    assert capsys.readouterr().out == "minute=%s delay=%d\n" % (expected.minute, expected.delay)


def test_main_schedule_invalid_interval_exit_64() -> None:
    assert cli.main(["schedule", "web1", "--interval", "7"]) == exitcodes.USAGE


def test_main_status_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "status.json"
    now = time.time()
    path.write_text(json.dumps({"outcome": "success", "end_epoch": now, "duration_seconds": 3,
                                "exit_code": 0, "last_success": now}))
    assert cli.main(["status", "--status-file", str(path), "--max-age", "60"]) == 0
    assert capsys.readouterr().out.startswith("OK: success at ")


def test_main_status_old_success_critical(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    now = time.time()
    path.write_text(json.dumps({"outcome": "failed", "end_epoch": now, "duration_seconds": 3,
                                "exit_code": 1, "last_success": now - 120}))
    assert cli.main(["status", "--status-file", str(path), "--max-age", "60"]) == exitcodes.STATUS_CRITICAL


def test_main_unopenable_log_exit_73(paths: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # A directory where the log file should be: opening it fails with EISDIR
    # on any uid, as a read-only log directory would for root.
    paths["log"].mkdir(parents=True, mode=0o750)
    code = cli.main(_run_argv(paths))
    error = capsys.readouterr().err
    assert code == exitcodes.LOG_FILE_FAILED
    assert error.count("\n") == 1
    assert str(paths["log"]) in error


def test_main_unopenable_log_writes_status(paths: dict[str, Path]) -> None:
    paths["log"].mkdir(parents=True, mode=0o750)
    cli.main(_run_argv(paths))
    record = json.loads(paths["status"].read_text())
    assert record["outcome"] == "failed"
    assert record["exit_code"] == exitcodes.LOG_FILE_FAILED
    assert str(paths["log"]) in record["error"]


def test_main_symlink_log_writes_status(paths: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.log"
    paths["log"].parent.mkdir(mode=0o750)
    paths["log"].symlink_to(target)
    code = cli.main(_run_argv(paths))
    assert code == exitcodes.UNSAFE_PATH
    record = json.loads(paths["status"].read_text())
    assert record["outcome"] == "failed"
    assert record["exit_code"] == exitcodes.UNSAFE_PATH
    assert str(paths["log"]) in record["error"]
    assert not target.exists()


def test_main_schedule_dash_name_after_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schedule", "--", "-web-01", "--interval", "30"]) == 0
    assert capsys.readouterr().out.startswith("minute=")


@pytest.mark.parametrize("argv", [
    ["schedule"],
    ["schedule", "--", "web1", "web2"],
    ["schedule", "web1", "--", "web2"],
])
def test_main_schedule_bad_name_exit_64(argv: list[str]) -> None:
    assert cli.main(argv) == exitcodes.USAGE


@pytest.mark.parametrize("value", ["\uff13\uff10", "3_0", "+30", " 30", "30 "])
def test_main_schedule_non_ascii_interval_exit_64(value: str) -> None:
    assert cli.main(["schedule", "web1", "--interval", value]) == exitcodes.USAGE
