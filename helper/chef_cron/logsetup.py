"""Send the runner's log lines to the run log file and to syslog."""

from __future__ import annotations

import logging
import os
import sys
import time

from chef_cron import safepath
from chef_cron.errors import LogFileError, RunnerError, UnsafePathError

LOG_DIR_MODE = 0o750
LOG_FILE_MODE = 0o640
LOG_FILE_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT

# The parent of every module logger in the package.
PACKAGE_LOGGER = "chef_cron"


def open_log(path: str) -> int:
    """Return an O_APPEND descriptor of the log file, creating its directory (0750) if missing.

    chef-client gets a duplicate of this descriptor as stdout and stderr, so
    its output and the runner's lines end up in one file in time order.
    Raises UnsafePathError for an unsafe path, and LogFileError when the file
    cannot be opened or created for any other reason.
    """
    directory, name = safepath.split(path)
    try:
        dir_fd = safepath.open_dir(directory, create_mode=LOG_DIR_MODE)
        try:
            return safepath.open_file_in(dir_fd, directory, name, LOG_FILE_FLAGS, LOG_FILE_MODE)
        finally:
            os.close(dir_fd)
    except UnsafePathError:
        raise
    except RunnerError as error:
        raise LogFileError(str(error)) from error


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime


class WriteErrors:
    """Count the log lines that could not be written, and report the first on stderr.

    A full or broken log disk must not change the run's exit code, and cron
    must not mail a logging traceback for each line, so the stderr line comes
    only once per run.
    """

    def __init__(self) -> None:
        self.count = 0

    def record(self, target: str, error: BaseException | None) -> None:
        self.count += 1
        if self.count == 1:
            print("chef-cron: cannot write to %s: %s; later write errors are not reported"
                  % (target, error), file=sys.stderr)


class _FileHandler(logging.StreamHandler):
    def __init__(self, stream: object, errors: WriteErrors) -> None:
        super().__init__(stream)  # type: ignore[arg-type]
        self.write_errors = errors

    def handleError(self, record: logging.LogRecord) -> None:
        self.write_errors.record("the log file", sys.exc_info()[1])


def configure(log_fd: int, syslog_socket: str) -> list[logging.Handler]:
    """Attach the log file and, if ``syslog_socket`` exists, syslog to the package logger.

    Returns the handlers so that ``close`` can detach them again.
    """
    handlers: list[logging.Handler] = []
    errors = WriteErrors()
    stream = open(log_fd, "a", encoding="utf-8", errors="backslashreplace", closefd=False)
    file_handler = _FileHandler(stream, errors)
    file_handler.setFormatter(_UTCFormatter(
        "%(asctime)s chef-cron[%(process)d] %(levelname)s %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%SZ",
    ))
    handlers.append(file_handler)

    syslog_handler = _open_syslog(syslog_socket, errors)
    if syslog_handler is not None:
        handlers.append(syslog_handler)

    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.setLevel(logging.INFO)
    # Lines go only to our handlers, never to a root handler that a caller
    # (such as pytest) may have set up.
    logger.propagate = False
    for handler in handlers:
        logger.addHandler(handler)
    return handlers


def _open_syslog(syslog_socket: str, errors: WriteErrors) -> logging.Handler | None:
    # Containers and chroots often have no /dev/log, and the log file is enough there.
    if not syslog_socket or not os.path.exists(syslog_socket):
        return None
    # Imported here because logging.handlers costs several milliseconds and
    # is not needed when there is no syslog socket.
    import logging.handlers

    class SysLogHandler(logging.handlers.SysLogHandler):
        def handleError(self, record: logging.LogRecord) -> None:
            errors.record("syslog", sys.exc_info()[1])

    try:
        handler = SysLogHandler(address=syslog_socket, facility=logging.handlers.SysLogHandler.LOG_CRON)
    except OSError:
        return None
    handler.ident = "chef-cron[%d]: " % os.getpid()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return handler


def close(handlers: list[logging.Handler]) -> None:
    """Detach and close the handlers returned by ``configure``."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.propagate = True
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()
        if isinstance(handler, _FileHandler):
            try:
                # Closes only the text wrapper: it was opened with closefd=False.
                handler.stream.close()
            except OSError as error:
                # The final flush of lines that did not fit on the disk.
                handler.write_errors.record("the log file", error)
