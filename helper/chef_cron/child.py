"""Run ``chef-client --once`` in its own session and supervise it.

chef-client gets /dev/null as stdin and the log file as stdout and stderr,
never a pipe. The runner waits only for the pid of chef-client, so a process
that chef-client leaves in the background with the log open cannot block it.
"""

from __future__ import annotations

import logging
import os
import resource
import select
import signal
import time
from collections.abc import Callable, Mapping, Sequence

from chef_cron import exitcodes, proctree
from chef_cron.errors import ChefClientMissingError
from chef_cron.signals import SignalWatcher, signal_for_chef

FIXED_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Only these variables pass from cron's environment to chef-client: locale and
# time zone change how chef-client prints, everything else (RUBYOPT, GEM_PATH,
# proxies, LD_PRELOAD) could change what it runs. Proxies belong in client.rb.
ENV_ALLOWLIST = ("LANG", "LC_ALL", "TZ")
HOME = "/root"
# Variable in chef-client's environment that marks it as started by chef-cron.
RUN_MARKER = "CHEF_CRON_RUN"
PR_SET_PDEATHSIG = 1
# Without a pidfd the runner polls the child, backing off to this interval.
MAX_POLL_SECONDS = 0.1

log = logging.getLogger(__name__)


class Result:
    """Exit code, outcome and peak RSS of a finished chef-client."""

    __slots__ = ("exit_code", "outcome", "peak_rss_bytes")

    def __init__(self, exit_code: int, outcome: str, peak_rss_bytes: int | None) -> None:
        self.exit_code = exit_code
        self.outcome = outcome
        self.peak_rss_bytes = peak_rss_bytes


def check_executable(path: str) -> None:
    """Raise ChefClientMissingError unless ``path`` is an executable regular file."""
    if not os.path.isfile(path):
        raise ChefClientMissingError("chef-client not found at %s; set --chef-client" % path)
    if not os.access(path, os.X_OK):
        raise ChefClientMissingError("chef-client at %s is not executable" % path)


