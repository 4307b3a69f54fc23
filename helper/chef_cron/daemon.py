"""Find and stop a chef-client daemon left running next to the cron runs.

A node converged from cron must not also run the chef-client daemon: two
converges at once fight over packages and files. The runner first stops the
daemon through the service manager, then scans /proc for what is left.

Which processes count as chef-client (see ``classify``):

* The executable (/proc/PID/exe) is a ruby interpreter (``ruby``, ``ruby3.1``)
  or a file named ``chef-client``. Editors, ``tail -f`` of the log and other
  chef-cron runners (python3) never match, whatever their command line.
* The command line runs chef-client: argv[0] is ``chef-client``, or a ruby
  interpreter whose script (after ruby's own options) is named ``chef-client``,
  or argv[0] is ``chef-client worker: ...``, the title chef-client gives the
  child it forks for each run of a daemon.

A chef-client is a daemon when its arguments contain ``-d``/``--daemonize`` or
``-i``/``--interval`` and not ``--once``. Any other chef-client, such as
``chef-client --once`` or a plain ``chef-client`` typed by an admin, is a
foreground run. It is never signalled, and the cron run is skipped instead,
because killing a converge half-way is worse than skipping one cron run.
A forked worker counts as whatever its parent is, and as a daemon when its
parent is gone.

The one exception is an orphaned run (see ``split_foreground``): a
foreground chef-client with CHEF_CRON_RUN=1 in /proc/PID/environ, which
chef-cron gives every chef-client it starts, and with no live chef-cron
runner among its ancestors. Its runner died, by SIGKILL for instance, so no
timeout applies to it any more. Once it has run longer than this run's
``--timeout``, every process group in its tree is ended as a timeout ends
chef-client's, including commands that run as other users, and the run goes
on. Until then the run is skipped.

Only root's processes count: both the real and the effective uid in
/proc/PID/status must be 0. Any user can copy a program to a file named
chef-client and run it, so a look-alike of another user is ignored with one
warning line. It is never signalled and never makes the run skip. A process
whose /proc entries cannot be read (another user's process when the runner
lacks CAP_SYS_PTRACE) does not count either. At most
MAX_LOOKALIKE_WARNINGS look-alikes are logged per Scanner, that is per run,
and a scan that finds more logs one line with their count.

Every command line from /proc is logged through ``printable.printable``, so
it is escaped and cut to one short line.

Never signalled, even when they match: the runner itself, its ancestors,
members of its process group, zombies, and processes in another PID
namespace (such as containers on the same host).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys

from chef_cron import defaults, proctree
from chef_cron.printable import decode, printable
from chef_cron.child import RUN_MARKER
from chef_cron.signals import SignalWatcher

PROC_ROOT = "/proc"
PID_FILE = "/var/run/chef/client.pid"
SYSTEMD_RUNTIME_DIR = "/run/systemd/system"
INIT_SCRIPT = "/etc/init.d/chef-client"
SYSTEMD_UNIT = "chef-client.service"
# How long to wait for processes to disappear after SIGKILL.
KILL_WAIT_SECONDS = 5.0
POLL_SECONDS = 0.1

DAEMON = "daemon"
FOREGROUND = "foreground"
WORKER = "worker"

# States of stop_leftovers.
CLEAR = "clear"
BUSY = "busy"
SIGNALLED = "signalled"
# State of _handle_orphan when it signalled the orphan's tree and the orphan has ended.
_ENDED = "ended"

_RUBY_NAME = re.compile(r"ruby[0-9.]*")
# ruby options that take the next word as their value when given alone.
_RUBY_OPTIONS_WITH_VALUE = frozenset(("-C", "-E", "-I", "-r", "--encoding"))
_WORKER_TITLE = "chef-client worker:"
# Basename of the installed runner. A runner installed under another name
# still recognises runners of its own name (see Scanner).
RUNNER_NAME = "chef-cron"
# Look-alikes of other users logged one by one per Scanner. Any user can start
# many, so the rest only add to a count.
MAX_LOOKALIKE_WARNINGS = 5
# Field 22 of /proc/PID/stat, as an index into the fields after the command name.
_STARTTIME_INDEX = 19

log = logging.getLogger(__name__)


class ChefProcess:
    """A chef-client process found in /proc.

    ``start_ticks`` is its start time in clock ticks since boot, None if
    unknown. ``marked`` is True when its environment contains CHEF_CRON_RUN=1.
    ``cmdline`` is the command line escaped and cut for the log (see printable).
    """

    __slots__ = ("pid", "ppid", "pgid", "kind", "cmdline", "start_ticks", "marked")

    def __init__(self, pid: int, ppid: int, kind: str, cmdline: str, pgid: int = 0,
                 start_ticks: int | None = None, marked: bool = False) -> None:
        self.pid = pid
        self.ppid = ppid
        self.pgid = pgid
        self.kind = kind
        self.cmdline = cmdline
        self.start_ticks = start_ticks
        self.marked = marked

    def with_kind(self, kind: str) -> ChefProcess:
        """Return a copy of this process with ``kind`` in place of its own."""
        return ChefProcess(self.pid, self.ppid, kind, self.cmdline, self.pgid, self.start_ticks, self.marked)


def is_chef_executable(exe: str) -> bool:
    """Return True if ``exe`` (a /proc/PID/exe target) is a ruby interpreter or chef-client."""
    if exe.endswith(" (deleted)"):
        # The package was upgraded under a running daemon.
        exe = exe[: -len(" (deleted)")]
    name = os.path.basename(exe)
    return name == "chef-client" or _RUBY_NAME.fullmatch(name) is not None


def chef_arguments(argv: list[str]) -> list[str] | None:
    """Return the arguments given to chef-client, or None if ``argv`` does not run chef-client."""
    if not argv:
        return None
    if os.path.basename(argv[0]) == "chef-client":
        return argv[1:]
    if _RUBY_NAME.fullmatch(os.path.basename(argv[0])) is None:
        return None
    index = 1
    while index < len(argv) and argv[index].startswith("-"):
        option = argv[index]
        if option == "-e":
            # ruby -e runs inline code, not a script.
            return None
        index += 1
        if option == "--":
            break
        if option in _RUBY_OPTIONS_WITH_VALUE:
            index += 1
    if index < len(argv) and os.path.basename(argv[index]) == "chef-client":
        return argv[index + 1 :]
    return None


def _is_daemon_option(word: str) -> bool:
    if word in ("-d", "--daemonize", "-i", "--interval"):
        return True
    if word.startswith(("--daemonize=", "--interval=")):
        return True
    # Short options with an attached value, such as -i1800.
    return word.startswith("-i") and word[2:].isdigit()


def classify(argv: list[str]) -> str | None:
    """Return DAEMON, FOREGROUND or WORKER for a chef-client command line, None for anything else."""
    if argv and argv[0].startswith(_WORKER_TITLE):
        return WORKER
    arguments = chef_arguments(argv)
    if arguments is None:
        return None
    if "--once" in arguments:
        return FOREGROUND
    if any(_is_daemon_option(word) for word in arguments):
        return DAEMON
    return FOREGROUND


def is_runner_command(argv: list[str], names: frozenset[str] = frozenset((RUNNER_NAME,))) -> bool:
    """Return True if ``argv`` runs ``chef-cron run``.

    That is a script whose basename is in ``names``, or ``-m chef_cron``,
    followed later by the word ``run``.
    """
    for index, word in enumerate(argv):
        if os.path.basename(word) in names or (word == "chef_cron" and argv[index - 1 : index] == ["-m"]):
            return "run" in argv[index + 1 :]
    return False


class _Stat:
    __slots__ = ("state", "ppid", "pgid", "start_ticks")

    def __init__(self, state: str, ppid: int, pgid: int, start_ticks: int | None = None) -> None:
        self.state = state
        self.ppid = ppid
        self.pgid = pgid
        self.start_ticks = start_ticks


def _read_stat(proc_root: str, pid: int) -> _Stat | None:
    try:
        with open("%s/%d/stat" % (proc_root, pid), "rb") as stream:
            data = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name in brackets may contain spaces and brackets itself.
    fields = data[data.rfind(")") + 2 :].split()
    try:
        info = _Stat(state=fields[0], ppid=int(fields[1]), pgid=int(fields[2]))
    except (IndexError, ValueError):
        return None
    try:
        info.start_ticks = int(fields[_STARTTIME_INDEX])
    except (IndexError, ValueError):
        pass
    return info


def _read_cmdline(proc_root: str, pid: int) -> list[str]:
    try:
        with open("%s/%d/cmdline" % (proc_root, pid), "rb") as stream:
            data = stream.read()
    except OSError:
        return []
    words = decode(data).split("\0")
    while words and not words[-1]:
        words.pop()
    return words


def _read_marker(proc_root: str, pid: int) -> bool:
    """Return True if the environment that ``pid`` was started with contains CHEF_CRON_RUN=1."""
    try:
        with open("%s/%d/environ" % (proc_root, pid), "rb") as stream:
            data = stream.read()
    except OSError:
        return False
    return ("%s=1" % RUN_MARKER).encode("ascii") in data.split(b"\0")


def _read_uptime(proc_root: str) -> float | None:
    try:
        with open("%s/uptime" % proc_root, "rb") as stream:
            return float(stream.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _read_uids(proc_root: str, pid: int) -> tuple[int, int] | None:
    """Return the real and effective uid of ``pid``, or None if its status cannot be read."""
    try:
        with open("%s/%d/status" % (proc_root, pid), "rb") as stream:
            data = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    for line in data.splitlines():
        if line.startswith("Uid:"):
            fields = line.split()
            try:
                return int(fields[1]), int(fields[2])
            except (IndexError, ValueError):
                return None
    return None


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


class Scanner:
    """Find chef-client processes in ``proc_root`` as seen from process ``self_pid``.

    ``runner_names`` are the script basenames that mark a process as a
    chef-cron runner. By default they are ``chef-cron`` and the name this
    runner was started under.
    """

    def __init__(self, proc_root: str = PROC_ROOT, self_pid: int | None = None,
                 runner_names: frozenset[str] | None = None) -> None:
        self.proc_root = proc_root
        self.self_pid = os.getpid() if self_pid is None else self_pid
        if runner_names is None:
            own_name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else RUNNER_NAME
            runner_names = frozenset((RUNNER_NAME, own_name))
        self.runner_names = runner_names
        self.pid_namespace = _readlink("%s/%d/ns/pid" % (proc_root, self.self_pid))
        own = _read_stat(proc_root, self.self_pid)
        self.pgid = own.pgid if own is not None else None
        self.protected = self._ancestors()
        # Look-alikes already seen, so that repeated scans count each once.
        self.ignored: set[int] = set()
        # Look-alikes seen since the last scan but not logged one by one.
        self.unlogged_lookalikes = 0

    def _ancestors(self) -> frozenset[int]:
        pids = {self.self_pid}
        pid = self.self_pid
        while pid > 1:
            info = _read_stat(self.proc_root, pid)
            if info is None or info.ppid in pids:
                break
            pid = info.ppid
            pids.add(pid)
        return frozenset(pids)

    def inspect(self, pid: int) -> ChefProcess | None:
        """Return the chef-client process ``pid``, or None if it fails any check in the module doc."""
        if pid in self.protected:
            return None
        exe = _readlink("%s/%d/exe" % (self.proc_root, pid))
        if exe is None or not is_chef_executable(exe):
            return None
        if self.pid_namespace is None:
            # Without our own namespace id nothing can be verified.
            return None
        if _readlink("%s/%d/ns/pid" % (self.proc_root, pid)) != self.pid_namespace:
            return None
        info = _read_stat(self.proc_root, pid)
        if info is None or info.state == "Z" or info.pgid == self.pgid:
            return None
        argv = _read_cmdline(self.proc_root, pid)
        kind = classify(argv)
        if kind is None:
            return None
        if not self._owned_by_root(pid, argv):
            return None
        return ChefProcess(pid=pid, ppid=info.ppid, kind=kind, cmdline=printable(" ".join(argv)), pgid=info.pgid,
                           start_ticks=info.start_ticks, marked=_read_marker(self.proc_root, pid))

    def _owned_by_root(self, pid: int, argv: list[str]) -> bool:
        uids = _read_uids(self.proc_root, pid)
        if uids == (0, 0):
            return True
        if pid in self.ignored:
            return False
        self.ignored.add(pid)
        if len(self.ignored) > MAX_LOOKALIKE_WARNINGS:
            self.unlogged_lookalikes += 1
            return False
        if uids is None:
            owner = "uid unknown"
        elif uids[0] == uids[1]:
            owner = "uid %d" % uids[0]
        else:
            owner = "real uid %d, effective uid %d" % uids
        log.warning("ignoring pid %d (%s): looks like chef-client but is not root's: %s",
                    pid, owner, printable(" ".join(argv)))
        return False

    def scan(self) -> list[ChefProcess]:
        """Return every chef-client process, with workers resolved to their parent's kind."""
        found: dict[int, ChefProcess] = {}
        for entry in os.listdir(self.proc_root):
            if entry.isdigit():
                process = self.inspect(int(entry))
                if process is not None:
                    found[process.pid] = process
        if self.unlogged_lookalikes:
            log.warning("ignored %d more look-alike processes of other users", self.unlogged_lookalikes)
            self.unlogged_lookalikes = 0
        resolved = []
        for process in found.values():
            if process.kind == WORKER:
                parent = found.get(process.ppid)
                kind = parent.kind if parent is not None and parent.kind != WORKER else DAEMON
                process = process.with_kind(kind)
            resolved.append(process)
        return sorted(resolved, key=lambda process: process.pid)

    def ancestors(self, pid: int) -> list[int]:
        """Return the pids of the parent, grandparent and so on of ``pid``, up to and with init."""
        found: list[int] = []
        info = _read_stat(self.proc_root, pid)
        while info is not None and info.ppid > 0 and info.ppid not in found and info.ppid != pid:
            found.append(info.ppid)
            if info.ppid == 1:
                break
            info = _read_stat(self.proc_root, info.ppid)
        return found

    def is_live_runner(self, pid: int) -> bool:
        """Return True if ``pid`` is a chef-cron runner that is not a zombie."""
        return self.alive(pid) and is_runner_command(_read_cmdline(self.proc_root, pid), self.runner_names)

    def age_seconds(self, process: ChefProcess) -> float | None:
        """Return how many seconds ago ``process`` started, or None if that cannot be read."""
        uptime = _read_uptime(self.proc_root)
        if uptime is None or process.start_ticks is None:
            return None
        try:
            ticks_per_second = os.sysconf("SC_CLK_TCK")
        except (ValueError, OSError):
            return None
        return uptime - process.start_ticks / ticks_per_second

    def same_process(self, process: ChefProcess) -> bool:
        """Return True while ``process`` is alive and still passes the checks that found it.

        A pid and a start time together name one process, so a pid reused
        since the scan does not count.
        """
        current = self.inspect(process.pid)
        return (current is not None and current.start_ticks == process.start_ticks
                and current.marked == process.marked)

    def alive(self, pid: int) -> bool:
        """Return True while ``pid`` exists and is not a zombie."""
        info = _read_stat(self.proc_root, pid)
        return info is not None and info.state != "Z"


