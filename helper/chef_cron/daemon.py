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

Only root's processes count: both the real and the effective uid in
/proc/PID/status must be 0. Any user can copy a program to a file named
chef-client and run it, so a look-alike of another user is ignored with one
warning line. It is never signalled and never makes the run skip. A process
whose /proc entries cannot be read (another user's process when the runner
lacks CAP_SYS_PTRACE) does not count either.

Never signalled, even when they match: the runner itself, its ancestors,
members of its process group, zombies, and processes in another PID
namespace (such as containers on the same host).
"""

from __future__ import annotations

import logging
import os
import re
import signal

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

# Results of stop_leftovers.
CLEAR = "clear"
BUSY = "busy"
SIGNALLED = "signalled"

_RUBY_NAME = re.compile(r"ruby[0-9.]*")
# ruby options that take the next word as their value when given alone.
_RUBY_OPTIONS_WITH_VALUE = frozenset(("-C", "-E", "-I", "-r", "--encoding"))
_WORKER_TITLE = "chef-client worker:"

log = logging.getLogger(__name__)


class ChefProcess:
    """A chef-client process found in /proc."""

    __slots__ = ("pid", "ppid", "kind", "cmdline")

    def __init__(self, pid: int, ppid: int, kind: str, cmdline: str) -> None:
        self.pid = pid
        self.ppid = ppid
        self.kind = kind
        self.cmdline = cmdline


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


class _Stat:
    __slots__ = ("state", "ppid", "pgid")

    def __init__(self, state: str, ppid: int, pgid: int) -> None:
        self.state = state
        self.ppid = ppid
        self.pgid = pgid


def _read_stat(proc_root: str, pid: int) -> _Stat | None:
    try:
        with open("%s/%d/stat" % (proc_root, pid), "rb") as stream:
            data = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name in brackets may contain spaces and brackets itself.
    fields = data[data.rfind(")") + 2 :].split()
    try:
        return _Stat(state=fields[0], ppid=int(fields[1]), pgid=int(fields[2]))
    except (IndexError, ValueError):
        return None


def _read_cmdline(proc_root: str, pid: int) -> list[str]:
    try:
        with open("%s/%d/cmdline" % (proc_root, pid), "rb") as stream:
            data = stream.read()
    except OSError:
        return []
    words = data.decode("utf-8", "replace").split("\0")
    while words and not words[-1]:
        words.pop()
    return words


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
    """Find chef-client processes in ``proc_root`` as seen from process ``self_pid``."""

    def __init__(self, proc_root: str = PROC_ROOT, self_pid: int | None = None) -> None:
        self.proc_root = proc_root
        self.self_pid = os.getpid() if self_pid is None else self_pid
        self.pid_namespace = _readlink("%s/%d/ns/pid" % (proc_root, self.self_pid))
        own = _read_stat(proc_root, self.self_pid)
        self.pgid = own.pgid if own is not None else None
        self.protected = self._ancestors()
        # Look-alikes already logged, so that repeated scans log each once.
        self.ignored: set[int] = set()

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
        return ChefProcess(pid=pid, ppid=info.ppid, kind=kind, cmdline=" ".join(argv))

    def _owned_by_root(self, pid: int, argv: list[str]) -> bool:
        uids = _read_uids(self.proc_root, pid)
        if uids == (0, 0):
            return True
        if pid not in self.ignored:
            self.ignored.add(pid)
            if uids is None:
                owner = "uid unknown"
            elif uids[0] == uids[1]:
                owner = "uid %d" % uids[0]
            else:
                owner = "real uid %d, effective uid %d" % uids
            log.warning("ignoring pid %d (%s): looks like chef-client but is not root's: %s",
                        pid, owner, " ".join(argv))
        return False

    def scan(self) -> list[ChefProcess]:
        """Return every chef-client process, with workers resolved to their parent's kind."""
        found: dict[int, ChefProcess] = {}
        for entry in os.listdir(self.proc_root):
            if entry.isdigit():
                process = self.inspect(int(entry))
                if process is not None:
                    found[process.pid] = process
        resolved = []
        for process in found.values():
            if process.kind == WORKER:
                parent = found.get(process.ppid)
                kind = parent.kind if parent is not None and parent.kind != WORKER else DAEMON
                process = ChefProcess(process.pid, process.ppid, kind, process.cmdline)
            resolved.append(process)
        return sorted(resolved, key=lambda process: process.pid)

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


def _stop_service(command: list[str], log_fd: int, env: dict[str, str], timeout: float) -> None:
    import subprocess

    log.info("stopping the chef-client service: %s", " ".join(command))
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            env=env, cwd="/", close_fds=True, timeout=timeout or None, check=False,
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


def stop_leftovers(
    watcher: SignalWatcher,
    grace: float,
    log_fd: int,
    env: dict[str, str],
    scanner: Scanner | None = None,
    pid_file: str = PID_FILE,
    systemd_dir: str = SYSTEMD_RUNTIME_DIR,
    init_script: str = INIT_SCRIPT,
) -> str:
    """Stop chef-client daemons and return CLEAR, BUSY (foreground run or unkillable) or SIGNALLED."""
    scanner = scanner or Scanner()
    if _foreground_run(scanner.scan()):
        return BUSY

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