def build_env(
    environ: Mapping[str, str],
    chef_license: str | None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return chef-client's environment: the allowlist, HOME=/root, a fixed PATH, CHEF_LICENSE if set,
    and the ``extra`` variables that the cron line names with --setenv.

    HOME is /root even when the runner is not root, because chef-client reads
    its per-user configuration from there under cron. PATH stays fixed even
    when ``extra`` names it, so a changed search path cannot substitute
    another program for a tool that chef-client calls by name.
    """
    env = {name: environ[name] for name in ENV_ALLOWLIST if name in environ}
    env.update({name: value for name, value in (extra or {}).items() if name != "PATH"})
    env["HOME"] = HOME
    env["PATH"] = FIXED_PATH
    if chef_license is not None:
        env["CHEF_LICENSE"] = chef_license
    return env


def run(
    path: str,
    arguments: Sequence[str],
    log_fd: int,
    env: Mapping[str, str],
    timeout: float,
    grace: float,
    watcher: SignalWatcher,
) -> Result:
    """Run ``path --once arguments`` and return its exit code, outcome and peak RSS.

    ``timeout`` 0 means no limit. On timeout, or when the runner receives a
    signal in signals.HANDLED, every process group in chef-client's
    process tree gets SIGTERM (or the received signal, see
    signals.signal_for_chef), and SIGKILL after ``grace`` seconds if any
    member is left.

    chef-client's environment gets CHEF_CRON_RUN=1, which daemon.py reads
    from /proc/PID/environ to find a run whose runner died. chef-client gets
    SIGINT as its parent-death signal, so that it cannot outlive a runner
    killed by SIGKILL (see _parent_death_signal).
    """
    import subprocess

    argv = [path, "--once", *arguments]
    env = {**env, RUN_MARKER: "1"}
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=log_fd,
        cwd="/",
        env=dict(env),
        start_new_session=True,
        # The lock and every other descriptor of the runner stay behind.
        close_fds=True,
        pass_fds=(),
        # Called after setsid in the forked child, so chef-client still
        # leads its own session.
        preexec_fn=_parent_death_signal(os.getpid()),
    )
    pid = process.pid
    log.info("started chef-client as pid %d: %s", pid, " ".join(argv))

    supervisor = _Supervisor(pid, timeout, grace, watcher)
    status, rusage = supervisor.wait()
    assert isinstance(rusage, resource.struct_rusage)
    process.returncode = os.waitstatus_to_exitcode(status)

    # NOTE: Linux keeps ru_maxrss across exec, so the figure is at least the
    # RSS of the forked runner before exec (about 7-15 MiB). That is noise
    # next to a real chef-client, but not for a tiny test binary.
    peak_rss_bytes = rusage.ru_maxrss * 1024
    if supervisor.timed_out:
        log.error("chef-client pid %d timed out after %d s", pid, timeout)
        return Result(exitcodes.TIMEOUT, "timeout", peak_rss_bytes)
    if watcher.received is not None:
        name = signal.Signals(watcher.received).name
        log.warning("chef-client pid %d stopped after the runner received %s", pid, name)
        return Result(exitcodes.for_signal(watcher.received), "signalled", peak_rss_bytes)

    if os.WIFSIGNALED(status):
        exit_code = exitcodes.for_signal(os.WTERMSIG(status))
        log.error("chef-client pid %d was killed by signal %d", pid, os.WTERMSIG(status))
    else:
        exit_code = os.WEXITSTATUS(status)
        log.info("chef-client pid %d exited with code %d", pid, exit_code)
    return Result(exit_code, "success" if exit_code == 0 else "failed", peak_rss_bytes)


class _Supervisor:
    """Wait for chef-client, and end its process tree on timeout or on a forwarded signal.

    The tree is ended group by group: chef-client's own group and the group
    of every descendant, because chef-client starts each ``execute`` command
    in a new session (see proctree).
    """

    def __init__(self, pid: int, timeout: float, grace: float, watcher: SignalWatcher) -> None:
        self.pid = pid
        self.timeout = timeout
        self.grace = grace
        self.watcher = watcher
        now = time.monotonic()
        self.deadline = now + timeout if timeout > 0 else None
        self.kill_at: float | None = None
        self.stopping = False
        self.timed_out = False
        self.reason = ""
        # start_new_session makes chef-client the leader of a group with its pid.
        self.tree = proctree.GroupSignaller(pid, "chef-client", leads_group=True)

    def wait(self) -> tuple[int, object]:
        """Reap the child and return its wait status and resource usage."""
        pidfd = _pidfd_open(self.pid)
        poll = 0.001
        try:
            while True:
                reaped_pid, status, rusage = os.wait4(self.pid, os.WNOHANG)
                if reaped_pid == self.pid:
                    break
                timeout = self._next_wakeup()
                waitables = [self.watcher.wakeup_fd]
                if pidfd is not None:
                    waitables.append(pidfd)
                else:
                    timeout = poll if timeout is None else min(timeout, poll)
                    poll = min(poll * 2, MAX_POLL_SECONDS)
                ready, _, _ = select.select(waitables, [], [], timeout)
                if self.watcher.wakeup_fd in ready:
                    self.watcher.drain()
        finally:
            if pidfd is not None:
                os.close(pidfd)
        # A signal that came just before chef-client exited still reaches
        # what chef-client left in its group.
        self._check_signal(time.monotonic())
        if self.stopping:
            self._end_groups()
        return status, rusage

    def _next_wakeup(self) -> float | None:
        """Act on the timeout, a signal or the end of the grace, and return the seconds until the next event."""
        now = time.monotonic()
        self._check_signal(now)
        if not self.stopping and self.deadline is not None and now >= self.deadline:
            self.timed_out = True
            log.warning("chef-client pid %d timed out after %d s; stopping its process tree", self.pid, self.timeout)
            self._begin_stop(now, signal.SIGTERM, "chef-client timed out after %d s" % self.timeout)
        if self.kill_at is not None and now >= self.kill_at:
            log.warning("chef-client pid %d still running after the kill grace of %d s", self.pid, self.grace)
            # Commands started since the SIGTERM are still chef-client's
            # descendants, because chef-client has not been reaped yet.
            self._snapshot()
            self._kill_live_groups()
            self.kill_at = None
        events = [t for t in (self.kill_at, None if self.stopping else self.deadline) if t is not None]
        if not events:
            return None
        return max(0.0, min(events) - now)

    def _check_signal(self, now: float) -> None:
        if self.stopping or self.watcher.received is None:
            return
        signum = self.watcher.received
        # NOTE: only the first signal reaches chef-client's tree. A later one
        # is not passed on, and the SIGKILL after the grace ends the tree.
        self._begin_stop(now, signal_for_chef(signum), "the runner received %s (signal %d)" % (signal.Signals(signum).name, signum))

    def _begin_stop(self, now: float, signum: int, reason: str) -> None:
        self.stopping = True
        self.kill_at = now + self.grace
        self.reason = reason
        # The snapshot comes before the first signal: once chef-client exits,
        # its children are reparented to init, and nothing links them to it.
        self._snapshot()
        self.tree.signal_all(signum, reason)

    def _snapshot(self) -> None:
        # Only the current descendants count (see proctree.GroupSignaller.snapshot),
        # which is also why the runner does not become a child subreaper with
        # PR_SET_CHILD_SUBREAPER.
        self.tree.snapshot()

    def _kill_live_groups(self) -> None:
        self.tree.kill_live("%s and the group is still running after the kill grace of %d s"
                            % (self.reason, self.grace))

    def _end_groups(self) -> None:
        # chef-client is gone. Give what is left in the groups the rest of
        # the grace, then SIGKILL, so a stopped run leaves nothing behind.
        # When kill_at is None, SIGKILL has already gone to every live group.
        if self.kill_at is None:
            return
        while self.tree.live_groups() and time.monotonic() < self.kill_at:
            time.sleep(0.05)
        self._kill_live_groups()


def _parent_death_signal(runner_pid: int) -> Callable[[], None]:
    """Return a preexec_fn that makes the kernel send SIGINT to chef-client when the runner dies.

    The signal is SIGINT and not SIGTERM because chef-client 18 only logs
    "SIGTERM received during converge, finishing converge" and goes on,
    while SIGINT stops it at once. Without a live runner no timeout or
    SIGKILL would follow, so a SIGTERM could leave the converge unbounded.
    The runner is single-threaded, which preexec_fn needs and which the
    parent-death signal needs too: the kernel sends it when the thread that
    forked the child exits. Only chef-client gets the signal, not the
    commands it started in their own sessions.
    """
    # Loaded in the parent before the fork, and only on this path, because
    # importing ctypes takes milliseconds that a skipped run should not spend.
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        prctl = None

    def set_signal() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)
        # The runner may have died between fork and prctl, and then no
        # signal will ever come: the child has been reparented already.
        if os.getppid() != runner_pid:
            os._exit(exitcodes.for_signal(signal.SIGINT))

    return set_signal


def _pidfd_open(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        # Linux before 5.3 has no pidfd_open, so the caller polls instead.
        return None