def read_pid_file(path: str) -> int | None:
    """Return the pid stored in ``path``, or None if the file is missing or invalid."""
    try:
        with open(path, encoding="ascii") as stream:
            return int(stream.read().strip())
    except (OSError, ValueError):
        return None


def service_stop_command(
    systemd_dir: str = SYSTEMD_RUNTIME_DIR,
    init_script: str = INIT_SCRIPT,
    systemctl: str = "systemctl",
    env: dict[str, str] | None = None,
) -> list[str] | None:
    """Return the command that stops the chef-client service, or None if there is no service.

    systemd is PID 1 when ``systemd_dir`` exists (the test sd_booted(3) makes).
    """
    import subprocess

    if os.path.isdir(systemd_dir):
        try:
            result = subprocess.run(
                [systemctl, "show", "--property=LoadState", "--value", SYSTEMD_UNIT],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=env, close_fds=True, timeout=30, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("cannot query systemd for %s: %s", SYSTEMD_UNIT, error)
        else:
            if result.stdout.strip() == b"loaded":
                return [systemctl, "stop", SYSTEMD_UNIT]
    if os.path.isfile(init_script) and os.access(init_script, os.X_OK):
        return [init_script, "stop"]
    return None


def _stop_service(command: list[str], log_fd: int, env: dict[str, str], grace: float) -> None:
    import subprocess

    timeout = max(grace, defaults.MIN_SERVICE_STOP_SECONDS)
    log.info("stopping the chef-client service: %s", " ".join(command))
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            env=env, cwd="/", close_fds=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        # The /proc scan below still finds and stops the daemon.
        log.warning("stopping the chef-client service failed: %s", error)
        return
    if result.returncode != 0:
        log.warning("%s exited with code %d", " ".join(command), result.returncode)


def _send(process: ChefProcess, signum: int, scanner: Scanner) -> bool:
    """Signal ``process`` if it is still the process that was verified, and return True if sent."""
    pidfd = None
    try:
        # A pidfd pins the process, so the check below and the signal are
        # about the same process even if the pid is reused in between.
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        pass
    try:
        current = scanner.inspect(process.pid)
        if current is None or current.kind != DAEMON:
            return False
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signum)
        else:
            os.kill(process.pid, signum)
    except ProcessLookupError:
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)
    log.warning(
        "sent %s to pid %d (%s): leftover chef-client daemon",
        signal.Signals(signum).name, process.pid, process.cmdline,
    )
    return True


