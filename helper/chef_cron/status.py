"""Record the outcome of every run for monitoring, and report it for ``chef-cron status``.

The JSON status file and the optional node_exporter textfile are replaced
atomically (temporary file in the same directory, fsync, rename), so a reader
sees the previous run or this one, never half a file.
"""

from __future__ import annotations

import logging
import os
import stat
import time

from chef_cron import exitcodes, safepath
from chef_cron.errors import UnsafePathError
from chef_cron.printable import printable

STATUS_DIR_MODE = 0o755
# Readable by monitoring agents that do not run as root.
STATUS_FILE_MODE = 0o644
TEXTFILE_NAME = "chef_cron.prom"
OUTCOMES = (
    "success", "failed", "timeout", "signalled",
    "skipped_locked", "skipped_busy", "skipped_firstboot",
)

# Names only for type checkers: importing typing costs milliseconds on every cron run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

log = logging.getLogger(__name__)


class StatusFile:
    """The status file, with its directory opened and checked before the run changes anything."""

    def __init__(self, path: str) -> None:
        self.directory, self.name = safepath.split(path)
        self.path = os.path.join(self.directory, self.name)
        self.dir_fd = safepath.open_dir(self.directory, create_mode=STATUS_DIR_MODE)
        try:
            self._check_existing()
        except BaseException:
            os.close(self.dir_fd)
            raise

    def _check_existing(self) -> None:
        try:
            st = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePathError("unsafe path %s: file is a symlink" % self.path)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError("unsafe path %s: not a regular file" % self.path)
        if st.st_uid not in safepath.trusted_uids():
            raise UnsafePathError("unsafe path %s: owned by uid %d, expected root" % (self.path, st.st_uid))

    def close(self) -> None:
        os.close(self.dir_fd)

    def previous_last_success(self) -> float | None:
        """Return last_success from the previous status file, or None if there is none."""
        try:
            fd = os.open(self.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.dir_fd)
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("cannot read the previous status file %s: %s", self.path, error.strerror)
            return None
        with open(fd, "rb") as stream:
            data = stream.read()
        try:
            value = _loads(data).get("last_success")
        except (ValueError, AttributeError) as error:
            log.warning("ignoring invalid previous status file %s: %s", self.path, error)
            return None
        # json accepts NaN and Infinity, which no later run could report.
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_EPOCH:
            return value
        return None

    def write(self, record: dict[str, Any]) -> None:
        """Replace the status file with ``record`` as JSON."""
        import json

        data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
        write_atomic(self.dir_fd, self.directory, self.name, data)


def _loads(data: bytes) -> Any:
    import json

    return json.loads(data.decode("utf-8"))


