"""End-to-end runs of the zipapp with a fake chef-client.

These start, signal and kill processes and scan /proc for chef-client
daemons, so they all run in the container.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import fakes

pytestmark = pytest.mark.container


def _wait_for(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %s s" % timeout)
        time.sleep(0.02)


def test_run_success_silent(sandbox: fakes.Sandbox) -> None:
    result = sandbox.run()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("text", [
    "start: pid", "lock ", " taken", "sleeping", "started chef-client as pid",
    "exited with code 0", "chef-client peak RSS", "finished: outcome success", "fake chef-client output",
])
def test_run_success_logged(sandbox: fakes.Sandbox, text: str) -> None:
    sandbox.run()
    assert text in sandbox.log_text()


@pytest.mark.parametrize(("field", "check"), [
    ("outcome", lambda value: value == "success"),
    ("exit_code", lambda value: value == 0),
    ("peak_rss_bytes", lambda value: value > 1024 * 1024),
    ("last_success", lambda value: value is not None),
    ("firstboot_marker_stale", lambda value: value is False),
])
def test_run_success_status(sandbox: fakes.Sandbox, field: str, check) -> None:
    sandbox.run()
    assert check(sandbox.status_record()[field])


@pytest.mark.parametrize("code", [1, 3, 42, 213])
def test_run_exit_code_passthrough(sandbox: fakes.Sandbox, code: int) -> None:
    assert sandbox.run(chef_args=["--exit", str(code)]).returncode == code


def test_run_failure_one_stderr_line(sandbox: fakes.Sandbox) -> None:
    result = sandbox.run(chef_args=["--exit", "1"])
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "exit code 1" in result.stderr


def test_run_failure_keeps_last_success(sandbox: fakes.Sandbox) -> None:
    sandbox.run()
    success = sandbox.status_record()["last_success"]
    sandbox.run(chef_args=["--exit", "1"])
    assert sandbox.status_record()["last_success"] == success


def test_run_chef_argv(sandbox: fakes.Sandbox) -> None:
    sandbox.run(chef_args=["--exit", "0", "-j", "/etc/chef/first.json"])
    assert sandbox.events("start")[0]["argv"][1:] == ["--once", "--exit", "0", "-j", "/etc/chef/first.json"]


def test_run_env_scrubbed(sandbox: fakes.Sandbox) -> None:
    env = {"PATH": "/tmp/evil:/usr/bin:/bin", "RUBYOPT": "-rdebug", "LD_PRELOAD": "/tmp/x.so",
           "LANG": "C.UTF-8", "HOME": "/home/admin", "PYTHONPATH": "/tmp"}
    subprocess.run(sandbox.command(), env=env, capture_output=True, timeout=60, check=False)
    assert sandbox.events("start")[0]["env"] == {
        "LANG": "C.UTF-8", "HOME": "/root",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "CHEF_CRON_RUN": "1",
    }


def test_run_chef_license_passed(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--chef-license", "accept-no-persist")
    assert sandbox.events("start")[0]["env"]["CHEF_LICENSE"] == "accept-no-persist"


def test_run_setenv_passed(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--setenv", "http_proxy=http://proxy:3128")
    assert sandbox.events("start")[0]["env"]["http_proxy"] == "http://proxy:3128"


def test_run_lock_fd_not_inherited(sandbox: fakes.Sandbox) -> None:
    sandbox.run()
    targets = sandbox.events("start")[0]["fds"].values()
    assert str(sandbox.lock) not in targets


@pytest.mark.parametrize(("fd", "target"), [("0", "/dev/null"), ("1", "log"), ("2", "log")])
def test_run_standard_streams(sandbox: fakes.Sandbox, fd: str, target: str) -> None:
    sandbox.run()
    expected = str(sandbox.log) if target == "log" else target
    assert sandbox.events("start")[0]["fds"][fd] == expected


def test_run_only_standard_fds(sandbox: fakes.Sandbox) -> None:
    sandbox.run()
    fds = sandbox.events("start")[0]["fds"]
    # The fourth descriptor is the one os.listdir used to read /proc/self/fd.
    assert len(fds) <= 4


def test_run_own_session(sandbox: fakes.Sandbox) -> None:
    sandbox.run()
    start = sandbox.events("start")[0]
    assert start["sid"] == start["pid"]


def test_run_missing_chef_client_exit_69(sandbox: fakes.Sandbox) -> None:
    sandbox.chef_client.unlink()
    result = sandbox.run()
    assert result.returncode == 69
    assert result.stderr.count("\n") == 1


def test_run_not_executable_exit_69(sandbox: fakes.Sandbox) -> None:
    sandbox.chef_client.chmod(0o644)
    assert sandbox.run().returncode == 69


def test_run_timeout_exit_124(sandbox: fakes.Sandbox) -> None:
    result = sandbox.run("--timeout", "1", chef_args=["--sleep", "30"])
    assert result.returncode == 124
    assert sandbox.status_record()["outcome"] == "timeout"


def test_run_timeout_kills_group(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--timeout", "1", chef_args=["--sleep", "30", "--ignore-term", "--grandchild", "30"], timeout=25)
    pgid = sandbox.events("start")[0]["pgid"]
    assert not fakes.group_exists(pgid)


# Each case ends chef-client's tree differently: SIGTERM only; SIGTERM then
# SIGKILL after chef-client has exited; SIGKILL while chef-client still runs.
@pytest.mark.parametrize("chef_args", [
    [],
    ["--setsid-ignore-term"],
    ["--ignore-term"],
], ids=["plain", "command-ignores-term", "chef-ignores-term"])
def test_run_timeout_kills_setsid_command(sandbox: fakes.Sandbox, chef_args: list[str]) -> None:
    result = sandbox.run("--timeout", "1", "--kill-grace", "1",
                         chef_args=["--sleep", "30", "--setsid-child", "600", *chef_args])
    command = sandbox.events("setsid_child")[0]
    try:
        assert result.returncode == 124
        assert command["sid"] == command["pid"]
        assert fakes.wait_gone(command["pid"]), sandbox.log_text()
        assert not fakes.group_exists(command["pgid"])
    finally:
        fakes.kill_quietly(command["pid"])


def test_run_timeout_logs_each_group(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--timeout", "1", "--kill-grace", "1", chef_args=["--sleep", "30", "--setsid-child", "600"])
    command = sandbox.events("setsid_child")[0]["pid"]
    chef = sandbox.events("start")[0]["pid"]
    try:
        text = sandbox.log_text()
        assert ("sending SIGTERM to process group %d (a command chef-client runs, pid %d: sleep 600) "
                "because chef-client timed out after 1 s" % (command, command)) in text
        assert ("sending SIGTERM to process group %d (chef-client, pid %d) "
                "because chef-client timed out after 1 s" % (chef, chef)) in text
    finally:
        fakes.kill_quietly(command)


def test_run_timeout_spares_orphaned_daemon(sandbox: fakes.Sandbox) -> None:
    result = sandbox.run("--timeout", "1", "--kill-grace", "1", chef_args=["--sleep", "30", "--daemon", "600"])
    daemon = sandbox.events("daemon")[0]
    try:
        assert result.returncode == 124
        assert fakes.process_exists(daemon["pid"])
        assert "process group %d " % daemon["pgid"] not in sandbox.log_text()
    finally:
        fakes.kill_quietly(daemon["pid"])


def test_run_grandchild_does_not_hang(sandbox: fakes.Sandbox) -> None:
    result = sandbox.run(chef_args=["--grandchild", "30"], timeout=25)
    grandchild = sandbox.events("grandchild")[0]["child"]
    # The runner returned while the grandchild still held the log open.
    grandchild_alive = fakes.process_exists(grandchild)
    os.kill(grandchild, signal.SIGKILL)
    assert result.returncode == 0
    assert grandchild_alive


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_run_signal_forwarded(sandbox: fakes.Sandbox, signum: int) -> None:
    runner = sandbox.start(chef_args=["--sleep", "30", "--grandchild", "30"])
    _wait_for(lambda: sandbox.events("start"))
    runner.send_signal(signum)
    _, stderr = runner.communicate(timeout=20)
    pgid = sandbox.events("start")[0]["pgid"]
    assert runner.returncode == 128 + signum
    assert not fakes.group_exists(pgid)
    assert sandbox.status_record()["outcome"] == "signalled"
    assert stderr.count(b"\n") == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_run_signal_kills_setsid_command(sandbox: fakes.Sandbox, signum: int) -> None:
    runner = sandbox.start("--kill-grace", "1", chef_args=["--sleep", "30", "--setsid-child", "600"])
    _wait_for(lambda: sandbox.events("start") and sandbox.events("setsid_child"))
    command = sandbox.events("setsid_child")[0]
    try:
        runner.send_signal(signum)
        runner.communicate(timeout=20)
        assert runner.returncode == 128 + signum
        assert fakes.wait_gone(command["pid"]), sandbox.log_text()
        assert "because the runner received %s (signal %d)" % (signal.Signals(signum).name, signum) \
            in sandbox.log_text()
    finally:
        fakes.kill_quietly(command["pid"])


def test_run_signal_spares_orphaned_daemon(sandbox: fakes.Sandbox) -> None:
    runner = sandbox.start("--kill-grace", "1", chef_args=["--sleep", "30", "--daemon", "600"])
    _wait_for(lambda: sandbox.events("start") and sandbox.events("daemon"))
    daemon = sandbox.events("daemon")[0]
    try:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=20)
        assert runner.returncode == 143
        assert fakes.process_exists(daemon["pid"])
    finally:
        fakes.kill_quietly(daemon["pid"])


@pytest.mark.parametrize("signum", [signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM])
def test_run_stopping_signal_ends_chef(sandbox: fakes.Sandbox, signum: int) -> None:
    runner = sandbox.start(chef_args=["--sleep", "30", "--grandchild", "30"])
    _wait_for(lambda: sandbox.events("start"))
    runner.send_signal(signum)
    _, stderr = runner.communicate(timeout=20)
    pgid = sandbox.events("start")[0]["pgid"]
    assert runner.returncode == 128 + signum
    assert not fakes.group_exists(pgid)
    assert "sending SIGTERM to process group %d" % pgid in sandbox.log_text()
    assert sandbox.status_record()["outcome"] == "signalled"
    assert stderr.count(b"\n") == 1


def test_run_sigpipe_ignored(sandbox: fakes.Sandbox) -> None:
    runner = sandbox.start("--delay", "60")
    _wait_for(lambda: "sleeping" in sandbox.log_text())
    runner.send_signal(signal.SIGPIPE)
    time.sleep(0.5)
    assert runner.poll() is None
    runner.send_signal(signal.SIGTERM)
    runner.communicate(timeout=10)
    assert runner.returncode == 143


def _ruby_chef_client(sandbox: fakes.Sandbox, processes: fakes.Processes) -> None:
    # Run the fake through a ruby-named interpreter, so that the runner's
    # /proc scan classifies it as a chef-client run.
    script = sandbox.chef_client.read_text().split("\n", 1)[1]
    sandbox.chef_client.write_text("#!%s\n%s" % (processes.ruby, script))


def test_run_killed_runner_ends_chef(sandbox: fakes.Sandbox) -> None:
    processes = fakes.Processes(sandbox.root)
    _ruby_chef_client(sandbox, processes)
    # chef-client 18 ignores SIGTERM during a converge, so only the SIGINT
    # parent-death signal ends a chef-client that ignores SIGTERM.
    runner = sandbox.start(chef_args=["--sleep", "600", "--ignore-term"])
    try:
        _wait_for(lambda: sandbox.events("start"))
        chef = sandbox.events("start")[0]["pid"]
        runner.kill()
        runner.communicate(timeout=10)
        assert fakes.wait_gone(chef, timeout=5)
    finally:
        fakes.kill_quietly(sandbox.events("start")[0]["pid"])
        processes.close()


def test_run_after_killed_runner_not_blocked(sandbox: fakes.Sandbox) -> None:
    processes = fakes.Processes(sandbox.root)
    _ruby_chef_client(sandbox, processes)
    runner = sandbox.start(chef_args=["--sleep", "600"])
    try:
        _wait_for(lambda: sandbox.events("start"))
        runner.kill()
        runner.communicate(timeout=10)
        fakes.wait_gone(sandbox.events("start")[0]["pid"], timeout=5)
        result = sandbox.run(chef_args=["--sleep", "0"])
        assert (result.returncode, result.stderr) == (0, "")
        assert len(sandbox.events("start")) == 2
    finally:
        for event in sandbox.events("start"):
            fakes.kill_quietly(event["pid"])
        processes.close()


# Starts an orphaned fake chef-client and returns its pid and its command's pid.
StartOrphan = Callable[..., "tuple[int, int]"]

ORPHAN_ENV = {"PATH": "/usr/bin:/bin", "CHEF_CRON_RUN": "1"}
# Long enough that an orphan started now is past a --timeout of 1 s in whole seconds.
ORPHAN_AGE_SECONDS = 2.3


def _start_orphan(sandbox: fakes.Sandbox, env: dict[str, str], *chef_args: str) -> tuple[int, int]:
    """Start the ruby-named fake as a child of init with a setsid command, and return both pids."""
    pid = fakes.start_orphan(sandbox.chef_client, ["--once", "--sleep", "600", "--setsid-child", "600",
                                                   *chef_args], env)
    _wait_for(lambda: [event for event in sandbox.events("start") if event["pid"] == pid])
    command = [event for event in sandbox.events("setsid_child") if event["ppid"] == pid][0]["pid"]
    return pid, command


@pytest.fixture
def aged_orphan(sandbox: fakes.Sandbox) -> Iterator[StartOrphan]:
    """Return a function that starts an orphaned fake chef-client, waits until it is past
    a 1 s timeout, and returns its pid and its command's pid. Both are killed at teardown."""
    processes = fakes.Processes(sandbox.root)
    _ruby_chef_client(sandbox, processes)
    started: list[int] = []

    def start(env: dict[str, str], *chef_args: str) -> tuple[int, int]:
        pids = _start_orphan(sandbox, env, *chef_args)
        started.extend(pids)
        time.sleep(ORPHAN_AGE_SECONDS)
        return pids

    yield start
    for pid in started:
        fakes.kill_quietly(pid)
    processes.close()