def _wait_gone(
    pids: list[int], seconds: float, scanner: Scanner, watcher: SignalWatcher
) -> list[int]:
    """Wait up to ``seconds`` for ``pids`` to exit, and return those still alive."""
    remaining_time = seconds
    alive = [pid for pid in pids if scanner.alive(pid)]
    while alive and remaining_time > 0:
        if watcher.wait(min(POLL_SECONDS, remaining_time)):
            break
        remaining_time -= POLL_SECONDS
        alive = [pid for pid in alive if scanner.alive(pid)]
    return alive


class StopResult:
    """Outcome of stop_leftovers: a state and the orphaned runs it ended.

    ``state`` is CLEAR, BUSY or SIGNALLED. ``ended_orphans`` lists the pids
    of the orphaned chef-client runs whose process trees it ended.
    """

    __slots__ = ("state", "ended_orphans")

    def __init__(self, state: str, ended_orphans: list[int] | None = None) -> None:
        self.state = state
        self.ended_orphans = ended_orphans or []


def stop_leftovers(
    watcher: SignalWatcher,
    grace: float,
    log_fd: int,
    env: dict[str, str],
    timeout: float = 0,
    scanner: Scanner | None = None,
    pid_file: str = PID_FILE,
    systemd_dir: str = SYSTEMD_RUNTIME_DIR,
    init_script: str = INIT_SCRIPT,
) -> StopResult:
    """End orphaned runs older than ``timeout`` seconds, stop chef-client daemons, and return a StopResult.

    The state is BUSY when a foreground run goes on (an admin's, or an
    orphaned run within ``timeout``) or a process survives SIGKILL. While
    any other foreground run goes on, orphaned runs are left alone too.
    ``timeout`` 0 means that no orphaned run is ever ended.
    """
    scanner = scanner or Scanner()
    orphans, others = split_foreground(scanner.scan(), scanner)
    if _foreground_run(others):
        return StopResult(BUSY)
    ended: list[int] = []
    busy = False
    for orphan in orphans:
        state = _handle_orphan(orphan, timeout, grace, scanner, watcher)
        if state == SIGNALLED:
            return StopResult(SIGNALLED, ended)
        if state == _ENDED:
            ended.append(orphan.pid)
        busy = busy or state == BUSY
    if busy:
        return StopResult(BUSY, ended)
    state = _stop_daemons(watcher, grace, log_fd, env, scanner, pid_file, systemd_dir, init_script)
    return StopResult(state, ended)


