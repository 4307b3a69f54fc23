"""Exceptions that the top-level handler in cli.py maps to exit codes."""

from __future__ import annotations

from chef_cron import exitcodes


class RunnerError(Exception):
    """An error with a known exit code and a one-line message for stderr."""

    exit_code = exitcodes.INTERNAL


class UsageError(RunnerError):
    exit_code = exitcodes.USAGE


class UnsafePathError(RunnerError):
    exit_code = exitcodes.UNSAFE_PATH


class ChefClientMissingError(RunnerError):
    exit_code = exitcodes.UNAVAILABLE


class LogFileError(RunnerError):
    """The log file cannot be opened for a reason other than an unsafe path."""

    exit_code = exitcodes.LOG_FILE_FAILED