def test_run_ends_orphan_past_timeout(sandbox: fakes.Sandbox, aged_orphan: StartOrphan) -> None:
    orphan, command = aged_orphan(ORPHAN_ENV, "--ignore-term")
    result = sandbox.run("--timeout", "1", "--kill-grace", "1")
    assert (result.returncode, result.stderr) == (0, ""), sandbox.log_text()
    assert fakes.wait_gone(orphan)
    assert fakes.wait_gone(command)
    assert len(sandbox.events("start")) == 2


def test_run_ended_orphan_logged(sandbox: fakes.Sandbox, aged_orphan: StartOrphan) -> None:
    orphan, command = aged_orphan(ORPHAN_ENV, "--ignore-term")
    sandbox.run("--timeout", "1", "--kill-grace", "1")
    text = sandbox.log_text()
    reason = re.search(r"pid %d is an orphaned chef-client from an earlier chef-cron run, "
                       r"running \d+ s, past the 1 s timeout" % orphan, text)
    assert reason is not None, text
    assert ("sending SIGTERM to process group %d (a command the orphaned chef-client runs, pid %d: "
            "sleep 600) because %s" % (command, command, reason.group(0))) in text
    assert ("sending SIGKILL to process group %d (the orphaned chef-client, pid %d) because %s "
            "and the group is still running after the kill grace of 1 s"
            % (orphan, orphan, reason.group(0))) in text
    assert "orphaned chef-client pid %d has ended; going on with this run" % orphan in text


