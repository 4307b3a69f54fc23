from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chef_cron import daemon
from chef_cron.signals import SignalWatcher

import fakes

OMNIBUS_RUBY = "/opt/chef/embedded/bin/ruby"
OMNIBUS_CHEF = "/opt/chef/bin/chef-client"


@pytest.mark.parametrize(("exe", "expected"), [
    (OMNIBUS_RUBY, True),
    ("/usr/bin/ruby3.1", True),
    ("/usr/bin/ruby2.7 (deleted)", True),
    ("/opt/chef/bin/chef-client", True),
    ("/usr/bin/python3.11", False),
    ("/usr/bin/vim.basic", False),
    ("/usr/bin/tail", False),
    ("/usr/bin/rubyish", False),
])
def test_is_chef_executable_table(exe: str, expected: bool) -> None:
    assert daemon.is_chef_executable(exe) is expected


@pytest.mark.parametrize(("argv", "expected"), [
    ([OMNIBUS_RUBY, "--disable-gems", OMNIBUS_CHEF, "-d", "-i", "1800"], daemon.DAEMON),
    ([OMNIBUS_RUBY, OMNIBUS_CHEF, "--interval", "1800"], daemon.DAEMON),
    ([OMNIBUS_RUBY, OMNIBUS_CHEF, "--interval=1800"], daemon.DAEMON),
    (["chef-client", "-i1800"], daemon.DAEMON),
    (["chef-client", "-c", "/etc/chef/client.rb", "--daemonize"], daemon.DAEMON),
    ([OMNIBUS_RUBY, "-I", "/lib", OMNIBUS_CHEF, "-d"], daemon.DAEMON),
    ([OMNIBUS_RUBY, OMNIBUS_CHEF, "--once"], daemon.FOREGROUND),
    ([OMNIBUS_RUBY, OMNIBUS_CHEF, "-i", "1800", "--once"], daemon.FOREGROUND),
    (["chef-client", "-z", "-o", "recipe[x]"], daemon.FOREGROUND),
    (["chef-client"], daemon.FOREGROUND),
    (["chef-client worker: ppid=10;start=10:00:00;"], daemon.WORKER),
    ([OMNIBUS_RUBY, "-e", "puts 1", "chef-client", "-d"], None),
    ([OMNIBUS_RUBY, "/usr/bin/knife", "node", "list"], None),
    (["vi", "/var/log/chef_cron/chef-cron.log"], None),
    (["tail", "-f", "/var/log/chef-client.log"], None),
    ([OMNIBUS_RUBY, "/opt/chef/bin/chef-client.log", "-d"], None),
    ([], None),
])
def test_classify_table(argv: list[str], expected: str | None) -> None:
    assert daemon.classify(argv) == expected


NAMESPACE = "pid:[4026531836]"
OTHER_NAMESPACE = "pid:[4026532999]"
SELF_PID = 100


UPTIME = 10000.0
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def started_ago(seconds: float) -> int:
    """Return the /proc/PID/stat start time of a process that started ``seconds`` before UPTIME."""
    return round((UPTIME - seconds) * TICKS_PER_SECOND)