def _stop_daemons(
    watcher: SignalWatcher,
    grace: float,
    log_fd: int,
    env: dict[str, str],
    scanner: Scanner,
    pid_file: str,
    systemd_dir: str,
    init_script: str,
) -> str:
    """Stop chef-client daemons and return CLEAR, BUSY (foreground run or unkillable) or SIGNALLED."""
    command = service_stop_command(systemd_dir, init_script, env=env)
    if command is not None:
        _stop_service(command, log_fd, env, grace)
    if watcher.received is not None:
        return SIGNALLED

    processes = scanner.scan()
    if _foreground_run(processes):
        return BUSY
    daemons = [process for process in processes if process.kind == DAEMON]
    _log_pid_file(pid_file, scanner, daemons)
    if not daemons:
        return CLEAR

    signalled = [process.pid for process in daemons if _send(process, signal.SIGTERM, scanner)]
    alive = _wait_gone(signalled, grace, scanner, watcher)
    if watcher.received is not None:
        return SIGNALLED
    for process in daemons:
        if process.pid in alive:
            _send(process, signal.SIGKILL, scanner)
    alive = _wait_gone(alive, KILL_WAIT_SECONDS, scanner, watcher)
    if watcher.received is not None:
        return SIGNALLED
    if alive:
        log.error("chef-client daemon pids %s survived SIGKILL; skipping this run", alive)
        return BUSY
    return CLEAR