def test_run_ended_orphan_status(sandbox: fakes.Sandbox, aged_orphan: StartOrphan) -> None:
    orphan, command = aged_orphan(ORPHAN_ENV)
    sandbox.run("--timeout", "1", "--kill-grace", "1")
    record = sandbox.status_record()
    assert record["outcome"] == "success"
    assert record["ended_orphan_pids"] == [orphan]


def test_run_orphan_within_timeout_skips(sandbox: fakes.Sandbox, aged_orphan: StartOrphan) -> None:
    orphan, command = aged_orphan(ORPHAN_ENV)
    result = sandbox.run("--timeout", "3600", "--kill-grace", "1")
    assert (result.returncode, result.stderr) == (75, "")
    assert fakes.process_exists(orphan)
    assert fakes.process_exists(command)
    assert sandbox.status_record()["outcome"] == "skipped_busy"
    assert sandbox.status_record()["ended_orphan_pids"] == []
    assert re.search(r"pid %d is an orphaned chef-client from an earlier chef-cron run, running \d+ s, "
                     r"within the 3600 s timeout; skipping this run" % orphan, sandbox.log_text())
    assert "sending SIG" not in sandbox.log_text()


def test_run_unmarked_chef_not_signalled(sandbox: fakes.Sandbox, aged_orphan: StartOrphan) -> None:
    # An admin's chef-client, without the marker. It does not ignore SIGTERM,
    # so it would be gone had the runner signalled it.
    admin, command = aged_orphan({"PATH": "/usr/bin:/bin"})
    result = sandbox.run("--timeout", "1", "--kill-grace", "1")
    assert (result.returncode, result.stderr) == (75, "")
    assert fakes.process_exists(admin)
    assert fakes.process_exists(command)
    assert "chef-client is already running in the foreground as pid %d" % admin in sandbox.log_text()
    assert "sending SIG" not in sandbox.log_text()


