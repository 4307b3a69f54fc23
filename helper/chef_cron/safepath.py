"""Open directories and files that a root process writes, without following symlinks.

Every check is made on an open file descriptor (fstat), and files are opened
relative to a directory descriptor, so a path cannot be swapped for a symlink
between the check and the use.
"""

from __future__ import annotations

import os
import stat

from chef_cron.errors import RunnerError, UnsafePathError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def trusted_uids() -> frozenset[int]:
    """Return the owners accepted for our files: root, and the current user when not root.

    Accepting the current user lets the unit tests run unprivileged. Under
    cron the runner is root, and then only root-owned paths are accepted.
    """
    return frozenset((0, os.geteuid()))


def check_owner_and_mode(path: str, st: os.stat_result, allow_sticky_world: bool = False) -> None:
    """Raise UnsafePathError if ``st`` is not owned by a trusted user or is group/other-writable.

    ``allow_sticky_world`` accepts a world-writable directory with the sticky
    bit, such as /run/lock, where other users cannot replace our files.
    """
    if st.st_uid not in trusted_uids():
        raise UnsafePathError("unsafe path %s: owned by uid %d, expected root" % (path, st.st_uid))
    writable_by_others = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if writable_by_others and not (allow_sticky_world and st.st_mode & stat.S_ISVTX):
        raise UnsafePathError(
            "unsafe path %s: mode %04o is writable by group or others"
            % (path, stat.S_IMODE(st.st_mode))
        )


def ensure_dir(path: str, mode: int) -> None:
    """Create ``path`` with ``mode`` if it is missing. Missing parents get 0755.

    Each missing level is created with mkdir relative to a descriptor of its
    parent, opened again with O_NOFOLLOW and checked with fstat, and its mode
    is set with fchmod. So a user who can write to a parent and swaps a
    symlink or another directory in after the mkdir makes the runner raise
    UnsafePathError, never chmod a directory it did not create. The levels
    that already exist are opened by path and may be symlinks, such as
    /var/run, as open_dir accepts them too.
    """
    if os.path.lexists(path):
        return
    existing = os.path.abspath(path)
    missing: list[str] = []
    while not os.path.lexists(existing):
        existing, name = os.path.split(existing)
        missing.append(name)
    missing.reverse()

    dir_fd = os.open(existing, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for index, name in enumerate(missing):
            existing = os.path.join(existing, name)
            is_last = index == len(missing) - 1
            child_fd = _make_dir_at(dir_fd, name, existing, mode if is_last else 0o755)
            if child_fd is None and not is_last:
                # Another process created this parent first. It is entered
                # without following a symlink, and its mode is left alone.
                child_fd = _open_dir_at(dir_fd, name, existing)
            os.close(dir_fd)
            dir_fd = child_fd
            if dir_fd is None:
                return
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _make_dir_at(dir_fd: int, name: str, path: str, mode: int) -> int | None:
    """Create directory ``name`` below ``dir_fd`` with exactly ``mode`` and return a descriptor of it.

    Returns None when another process created ``name`` first. open_dir then
    checks it like any directory that already exists.
    """
    try:
        os.mkdir(name, mode, dir_fd=dir_fd)
    except FileExistsError:
        return None
    fd = _open_dir_at(dir_fd, name, path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePathError("unsafe path %s: not a directory" % path)
        if st.st_uid != os.geteuid():
            raise UnsafePathError("unsafe path %s: owned by uid %d right after mkdir, expected uid %d"
                                  % (path, st.st_uid, os.geteuid()))
        # mkdir applies the umask, so set the exact mode.
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_dir_at(dir_fd: int, name: str, path: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as error:
        raise _open_error(path, "directory", error) from error


def open_dir(path: str, create_mode: int | None = None) -> int:
    """Return an O_CLOEXEC descriptor of a safe directory, creating it if ``create_mode`` is set.

    The directory must not be a symlink, must be owned by a trusted user and
    must not be writable by group or others.
    NOTE: only the last component is checked. The parents of the defaults
    (/var/lib, /var/log) are root-owned on Debian.
    """
    if create_mode is not None:
        try:
            ensure_dir(path, create_mode)
        except OSError as error:
            raise RunnerError("cannot create directory %s: %s" % (path, error.strerror)) from error
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as error:
        raise _open_error(path, "directory", error) from error
    try:
        check_owner_and_mode(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_file_in(dir_fd: int, dir_path: str, name: str, flags: int, mode: int) -> int:
    """Open ``name`` below ``dir_fd`` with O_NOFOLLOW|O_CLOEXEC and check it is a regular file we own."""
    path = os.path.join(dir_path, name)
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    except OSError as error:
        raise _open_error(path, "file", error) from error
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError("unsafe path %s: not a regular file" % path)
        if st.st_uid not in trusted_uids():
            raise UnsafePathError("unsafe path %s: owned by uid %d, expected root" % (path, st.st_uid))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_error(path: str, kind: str, error: OSError) -> RunnerError:
    # O_NOFOLLOW fails with ELOOP on a symlink and O_DIRECTORY with ENOTDIR
    # on a non-directory. Both mean that something else took our path.
    if os.path.islink(path):
        return UnsafePathError("unsafe path %s: %s is a symlink" % (path, kind))
    if kind == "directory" and os.path.lexists(path) and not os.path.isdir(path):
        return UnsafePathError("unsafe path %s: not a directory" % path)
    return RunnerError("cannot open %s %s: %s" % (kind, path, error.strerror))


def split(path: str) -> tuple[str, str]:
    """Split ``path`` into an absolute directory and a file name."""
    directory, name = os.path.split(os.path.abspath(path))
    return directory, name