def split_foreground(
    processes: list[ChefProcess], scanner: Scanner
) -> tuple[list[ChefProcess], list[ChefProcess]]:
    """Split the foreground runs in ``processes`` into orphaned chef-cron runs and all others.

    An orphaned run carries the CHEF_CRON_RUN=1 marker and has no live
    chef-cron runner among its ancestors. A run below an orphaned run (a
    worker, or a chef-client that a recipe starts) is in neither list,
    because ending the orphan's process tree ends it too.
    """
    foreground = [process for process in processes if process.kind == FOREGROUND]
    marked = {process.pid for process in foreground if process.marked}
    orphans: list[ChefProcess] = []
    others: list[ChefProcess] = []
    for process in foreground:
        ancestors = scanner.ancestors(process.pid)
        if any(scanner.is_live_runner(pid) for pid in ancestors):
            others.append(process)
        elif any(pid in marked for pid in ancestors):
            continue
        elif process.marked:
            orphans.append(process)
        else:
            others.append(process)
    return orphans, others


def _handle_orphan(
    orphan: ChefProcess, timeout: float, grace: float, scanner: Scanner, watcher: SignalWatcher
) -> str:
    """End ``orphan`` if it has run longer than ``timeout``, and return _ENDED, CLEAR, BUSY or SIGNALLED."""
    age = scanner.age_seconds(orphan)
    summary = "pid %d is an orphaned chef-client from an earlier chef-cron run" % orphan.pid
    if age is None:
        log.warning("%s, but its start time cannot be read from %s; skipping this run and leaving it alone: %s",
                    summary, scanner.proc_root, orphan.cmdline)
        return BUSY
    # Whole seconds, so that the age in the log agrees with the decision.
    elapsed = int(age)
    if timeout <= 0:
        log.warning("%s, running %d s, and --timeout 0 sets no limit; skipping this run and leaving it alone: %s",
                    summary, elapsed, orphan.cmdline)
        return BUSY
    if elapsed <= timeout:
        log.warning("%s, running %d s, within the %d s timeout; skipping this run and leaving it alone: %s",
                    summary, elapsed, timeout, orphan.cmdline)
        return BUSY
    reason = "%s, running %d s, past the %d s timeout" % (summary, elapsed, timeout)
    log.warning("%s; ending its process tree: %s", reason, orphan.cmdline)
    return _end_orphan(orphan, reason, grace, scanner, watcher)