class FakeProc:
    """A /proc tree with only the entries that daemon.Scanner reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "uptime").write_text("%.2f 50000.00\n" % UPTIME)
        self.add(1, "/usr/lib/systemd/systemd", ["/sbin/init"], ppid=0, pgid=1)
        self.add(50, "/usr/sbin/cron", ["/usr/sbin/CRON", "-f"], ppid=1, pgid=50)
        self.add(SELF_PID, "/usr/bin/python3.11", ["/usr/bin/python3", "-I", "/usr/local/sbin/chef-cron", "run"],
                 ppid=50, pgid=SELF_PID)

    def add(self, pid: int, exe: str, argv: list[str], ppid: int = 1, pgid: int | None = None,
            state: str = "S", namespace: str = NAMESPACE, uids: tuple[int, int] = (0, 0),
            environ: dict[str, str] | None = None, start_ticks: int | None = None) -> None:
        directory = self.root / str(pid)
        (directory / "ns").mkdir(parents=True)
        (directory / "exe").symlink_to(exe)
        (directory / "ns" / "pid").symlink_to(namespace)
        (directory / "cmdline").write_bytes(b"\0".join(word.encode() for word in argv) + b"\0")
        if environ is not None:
            (directory / "environ").write_bytes(
                b"".join(("%s=%s" % item).encode() + b"\0" for item in environ.items()))
        pgid = pid if pgid is None else pgid
        stat = "%d (%s) %s %d %d %d 0 -1" % (pid, "a (b) c", state, ppid, pgid, pgid)
        if start_ticks is not None:
            # Fields 9 to 21 (flags to itrealvalue), then field 22, the start time.
            stat += " 0" * 13 + " %d" % start_ticks
        (directory / "stat").write_text(stat + "\n")
        real, effective = uids
        (directory / "status").write_text("Name:\tchef-client\nUid:\t%d\t%d\t%d\t%d\n"
                                          % (real, effective, effective, effective))

    def scanner(self) -> daemon.Scanner:
        return daemon.Scanner(str(self.root), SELF_PID, runner_names=frozenset(("chef-cron",)))

    def scan(self) -> dict[int, str]:
        return {process.pid: process.kind for process in self.scanner().scan()}

    def split(self) -> tuple[list[int], list[int]]:
        """Return the pids of the orphaned runs and of the other foreground runs."""
        scanner = self.scanner()
        orphans, others = daemon.split_foreground(scanner.scan(), scanner)
        return [process.pid for process in orphans], [process.pid for process in others]


DAEMON_ARGV = [OMNIBUS_RUBY, "--disable-gems", OMNIBUS_CHEF, "-d", "-i", "1800"]
ONCE_ARGV = [OMNIBUS_RUBY, OMNIBUS_CHEF, "--once"]
RUNNER_ARGV = ["/usr/bin/python3", "-I", "/usr/local/sbin/chef-cron", "run", "--timeout", "3600"]
MARKER = {"HOME": "/root", "CHEF_CRON_RUN": "1"}


@pytest.fixture
def proc(tmp_path: Path) -> FakeProc:
    return FakeProc(tmp_path)


def test_scan_finds_daemon(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV)
    assert proc.scan() == {200: daemon.DAEMON}


def test_scan_finds_foreground(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, [OMNIBUS_RUBY, OMNIBUS_CHEF, "--once"])
    assert proc.scan() == {200: daemon.FOREGROUND}


def test_scan_worker_of_daemon_is_daemon(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV)
    proc.add(201, OMNIBUS_RUBY, ["chef-client worker: ppid=200;start=10:00:00;"], ppid=200, pgid=200)
    assert proc.scan()[201] == daemon.DAEMON


def test_scan_worker_of_foreground_is_foreground(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, [OMNIBUS_RUBY, OMNIBUS_CHEF, "--once"])
    proc.add(201, OMNIBUS_RUBY, ["chef-client worker: ppid=200;start=10:00:00;"], ppid=200, pgid=200)
    assert proc.scan()[201] == daemon.FOREGROUND


def test_scan_orphan_worker_is_daemon(proc: FakeProc) -> None:
    proc.add(201, OMNIBUS_RUBY, ["chef-client worker: ppid=200;start=10:00:00;"])
    assert proc.scan() == {201: daemon.DAEMON}


def test_scan_skips_other_namespace(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV, namespace=OTHER_NAMESPACE)
    assert proc.scan() == {}


def test_scan_skips_own_process_group(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV, ppid=1, pgid=SELF_PID)
    assert proc.scan() == {}


def test_scan_skips_ancestor(proc: FakeProc) -> None:
    # A chef-client daemon that started the runner, e.g. through a cron-like hook.
    proc.add(40, OMNIBUS_RUBY, DAEMON_ARGV, ppid=1)
    (proc.root / "50" / "stat").write_text("50 (cron) S 40 50 50 0 -1\n")
    assert proc.scan() == {}


def test_scan_skips_zombie(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV, state="Z")
    assert proc.scan() == {}


@pytest.mark.parametrize(("exe", "argv"), [
    ("/usr/bin/vim.basic", ["vi", "/var/log/chef_cron/chef-cron.log"]),
    ("/usr/bin/tail", ["tail", "-f", "/var/log/chef_cron/chef-cron.log"]),
    ("/usr/bin/python3.11", ["/usr/bin/python3", "-I", "/usr/local/sbin/chef-cron", "run"]),
    # A process that only pretends to be chef-client on its command line.
    ("/usr/bin/python3.11", ["chef-client", "-d", "-i", "1800"]),
])
def test_scan_skips_non_chef(proc: FakeProc, exe: str, argv: list[str]) -> None:
    proc.add(200, exe, argv)
    assert proc.scan() == {}


@pytest.mark.parametrize("uids", [(1000, 1000), (1000, 0), (0, 1000)])
def test_scan_skips_non_root(proc: FakeProc, uids: tuple[int, int]) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV, uids=uids)
    proc.add(201, OMNIBUS_RUBY, [OMNIBUS_RUBY, OMNIBUS_CHEF, "--once"], uids=uids)
    assert proc.scan() == {}


def test_scan_logs_non_root_once(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    proc.add(200, "/tmp/chef-client", ["/tmp/chef-client", "--once"], uids=(1000, 1000))
    scanner = daemon.Scanner(str(proc.root), SELF_PID)
    with caplog.at_level(logging.WARNING, logger="chef_cron.daemon"):
        scanner.scan()
        scanner.scan()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["ignoring pid 200 (uid 1000): looks like chef-client but is not root's: "
                        "/tmp/chef-client --once"]


def test_scan_escapes_lookalike_command_line(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    forged = "x\n2024-01-01 00:00:00 INFO chef-client finished"
    proc.add(200, "/tmp/chef-client", ["/tmp/chef-client", "--once", forged, "A" * 120_000],
             uids=(1000, 1000))
    with caplog.at_level(logging.WARNING, logger="chef_cron.daemon"):
        proc.scanner().scan()
    [message] = [record.getMessage() for record in caplog.records]
    assert "\n" not in message
    assert "x\\n2024-01-01" in message
    assert message.endswith(" more bytes)")
    assert len(message) < 400


def test_scan_caps_lookalike_warnings(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    for pid in range(200, 250):
        proc.add(pid, "/tmp/chef-client", ["/tmp/chef-client", "-d"], uids=(1000, 1000))
    scanner = proc.scanner()
    with caplog.at_level(logging.WARNING, logger="chef_cron.daemon"):
        scanner.scan()
        scanner.scan()
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == daemon.MAX_LOOKALIKE_WARNINGS + 1
    assert all(message.startswith("ignoring pid ") for message in messages[:-1])
    assert messages[-1] == "ignored 45 more look-alike processes of other users"


def test_scan_skips_unreadable_status(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV)
    (proc.root / "200" / "status").unlink()
    assert proc.scan() == {}


def test_scan_skips_unreadable_namespace(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV)
    (proc.root / "200" / "ns" / "pid").unlink()
    assert proc.scan() == {}


@pytest.mark.parametrize(("environ", "expected"), [
    (MARKER, True),
    ({"CHEF_CRON_RUN": "0"}, False),
    ({"CHEF_CRON_RUN": "1 "}, False),
    ({"OTHER": "CHEF_CRON_RUN=1"}, False),
    ({}, False),
])
def test_scan_reads_marker(proc: FakeProc, environ: dict[str, str], expected: bool) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=environ)
    assert proc.scanner().scan()[0].marked is expected


def test_scan_unreadable_environ_unmarked(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV)
    assert proc.scanner().scan()[0].marked is False


def test_scan_reads_start_ticks(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, start_ticks=123456)
    assert proc.scanner().scan()[0].start_ticks == 123456


def test_scan_short_stat_no_start_ticks(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV)
    assert proc.scanner().scan()[0].start_ticks is None


def test_age_seconds_from_start_ticks(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, start_ticks=started_ago(4000))
    scanner = proc.scanner()
    assert scanner.age_seconds(scanner.scan()[0]) == pytest.approx(4000, abs=0.1)


def test_age_seconds_without_uptime(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, start_ticks=started_ago(4000))
    (proc.root / "uptime").unlink()
    scanner = proc.scanner()
    assert scanner.age_seconds(scanner.scan()[0]) is None


@pytest.mark.parametrize(("argv", "expected"), [
    (RUNNER_ARGV, True),
    (["/usr/local/sbin/chef-cron", "run"], True),
    (["/usr/bin/python3", "-m", "chef_cron", "run", "--timeout", "60"], True),
    (["/usr/bin/python3", "-I", "/usr/local/sbin/chef-cron", "status", "--max-age", "7200"], False),
    (["/usr/bin/python3", "-I", "/usr/local/sbin/other", "run"], False),
    (["/usr/bin/vim", "/usr/local/sbin/chef-cron"], False),
    (["chef_cron", "run"], False),
    ([], False),
])
def test_is_runner_command_table(argv: list[str], expected: bool) -> None:
    assert daemon.is_runner_command(argv) is expected


def test_is_runner_command_other_name() -> None:
    argv = ["/usr/bin/python3", "-I", "/opt/bin/chef-runner", "run"]
    assert daemon.is_runner_command(argv, frozenset(("chef-cron", "chef-runner"))) is True


def test_ancestors_up_to_init(proc: FakeProc) -> None:
    proc.add(300, "/usr/bin/dash", ["/bin/sh", "-c", "x"], ppid=50)
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300)
    assert proc.scanner().ancestors(301) == [300, 50, 1]


def test_ancestors_stops_at_cycle(proc: FakeProc) -> None:
    proc.add(300, "/usr/bin/dash", ["/bin/sh"], ppid=301)
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300)
    assert proc.scanner().ancestors(301) == [300]


def test_split_orphan_of_init(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER)
    assert proc.split() == ([200], [])


def test_split_child_of_live_runner(proc: FakeProc) -> None:
    proc.add(300, "/usr/bin/python3.11", RUNNER_ARGV, ppid=50)
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300, environ=MARKER)
    assert proc.split() == ([], [301])


def test_split_child_of_zombie_runner(proc: FakeProc) -> None:
    proc.add(300, "/usr/bin/python3.11", RUNNER_ARGV, ppid=50, state="Z")
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300, environ=MARKER)
    assert proc.split() == ([301], [])


def test_split_runner_is_init(tmp_path: Path) -> None:
    # A container whose PID 1 is the runner itself.
    proc = FakeProc(tmp_path)
    (tmp_path / "1" / "cmdline").write_bytes(b"\0".join(word.encode() for word in RUNNER_ARGV) + b"\0")
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER)
    assert proc.split() == ([], [200])


def test_split_below_live_runner_further_up(proc: FakeProc) -> None:
    # A recipe runs chef-client through a shell: the runner is the grandparent.
    proc.add(300, "/usr/bin/python3.11", RUNNER_ARGV, ppid=50)
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300, environ=MARKER)
    proc.add(302, "/usr/bin/dash", ["/bin/sh", "-c", "chef-client -z"], ppid=301, pgid=302)
    proc.add(303, OMNIBUS_RUBY, [OMNIBUS_RUBY, OMNIBUS_CHEF, "-z"], ppid=302, pgid=302, environ=MARKER)
    assert proc.split() == ([], [301, 303])


def test_split_parent_not_a_run(proc: FakeProc) -> None:
    proc.add(300, "/usr/bin/python3.11", ["/usr/bin/python3", "/usr/local/sbin/chef-cron", "status"], ppid=50)
    proc.add(301, OMNIBUS_RUBY, ONCE_ARGV, ppid=300, environ=MARKER)
    assert proc.split() == ([301], [])


def test_split_admin_run_unmarked(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ={"HOME": "/root"})
    assert proc.split() == ([], [200])


@pytest.mark.parametrize("environ", [MARKER, {"HOME": "/root"}])
def test_split_run_below_orphan_left_out(proc: FakeProc, environ: dict[str, str]) -> None:
    # Ending the orphan's tree ends the chef-client below it too.
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER)
    proc.add(201, OMNIBUS_RUBY, ["chef-client worker: ppid=200;start=10:00:00;"], ppid=200, pgid=200,
             environ=environ)
    proc.add(202, OMNIBUS_RUBY, [OMNIBUS_RUBY, OMNIBUS_CHEF, "-z"], ppid=200, pgid=202, environ=environ)
    assert proc.split() == ([200], [])


def test_split_ignores_daemons(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, DAEMON_ARGV, environ=MARKER)
    assert proc.split() == ([], [])


def test_split_ignores_non_root(proc: FakeProc) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER, uids=(1000, 1000))
    assert proc.split() == ([], [])


def _handle(proc: FakeProc, timeout: float, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    scanner = proc.scanner()
    orphan = scanner.scan()[0]
    with caplog.at_level(logging.WARNING, logger="chef_cron.daemon"), SignalWatcher() as watcher:
        state = daemon._handle_orphan(orphan, timeout, 1, scanner, watcher)
    return state, caplog.records[-1].getMessage()


def test_handle_orphan_within_timeout(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER, start_ticks=started_ago(3000.5))
    state, message = _handle(proc, 3600, caplog)
    assert state == daemon.BUSY
    assert message == ("pid 200 is an orphaned chef-client from an earlier chef-cron run, running 3000 s, "
                       "within the 3600 s timeout; skipping this run and leaving it alone: "
                       "%s %s --once" % (OMNIBUS_RUBY, OMNIBUS_CHEF))


def test_handle_orphan_at_timeout_is_within(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER, start_ticks=started_ago(3600.5))
    state, message = _handle(proc, 3600, caplog)
    assert state == daemon.BUSY
    assert "running 3600 s, within the 3600 s timeout" in message


def test_handle_orphan_no_timeout(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER, start_ticks=started_ago(90000))
    state, message = _handle(proc, 0, caplog)
    assert state == daemon.BUSY
    assert "running 90000 s, and --timeout 0 sets no limit; skipping this run" in message


def test_handle_orphan_unknown_age(proc: FakeProc, caplog: pytest.LogCaptureFixture) -> None:
    proc.add(200, OMNIBUS_RUBY, ONCE_ARGV, environ=MARKER)
    state, message = _handle(proc, 3600, caplog)
    assert state == daemon.BUSY
    assert "its start time cannot be read" in message


@pytest.mark.parametrize(("content", "expected"), [("1234\n", 1234), ("", None), ("abc", None)])
def test_read_pid_file_table(tmp_path: Path, content: str, expected: int | None) -> None:
    path = tmp_path / "client.pid"
    path.write_text(content)
    assert daemon.read_pid_file(str(path)) == expected


def test_read_pid_file_missing(tmp_path: Path) -> None:
    assert daemon.read_pid_file(str(tmp_path / "missing")) is None


def _fake_systemctl(tmp_path: Path, load_state: str) -> Path:
    path = tmp_path / "systemctl"
    path.write_text("#!/bin/sh\necho %s\n" % load_state)
    path.chmod(0o755)
    return path


def test_service_stop_command_systemd_unit(tmp_path: Path) -> None:
    systemctl = _fake_systemctl(tmp_path, "loaded")
    (tmp_path / "systemd").mkdir()
    command = daemon.service_stop_command(str(tmp_path / "systemd"), str(tmp_path / "missing"), str(systemctl))
    assert command == [str(systemctl), "stop", "chef-client.service"]


def test_service_stop_command_systemd_no_unit(tmp_path: Path) -> None:
    systemctl = _fake_systemctl(tmp_path, "not-found")
    (tmp_path / "systemd").mkdir()
    command = daemon.service_stop_command(str(tmp_path / "systemd"), str(tmp_path / "missing"), str(systemctl))
    assert command is None


def test_service_stop_command_init_script(tmp_path: Path) -> None:
    script = tmp_path / "chef-client"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    command = daemon.service_stop_command(str(tmp_path / "no-systemd"), str(script))
    assert command == [str(script), "stop"]


def test_service_stop_command_none(tmp_path: Path) -> None:
    assert daemon.service_stop_command(str(tmp_path / "no-systemd"), str(tmp_path / "missing")) is None


# The tests below start and kill real processes, so they run in the container.


@pytest.fixture
def processes(tmp_path: Path):
    started = fakes.Processes(tmp_path)
    yield started
    started.close()


def _stop(log_fd: int = 2, grace: float = 5, **kwargs: object) -> str:
    with SignalWatcher() as watcher:
        return daemon.stop_leftovers(watcher, grace, log_fd, {"PATH": "/usr/bin:/bin"}, **kwargs).state


@pytest.mark.container
def test_stop_leftovers_kills_daemon(processes: fakes.Processes) -> None:
    target = processes.chef("-d", "-i", "1800")
    processes.wait_running(target)
    assert _stop() == daemon.CLEAR
    assert target.wait(timeout=5) == -signal.SIGTERM


@pytest.mark.container
def test_stop_leftovers_kills_term_ignoring_daemon(processes: fakes.Processes) -> None:
    target = processes.chef("-d", "-i", "1800", "ignore-term")
    processes.wait_running(target)
    time.sleep(0.3)  # let the script install its SIG_IGN
    assert _stop(grace=1) == daemon.CLEAR
    assert target.wait(timeout=5) == -signal.SIGKILL


@pytest.mark.container
def test_stop_leftovers_busy_on_foreground_run(processes: fakes.Processes) -> None:
    admin = processes.chef("--once")
    leftover = processes.chef("-d", "-i", "1800")
    processes.wait_running(admin)
    processes.wait_running(leftover)
    assert _stop() == daemon.BUSY
    assert admin.poll() is None
    assert leftover.poll() is None


@pytest.mark.container
@pytest.mark.parametrize("name", ["vi", "tail", "python3"])
def test_stop_leftovers_spares_lookalike(processes: fakes.Processes, name: str) -> None:
    # Not chef-client executables, even with a daemon-like command line.
    executable = processes._copy_python(name)
    lookalike = processes.start(executable, [name, str(processes.sleeper), "chef-client", "-d", "-i", "1800"])
    time.sleep(0.3)
    assert _stop() == daemon.CLEAR
    assert lookalike.poll() is None


@pytest.mark.container
def test_stop_leftovers_spares_non_root_daemon(processes: fakes.Processes) -> None:
    lookalike = processes.chef_as_nobody("-d", "-i", "1800")
    processes.wait_running(lookalike)
    assert _stop(grace=1) == daemon.CLEAR
    assert lookalike.poll() is None


@pytest.mark.container
def test_stop_leftovers_ignores_non_root_foreground(processes: fakes.Processes) -> None:
    lookalike = processes.chef_as_nobody("--once")
    processes.wait_running(lookalike)
    assert _stop() == daemon.CLEAR
    assert lookalike.poll() is None


@pytest.mark.container
def test_stop_leftovers_non_root_lookalike_is_visible(processes: fakes.Processes) -> None:
    # The two tests above prove something only if root can read the
    # look-alike's /proc entries, as on a real host (CAP_SYS_PTRACE).
    lookalike = processes.chef_as_nobody("--once")
    processes.wait_running(lookalike)
    assert os.readlink("/proc/%d/exe" % lookalike.pid).endswith("/chef-client")


@pytest.mark.container
def test_stop_leftovers_runs_init_script(tmp_path: Path, processes: fakes.Processes) -> None:
    called = tmp_path / "called"
    script = tmp_path / "chef-client-init"
    script.write_text("#!/bin/sh\necho \"$@\" > %s\n" % called)
    script.chmod(0o755)
    assert _stop(init_script=str(script), systemd_dir=str(tmp_path / "no-systemd")) == daemon.CLEAR
    assert called.read_text() == "stop\n"


@pytest.mark.container
def test_stop_leftovers_spares_own_parent(tmp_path: Path, processes: fakes.Processes) -> None:
    # A daemon-looking parent starts the scan as its child in a new session, so
    # only the ancestor rule protects it.
    result = tmp_path / "result"
    scan = tmp_path / "scan.py"
    scan.write_text(
        "import sys\n"
        "sys.path.insert(0, %r)\n"
        "from chef_cron import daemon\n"
        "from chef_cron.signals import SignalWatcher\n"
        "with SignalWatcher() as watcher:\n"
        "    print(daemon.stop_leftovers(watcher, 2, 2, {}).state)\n" % str(Path(__file__).resolve().parents[1])
    )
    script = tmp_path / "opt" / "chef-client"
    script.parent.mkdir()
    script.write_text(
        "import subprocess\n"
        "output = subprocess.run([%r, %r], capture_output=True, text=True, start_new_session=True).stdout\n"
        "open(%r, 'w').write(output)\n" % (sys.executable, str(scan), str(result))
    )
    parent = subprocess.run(["ruby", str(script), "-d", "-i", "1800"], executable=str(processes.ruby),
                            capture_output=True, text=True, timeout=30, check=False)
    assert parent.returncode == 0, parent.stderr
    assert result.read_text().strip() == daemon.CLEAR


@pytest.mark.parametrize(("grace", "expected"), [(0, 30), (10, 30), (120, 120)])
def test_stop_service_always_bounded(monkeypatch: pytest.MonkeyPatch, grace: int, expected: int) -> None:
    timeouts = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        timeouts.append(kwargs["timeout"])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    daemon._stop_service(["systemctl", "stop", daemon.SYSTEMD_UNIT], 2, {}, grace)
    assert timeouts == [expected]