def test_run_spares_chef_of_live_runner(sandbox: fakes.Sandbox, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Another runner with its own lock file runs a marked chef-client that is
    # older than this run's --timeout. Its runner is alive, so it is no orphan.
    other = fakes.Sandbox(tmp_path_factory.mktemp("other"), sandbox.zipapp)
    processes = fakes.Processes(other.root)
    _ruby_chef_client(other, processes)
    runner = other.start("--timeout", "600", chef_args=["--sleep", "600"])
    try:
        _wait_for(lambda: other.events("start"))
        chef = other.events("start")[0]["pid"]
        time.sleep(ORPHAN_AGE_SECONDS)
        result = sandbox.run("--timeout", "1", "--kill-grace", "1")
        assert (result.returncode, result.stderr) == (75, "")
        assert fakes.process_exists(chef)
        assert "sending SIG" not in sandbox.log_text()
    finally:
        runner.terminate()
        runner.communicate(timeout=60)
        for event in other.events("start"):
            fakes.kill_quietly(event["pid"])
        processes.close()


def test_run_signal_during_sleep_skips_chef(sandbox: fakes.Sandbox) -> None:
    runner = sandbox.start("--delay", "60")
    _wait_for(lambda: "sleeping" in sandbox.log_text())
    runner.send_signal(signal.SIGTERM)
    runner.communicate(timeout=10)
    assert runner.returncode == 143
    assert sandbox.events("start") == []


def test_run_busy_lock_exits_at_once(sandbox: fakes.Sandbox) -> None:
    first = sandbox.start(chef_args=["--sleep", "5"])
    _wait_for(lambda: sandbox.events("start"))
    # With --delay 60 and the 60 s timeout of sandbox.run, a run that waited
    # for the lock or slept before checking it would fail here.
    second = sandbox.run("--delay", "60", timeout=30)
    first.communicate(timeout=30)
    assert (second.returncode, second.stdout, second.stderr) == (75, "", "")
    assert "sleeping 60" not in sandbox.log_text()


def test_run_concurrent_runners_one_chef_run(sandbox: fakes.Sandbox) -> None:
    runners = [sandbox.start(chef_args=["--sleep", "3"]) for _ in range(10)]
    codes = sorted(runner.wait(timeout=60) for runner in runners)
    for runner in runners:
        runner.communicate()
    assert codes == [0] + [75] * 9
    assert len(sandbox.events("start")) == 1


def test_run_staggered_runners_no_overlap(sandbox: fakes.Sandbox) -> None:
    runners = []
    for _ in range(6):
        runners.append(sandbox.start(chef_args=["--sleep", "0.4"]))
        time.sleep(0.25)
    for runner in runners:
        runner.communicate(timeout=60)
    starts = sandbox.events("start")
    ends = {event["pid"]: event["time"] for event in sandbox.events("end")}
    intervals = sorted((event["time"], ends[event["pid"]]) for event in starts)
    assert len(intervals) >= 2
    for (_, previous_end), (next_start, _) in zip(intervals, intervals[1:]):
        assert next_start >= previous_end


def test_run_lock_symlink_exit_77(sandbox: fakes.Sandbox) -> None:
    sandbox.lock.parent.mkdir(mode=0o700)
    sandbox.lock.symlink_to(sandbox.root / "elsewhere")
    result = sandbox.run()
    assert result.returncode == 77
    assert sandbox.events("start") == []


def test_run_firstboot_marker_exit_75(sandbox: fakes.Sandbox) -> None:
    sandbox.firstboot.touch()
    result = sandbox.run()
    assert (result.returncode, result.stderr) == (75, "")
    assert sandbox.events("start") == []


@pytest.mark.parametrize("kind", ["foreign", "symlink", "directory"])
def test_run_untrusted_marker_ignored(sandbox: fakes.Sandbox, kind: str) -> None:
    if kind == "foreign":
        sandbox.firstboot.touch()
        os.chown(sandbox.firstboot, 65534, 65534)
    elif kind == "symlink":
        (sandbox.root / "target").touch()
        sandbox.firstboot.symlink_to(sandbox.root / "target")
    else:
        sandbox.firstboot.mkdir()
    result = sandbox.run()
    assert result.returncode == 0
    assert "ignoring firstboot marker" in sandbox.log_text()


def test_run_stale_marker_status(sandbox: fakes.Sandbox) -> None:
    sandbox.firstboot.touch()
    os.utime(sandbox.firstboot, (0, 0))
    sandbox.run()
    record = sandbox.status_record()
    assert (record["outcome"], record["firstboot_marker_stale"]) == ("skipped_firstboot", True)


def test_run_textfile_written(sandbox: fakes.Sandbox) -> None:
    sandbox.textfile_dir.mkdir()
    sandbox.run("--textfile-dir", str(sandbox.textfile_dir))
    text = (sandbox.textfile_dir / "chef_cron.prom").read_text()
    assert 'chef_cron_last_run_outcome{outcome="success"} 1' in text.splitlines()


def test_run_rss_warning(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--rss-warn-mb", "1")
    assert "above --rss-warn-mb 1" in sandbox.log_text()


def test_run_splay_recorded(sandbox: fakes.Sandbox) -> None:
    sandbox.run("--delay", "1")
    assert sandbox.status_record()["splay_seconds"] >= 1


def test_run_status_file_mode(sandbox: fakes.Sandbox) -> None:
    sandbox.run()
    assert sandbox.status.stat().st_mode & 0o777 == 0o644


def test_run_stops_leftover_daemon(sandbox: fakes.Sandbox) -> None:
    processes = fakes.Processes(sandbox.root)
    try:
        leftover = processes.chef("-d", "-i", "1800")
        processes.wait_running(leftover)
        result = sandbox.run()
        assert result.returncode == 0
        assert leftover.wait(timeout=5) == -signal.SIGTERM
        assert "sent SIGTERM to pid %d" % leftover.pid in sandbox.log_text()
    finally:
        processes.close()


def test_run_admin_foreground_run_skips(sandbox: fakes.Sandbox) -> None:
    processes = fakes.Processes(sandbox.root)
    try:
        admin = processes.chef("--once")
        processes.wait_running(admin)
        result = sandbox.run()
        assert (result.returncode, result.stderr) == (75, "")
        assert admin.poll() is None
        assert sandbox.status_record()["outcome"] == "skipped_busy"
        assert sandbox.events("start") == []
    finally:
        processes.close()


def test_run_ignores_non_root_foreground(sandbox: fakes.Sandbox) -> None:
    processes = fakes.Processes(sandbox.root)
    try:
        lookalike = processes.chef_as_nobody("--once")
        processes.wait_running(lookalike)
        result = sandbox.run()
        assert (result.returncode, result.stderr) == (0, "")
        assert lookalike.poll() is None
        assert len(sandbox.events("start")) == 1
        assert "ignoring pid %d (uid 65534)" % lookalike.pid in sandbox.log_text()
    finally:
        processes.close()


def test_run_spares_other_runner(sandbox: fakes.Sandbox, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = fakes.Sandbox(tmp_path_factory.mktemp("other"), sandbox.zipapp)
    runner = other.start("--delay", "60")
    try:
        _wait_for(lambda: "sleeping" in other.log_text())
        assert sandbox.run().returncode == 0
        assert runner.poll() is None
    finally:
        runner.kill()
        runner.communicate()
