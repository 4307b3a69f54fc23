"""The ``chef-cron run`` steps, in order: firstboot guard, lock, sleep, daemon stop, chef-client."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from collections.abc import Sequence

from chef_cron import exitcodes, firstboot, lock, logsetup
from chef_cron.errors import LogFileError, RunnerError, UnsafePathError
from chef_cron.signals import SignalWatcher
from chef_cron.status import StatusFile

log = logging.getLogger(__name__)

# Outcomes after which stderr stays empty: cron mails whatever a job prints,
# and a skipped run is normal under cron (another run holds the lock).
QUIET_OUTCOMES = frozenset(("success", "skipped_locked", "skipped_busy", "skipped_firstboot"))


class RunResult:
    """Exit code and outcome of one ``chef-cron run``, with the stderr line for a failure."""

    __slots__ = ("exit_code", "outcome", "message")

    def __init__(self, exit_code: int, outcome: str, message: str | None = None) -> None:
        self.exit_code = exit_code
        self.outcome = outcome
        self.message = message


def execute(args: argparse.Namespace, argv: Sequence[str]) -> RunResult:
    """Carry out ``chef-cron run`` with parsed ``args``. ``argv`` is only logged.

    Raises RunnerError (after logging it) when the run cannot go on.
    """
    with SignalWatcher() as watcher:
        try:
            log_fd = logsetup.open_log(args.log_file)
        except (LogFileError, UnsafePathError) as error:
            # Skipping Chef quietly would let a broken or unsafe log path
            # switch it off, so the status file records the failure for
            # monitoring and main prints it for cron to mail.
            _record_log_failure(args, error)
            raise
        try:
            handlers = logsetup.configure(log_fd, args.syslog_socket)
            try:
                return _Run(args, watcher, log_fd).execute(argv)
            finally:
                logsetup.close(handlers)
        finally:
            os.close(log_fd)


def _record_log_failure(args: argparse.Namespace, error: RunnerError) -> None:
    """Write a failed status record with ``error``, unless another run holds the lock.

    There is no log to report to, so a status file or lock that fails too
    goes unreported: the stderr line from main already reaches cron's mail.
    """
    from chef_cron import status

    start = time.time()
    try:
        lock_fd = lock.acquire(args.lock_file)
    except RunnerError:
        return
    if lock_fd is None:
        # The run holding the lock writes the status file itself.
        return
    try:
        status_file = StatusFile(args.status_file)
        try:
            record = status.build_record(
                start=start, end=time.time(), exit_code=error.exit_code, outcome="failed",
                splay_seconds=0.0, peak_rss_bytes=None,
                previous_last_success=status_file.previous_last_success(),
                firstboot_marker_stale=False, error=str(error),
            )
            status_file.write(record)
            if args.textfile_dir:
                status.write_textfile(args.textfile_dir, record)
        finally:
            status_file.close()
    except (RunnerError, OSError):
        pass
    finally:
        os.close(lock_fd)


class _Run:
    def __init__(self, args: argparse.Namespace, watcher: SignalWatcher, log_fd: int) -> None:
        self.args = args
        self.watcher = watcher
        self.log_fd = log_fd
        self.start = time.time()
        self.splay_seconds = 0.0
        self.peak_rss_bytes: int | None = None
        self.marker_stale = False
        self.ended_orphan_pids: list[int] = []
        self.lock_fd: int | None = None
        self.status_file: StatusFile | None = None

    def execute(self, argv: Sequence[str]) -> RunResult:
        log.info("start: pid %d, arguments %s", os.getpid(), " ".join(argv))
        try:
            self.status_file = StatusFile(self.args.status_file)
            result = self._steps()
        except RunnerError as error:
            log.error("%s", error)
            self._finish(RunResult(error.exit_code, "failed"))
            raise
        except Exception:
            log.exception("internal error")
            self._finish(RunResult(exitcodes.INTERNAL, "failed"))
            raise
        self._finish(result)
        return result

    def _finish(self, result: RunResult) -> None:
        end = time.time()
        log.info("finished: outcome %s, exit code %d, %.1f s", result.outcome, result.exit_code, end - self.start)
        try:
            if self.status_file is not None:
                self._write_status(result, end)
        finally:
            if self.status_file is not None:
                self.status_file.close()
            if self.lock_fd is not None:
                # Released only after the status is written, so the next run
                # reads this run's last_success.
                os.close(self.lock_fd)

    def _write_status(self, result: RunResult, end: float) -> None:
        from chef_cron import status

        assert self.status_file is not None
        record = status.build_record(
            start=self.start,
            end=end,
            exit_code=result.exit_code,
            outcome=result.outcome,
            splay_seconds=self.splay_seconds,
            peak_rss_bytes=self.peak_rss_bytes,
            previous_last_success=self.status_file.previous_last_success(),
            firstboot_marker_stale=self.marker_stale,
            ended_orphan_pids=self.ended_orphan_pids,
        )
        try:
            self.status_file.write(record)
        except OSError as error:
            # chef-client's result matters more than the monitoring record.
            log.error("cannot write status file %s: %s", self.status_file.path, error)
        if self.args.textfile_dir:
            try:
                status.write_textfile(self.args.textfile_dir, record)
            except OSError as error:
                log.error("cannot write %s/%s: %s", self.args.textfile_dir, status.TEXTFILE_NAME, error)

    def _signalled(self) -> RunResult:
        assert self.watcher.received is not None
        name = signal.Signals(self.watcher.received).name
        log.warning("received %s; stopping", name)
        return RunResult(
            exitcodes.for_signal(self.watcher.received), "signalled",
            "chef-cron: stopped by %s; see %s" % (name, self.args.log_file),
        )

    def _steps(self) -> RunResult:
        args = self.args
        firstboot.check_directory(args.firstboot_file)
        marker = firstboot.check(args.firstboot_file, firstboot.boot_time())
        self.marker_stale = marker.stale
        if marker.present:
            log.info("firstboot marker %s present%s; skipping this run", args.firstboot_file,
                     " (stale: older than the current boot)" if marker.stale else "")
            return RunResult(exitcodes.SKIPPED, "skipped_firstboot")

        self.lock_fd = lock.acquire(args.lock_file)
        if self.lock_fd is None:
            log.info("lock %s is busy: another chef-cron run is in progress; skipping this run", args.lock_file)
            return RunResult(exitcodes.SKIPPED, "skipped_locked")
        log.info("lock %s taken", args.lock_file)
        if self.watcher.received is not None:
            return self._signalled()

        if not self._sleep():
            return self._signalled()

        # Imported only now: a skipped run never needs them.
        from chef_cron import child, daemon

        env = child.build_env(os.environ, args.chef_license, dict(args.setenv))
        leftovers = daemon.stop_leftovers(self.watcher, args.kill_grace, self.log_fd, env, timeout=args.timeout)
        self.ended_orphan_pids = leftovers.ended_orphans
        if leftovers.state == daemon.SIGNALLED:
            return self._signalled()
        if leftovers.state == daemon.BUSY:
            return RunResult(exitcodes.SKIPPED, "skipped_busy")

        child.check_executable(args.chef_client)
        result = child.run(args.chef_client, args.chef_args, self.log_fd, env,
                           args.timeout, args.kill_grace, self.watcher)
        self.peak_rss_bytes = result.peak_rss_bytes
        self._log_rss()
        if result.outcome == "signalled":
            return self._signalled()
        if result.outcome == "timeout":
            return RunResult(result.exit_code, result.outcome,
                             "chef-cron: chef-client timed out after %d s and was stopped; see %s"
                             % (args.timeout, args.log_file))
        if result.outcome == "failed":
            return RunResult(result.exit_code, result.outcome,
                             "chef-cron: chef-client failed with exit code %d; see %s"
                             % (result.exit_code, args.log_file))
        return RunResult(result.exit_code, result.outcome)

    def _sleep(self) -> bool:
        """Sleep the delay plus the random splay, and return False if a signal cut it short."""
        from chef_cron import splay

        planned = splay.seconds(self.args.delay, self.args.splay)
        log.info("sleeping %.1f s (delay %d s plus random splay of up to %d s)",
                 planned, self.args.delay, self.args.splay)
        started = time.monotonic()
        interrupted = self.watcher.wait(planned)
        self.splay_seconds = time.monotonic() - started
        return not interrupted

    def _log_rss(self) -> None:
        if self.peak_rss_bytes is None:
            return
        mib = self.peak_rss_bytes / (1024 * 1024)
        log.info("chef-client peak RSS %.1f MiB", mib)
        limit = self.args.rss_warn_mb
        if limit and mib > limit:
            log.warning("chef-client peak RSS %.1f MiB is above --rss-warn-mb %d", mib, limit)
