"""Exclusive, non-blocking lock so that only one runner converges the node at a time.

The lock file is never deleted: deleting it would let a runner that opened
the old inode and a runner that created a new one both hold "the" lock.
"""

from __future__ import annotations

import fcntl
import logging
import os

from chef_cron import safepath

LOCK_DIR_MODE = 0o700
LOCK_FILE_MODE = 0o600

log = logging.getLogger(__name__)


def acquire(path: str) -> int | None:
    """Return the descriptor holding the lock at ``path``, or None if another process holds it.

    The descriptor is O_CLOEXEC, so chef-client and anything it leaves behind
    never inherit the lock. The lock is released when the runner exits.
    Raises UnsafePathError if the directory or the file is not safe.
    """
    directory, name = safepath.split(path)
    dir_fd = safepath.open_dir(directory, create_mode=LOCK_DIR_MODE)
    try:
        fd = safepath.open_file_in(dir_fd, directory, name, os.O_RDWR | os.O_CREAT, LOCK_FILE_MODE)
    finally:
        os.close(dir_fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd
