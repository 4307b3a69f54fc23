"""Skip the run while the first-boot Chef run still owns the node.

The provisioning flow creates the marker before its own chef-client run and
removes it afterwards. Any local user can create files in the default
directory /var/lock, so a marker is honoured only when it is a regular file
owned by root. Anything else at that path is logged and ignored, so that a
local user cannot switch Chef off.
"""

from __future__ import annotations

import logging
import os
import stat

from chef_cron import safepath
from chef_cron.errors import UnsafePathError

log = logging.getLogger(__name__)


class Marker:
    """Result of the firstboot check."""

    __slots__ = ("present", "stale")

    def __init__(self, present: bool, stale: bool = False) -> None:
        self.present = present
        self.stale = stale


def check_directory(path: str) -> None:
    """Raise UnsafePathError if the marker's directory is owned by another user.

    The directory is followed when it is a symlink, because on Debian /var/lock
    is a symlink to /run/lock. A world-writable directory is accepted only with
    the sticky bit, as /run/lock has, so other users cannot remove or replace
    a root-owned marker.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        st = os.stat(directory)
    except FileNotFoundError:
        # No directory, so no marker can exist.
        return
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePathError("unsafe path %s: not a directory" % directory)
    safepath.check_owner_and_mode(directory, st, allow_sticky_world=True)


def boot_time(proc_stat: str = "/proc/stat") -> float | None:
    """Return the boot time in epoch seconds from the btime line, or None if unknown."""
    try:
        with open(proc_stat, encoding="ascii") as stream:
            for line in stream:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def check(path: str, booted_at: float | None) -> Marker:
    """Return whether a trusted marker exists at ``path`` and whether it predates ``booted_at``."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Marker(present=False)
    if stat.S_ISLNK(st.st_mode):
        log.warning("ignoring firstboot marker %s: it is a symlink", path)
        return Marker(present=False)
    if not stat.S_ISREG(st.st_mode):
        log.warning("ignoring firstboot marker %s: not a regular file", path)
        return Marker(present=False)
    if st.st_uid not in safepath.trusted_uids():
        log.warning("ignoring firstboot marker %s: owned by uid %d, expected root", path, st.st_uid)
        return Marker(present=False)
    # A marker from an earlier boot means the first-boot run died or was never
    # cleaned up. The run is still skipped, so cron does not converge a
    # half-provisioned node, and the status file flags it for an operator.
    stale = booted_at is not None and st.st_mtime < booted_at
    return Marker(present=True, stale=stale)