def _end_orphan(
    orphan: ChefProcess, reason: str, grace: float, scanner: Scanner, watcher: SignalWatcher
) -> str:
    """End the process tree of ``orphan`` as a timeout does, and return _ENDED, CLEAR, BUSY or SIGNALLED."""
    tree = proctree.GroupSignaller(orphan.pid, "the orphaned chef-client",
                                   leads_group=orphan.pgid == orphan.pid, proc_root=scanner.proc_root)
    # The snapshot comes before the check, because a pid cannot be reused
    # while its process lives, so a check that passes proves the snapshot is
    # of the orphan's tree. Once the orphan exits, nothing links its children to it.
    tree.snapshot()
    if not scanner.same_process(orphan):
        log.info("orphaned chef-client pid %d exited before it was signalled", orphan.pid)
        return CLEAR

    tree.signal_all(signal.SIGTERM, reason)
    _wait_groups_gone(tree, grace, watcher)
    if watcher.received is not None:
        return SIGNALLED

    if tree.live_groups():
        if scanner.same_process(orphan):
            # Commands that the orphan started since the SIGTERM.
            tree.snapshot()
        tree.kill_live("%s and the group is still running after the kill grace of %d s" % (reason, grace))
        _wait_groups_gone(tree, KILL_WAIT_SECONDS, watcher)
        if watcher.received is not None:
            return SIGNALLED

    if scanner.same_process(orphan):
        log.error("orphaned chef-client pid %d survived SIGKILL; skipping this run", orphan.pid)
        return BUSY
    survivors = tree.live_groups()
    if survivors:
        log.error("process groups %s of orphaned chef-client pid %d survived SIGKILL",
                  sorted(survivors), orphan.pid)
    log.warning("orphaned chef-client pid %d has ended; going on with this run", orphan.pid)
    return _ENDED