def write_atomic(dir_fd: int, directory: str, name: str, data: bytes) -> None:
    """Replace ``name`` below ``dir_fd`` with ``data``, mode 0644, through a temporary file and rename."""
    # O_EXCL with a random suffix never opens a file planted in a shared
    # directory. The name does not end in .prom, so node_exporter skips it.
    temporary = ".%s.%s.tmp" % (name, os.urandom(6).hex())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temporary, flags, STATUS_FILE_MODE, dir_fd=dir_fd)
    try:
        try:
            os.fchmod(fd, STATUS_FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    # Make the rename itself durable.
    os.fsync(dir_fd)


def iso8601(epoch: float) -> str:
    """Format ``epoch`` as ISO 8601 UTC with a Z suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def build_record(
    start: float,
    end: float,
    exit_code: int,
    outcome: str,
    splay_seconds: float,
    peak_rss_bytes: int | None,
    previous_last_success: float | None,
    firstboot_marker_stale: bool,
    error: str | None = None,
    ended_orphan_pids: list[int] | None = None,
) -> dict[str, Any]:
    """Return the status record of one run. Times are epoch seconds.

    ``ended_orphan_pids`` lists the orphaned chef-client runs of earlier,
    killed runners whose process trees this run ended because they were
    past the timeout. The ``error`` field is present only when ``error`` is
    given: the message of a run that failed before it could write its log.
    """
    last_success = end if outcome == "success" else previous_last_success
    record = {
        "start": iso8601(start),
        "start_epoch": round(start, 3),
        "end": iso8601(end),
        "end_epoch": round(end, 3),
        "duration_seconds": round(end - start, 3),
        "exit_code": exit_code,
        "outcome": outcome,
        "splay_seconds": round(splay_seconds, 3),
        "peak_rss_bytes": peak_rss_bytes,
        "last_success": None if last_success is None else round(last_success, 3),
        "firstboot_marker_stale": firstboot_marker_stale,
        "ended_orphan_pids": list(ended_orphan_pids or ()),
    }
    if error is not None:
        record["error"] = error
    return record


def to_prometheus(record: dict[str, Any]) -> str:
    """Format ``record`` in the node_exporter textfile format."""
    lines: list[str] = []

    def gauge(name: str, help_text: str, value: float | None) -> None:
        # A gauge without a value is left out rather than reported as 0,
        # which would look like a real figure on a dashboard.
        if value is None:
            return
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s gauge" % name)
        lines.append("%s %s" % (name, _number(value)))

    gauge("chef_cron_last_run_timestamp_seconds", "End of the last chef-cron run, in epoch seconds.",
          record["end_epoch"])
    gauge("chef_cron_last_run_duration_seconds", "Duration of the last chef-cron run, in seconds.",
          record["duration_seconds"])
    gauge("chef_cron_last_run_exit_code", "Exit code of the last chef-cron run.", record["exit_code"])
    gauge("chef_cron_last_success_timestamp_seconds",
          "End of the last successful chef-client run, in epoch seconds.", record["last_success"])
    gauge("chef_cron_splay_seconds", "Seconds the last run slept before starting chef-client.",
          record["splay_seconds"])
    gauge("chef_cron_peak_rss_bytes", "Peak resident set size of the last chef-client run, in bytes.",
          record["peak_rss_bytes"])
    gauge("chef_cron_firstboot_marker_stale",
          "1 if the last run found a firstboot marker older than the current boot.",
          int(record["firstboot_marker_stale"]))
    gauge("chef_cron_ended_orphans",
          "Orphaned chef-client runs of earlier chef-cron runs that the last run ended after they passed the timeout.",
          len(record.get("ended_orphan_pids", ())))
    lines.append("# HELP chef_cron_last_run_outcome Outcome of the last chef-cron run (1 for the current outcome).")
    lines.append("# TYPE chef_cron_last_run_outcome gauge")
    for outcome in OUTCOMES:
        value = 1 if outcome == record["outcome"] else 0
        lines.append('chef_cron_last_run_outcome{outcome="%s"} %d' % (outcome, value))
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def write_textfile(directory: str, record: dict[str, Any]) -> None:
    """Write ``record`` to ``directory``/chef_cron.prom for the node_exporter textfile collector.

    NOTE: the directory owner is not checked, because packages may give the
    directory to the prometheus user. The write stays safe there: the
    temporary file is created with O_EXCL under a random name, then renamed.
    """
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        write_atomic(dir_fd, directory, TEXTFILE_NAME, to_prometheus(record).encode("ascii"))
    finally:
        os.close(dir_fd)


def _format_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return "%ds" % seconds
    if seconds < 120 * 60:
        return "%dm" % (seconds // 60)
    if seconds < 48 * 3600:
        return "%dh" % (seconds // 3600)
    return "%dd" % (seconds // 86400)


# A last success further ahead than this means the clock went back or the
# file was crafted, so its age is meaningless.
MAX_FUTURE_SECONDS = 300
# Latest epoch that time.gmtime and ISO 8601 with four-digit years can show:
# 9999-12-31T23:59:59Z.
MAX_EPOCH = 253402300799
# The status file that the runner writes is well under 1 KiB.
MAX_STATUS_BYTES = 1 << 20


class _InvalidStatus(ValueError):
    pass


def _epoch(record: dict[str, Any], name: str) -> float:
    """Return field ``name`` of ``record`` as epoch seconds, and raise _InvalidStatus unless it can be one."""
    value = _finite(record, name)
    if not 0 <= value <= MAX_EPOCH:
        raise _InvalidStatus("%s %r is not an epoch time" % (name, value))
    return value


def _finite(record: dict[str, Any], name: str) -> float:
    value = record[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _InvalidStatus("%s is not a number" % name)
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise _InvalidStatus("%s %r is not a finite number" % (name, value))
    return value


def _read_status(path: str) -> bytes:
    """Return the content of the regular file ``path``, and raise _InvalidStatus for any other kind of file.

    O_NONBLOCK keeps a FIFO from blocking the open until a writer comes.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _InvalidStatus("not a regular file")
        data = stream.read(MAX_STATUS_BYTES + 1)
    if len(data) > MAX_STATUS_BYTES:
        raise _InvalidStatus("larger than %d bytes" % MAX_STATUS_BYTES)
    return data


def report(path: str, max_age: float, now: float) -> tuple[int, str]:
    """Return a Nagios exit code and a one-line summary of the status file at ``path``.

    OK (0) when the last success is at most ``max_age`` seconds old. CRITICAL
    (2) when it is older, has never happened or the file is missing. UNKNOWN
    (3) when the file cannot be read or parsed or is not a regular file, when
    a time in it is not finite or out of range, or when the last success is
    more than MAX_FUTURE_SECONDS ahead of ``now``. Text from the file is escaped.
    """
    try:
        record = _loads(_read_status(path))
        outcome = record["outcome"]
        end = _epoch(record, "end_epoch")
        duration = _finite(record, "duration_seconds")
        exit_code = int(record["exit_code"])
        last_success = None
        if record.get("last_success") is not None:
            last_success = _epoch(record, "last_success")
    except FileNotFoundError:
        return exitcodes.STATUS_CRITICAL, "CRITICAL: no status file at %s; chef-cron has not run yet" % path
    except OSError as error:
        return exitcodes.STATUS_UNKNOWN, "UNKNOWN: cannot read %s: %s" % (path, error.strerror)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as error:
        return exitcodes.STATUS_UNKNOWN, "UNKNOWN: invalid status file %s: %s" % (path, printable(str(error)))

    outcome_text = printable(outcome if isinstance(outcome, str) else repr(outcome))
    if last_success is None:
        success_text = "no success recorded"
        healthy = False
    else:
        age = now - last_success
        if age < -MAX_FUTURE_SECONDS:
            return exitcodes.STATUS_UNKNOWN, (
                "UNKNOWN: last success in %s is %s in the future (%s); check the system clock"
                % (path, _format_age(-age), iso8601(last_success)))
        success_text = "last success %s ago" % _format_age(age)
        healthy = age <= max_age
    summary = "%s at %s, %ds, exit %d, %s" % (
        outcome_text, iso8601(end), round(duration), exit_code, success_text)
    if healthy:
        return exitcodes.SUCCESS, "OK: " + summary
    return exitcodes.STATUS_CRITICAL, "CRITICAL: %s (max age %ds)" % (summary, max_age)
