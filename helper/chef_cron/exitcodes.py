"""Exit codes of chef-cron, in one place.

The numbers follow sysexits.h and timeout(1) so that cron mail and monitoring
read them the usual way. chef-client's own non-zero exit code is passed through
unchanged. A chef-client that exits with one of these numbers looks like the
runner's own code, so read the log to tell them apart.
"""

from __future__ import annotations

SUCCESS = 0
# Nagios plugin states, used only by ``chef-cron status``.
STATUS_CRITICAL = 2
STATUS_UNKNOWN = 3
USAGE = 64  # EX_USAGE: bad option or invalid value
INTERNAL = 70  # EX_SOFTWARE: a bug or an unexpected error in the runner
UNAVAILABLE = 69  # EX_UNAVAILABLE: chef-client missing or not executable
LOG_FILE_FAILED = 73  # EX_CANTCREAT: log file cannot be opened, so chef-client was not run
# chef-client already running: an admin's run, or the orphaned run of a killed
# runner that is still within --timeout.
SKIPPED = 75  # EX_TEMPFAIL: lock busy, firstboot marker or chef-client already running
UNSAFE_PATH = 77  # EX_NOPERM: lock, log, status or marker directory is unsafe
TIMEOUT = 124  # same as timeout(1)
SIGNAL_BASE = 128  # 128 + N: stopped by signal N after ending chef-client


def for_signal(signum: int) -> int:
    """Return the exit code for a run stopped by signal ``signum``."""
    return SIGNAL_BASE + signum


# One line per code for ``chef-cron run --help``. The README repeats this table.
TABLE = (
    (SUCCESS, "chef-client succeeded"),
    ("N", "chef-client failed; its own exit code N is passed through"),
    (USAGE, "bad usage or invalid option value"),
    (UNAVAILABLE, "chef-client binary missing or not executable"),
    (INTERNAL, "internal error in chef-cron"),
    (LOG_FILE_FAILED, "log file cannot be opened (such as a read-only log directory); "
     "chef-client was not run"),
    (SKIPPED, "skipped: lock busy, firstboot marker present, or chef-client already running"),
    (UNSAFE_PATH, "unsafe path: a lock, log or status path is a symlink or owned by another "
     "user, or a directory that holds one is writable by group or others"),
    (TIMEOUT, "chef-client timed out and was stopped"),
    ("128+N", "chef-cron received signal N and stopped chef-client"),
)


def describe() -> str:
    """Format TABLE as the epilog of ``chef-cron run --help``."""
    lines = ["exit codes:"]
    for code, text in TABLE:
        lines.append("  %-6s %s" % (code, text))
    return "\n".join(lines)