def _wait_groups_gone(tree: proctree.GroupSignaller, seconds: float, watcher: SignalWatcher) -> None:
    """Wait up to ``seconds`` for every group in ``tree`` to empty, or until the runner gets a signal."""
    remaining_time = seconds
    while remaining_time > 0 and tree.live_groups():
        if watcher.wait(min(POLL_SECONDS, remaining_time)):
            return
        remaining_time -= POLL_SECONDS


def _foreground_run(processes: list[ChefProcess]) -> bool:
    for process in processes:
        if process.kind == FOREGROUND:
            log.warning(
                "chef-client is already running in the foreground as pid %d (%s); "
                "skipping this run and leaving it alone",
                process.pid, process.cmdline,
            )
            return True
    return False


def _log_pid_file(pid_file: str, scanner: Scanner, daemons: list[ChefProcess]) -> None:
    # The scan already covers every verified daemon, so the pid file only adds
    # a log line. Its pid is trusted exactly as far as the scan trusts it.
    pid = read_pid_file(pid_file)
    if pid is None:
        return
    if any(process.pid == pid for process in daemons):
        log.info("pid file %s names daemon pid %d", pid_file, pid)
    elif scanner.alive(pid):
        log.info("ignoring pid file %s: pid %d is not a chef-client daemon", pid_file, pid)
