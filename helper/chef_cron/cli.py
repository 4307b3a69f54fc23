"""Command line of chef-cron: ``run``, ``status`` and ``schedule``.

``main`` is the one place that turns errors into exit codes and prints the
single stderr line that cron mails.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import os
import re
from collections.abc import Callable, Sequence

from chef_cron import __version__, defaults, exitcodes
from chef_cron.errors import RunnerError, UsageError

# Names only for type checkers: importing typing costs milliseconds on every cron run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

PROG = "chef-cron"
# chef-client options that would take it out of the runner's control: a
# daemonized chef-client is not waited for, so the lock would protect nothing.
REJECTED_CHEF_OPTIONS = ("-d", "--daemonize", "-i", "--interval")

log = logging.getLogger(__name__)


def _help_width() -> int:
    # What shutil.get_terminal_size does, without importing shutil (and with
    # it bz2 and lzma) on every cron run: argparse creates a formatter for
    # each add_argument call.
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 40)


class _HelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_help_width())


class _RawDescriptionHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_help_width())


class _Parser(argparse.ArgumentParser):
    """ArgumentParser that raises UsageError (exit 64) instead of printing usage and exiting 2."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        raise UsageError("invalid usage: %s (see %s --help)" % (message, self.prog))


_ASCII_DIGITS = re.compile(r"[0-9]+")


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        allowed = "an integer from %d to %d" % (minimum, maximum) if maximum is not None \
            else "an integer of at least %d" % minimum
        # int() also takes "+30", "3_0", " 30" and non-ASCII digits such as "３０".
        if _ASCII_DIGITS.fullmatch(text) is None:
            raise argparse.ArgumentTypeError("invalid value %r: expected %s" % (text, allowed))
        value = int(text, 10)
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError("invalid value %r: expected %s" % (text, allowed))
        return value

    return parse


# Names that both cron lines and the environment of exec() carry unchanged.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _environment_variable(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not _ENV_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            "invalid value %r: expected NAME=VALUE with NAME made of letters, digits and underscores" % text
        )
    return name, value


def _add_run(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="run chef-client --once with a lock, splay and status file",
        description="Run chef-client --once safely from cron. Arguments after -- go to chef-client.",
        usage="%(prog)s [options] [-- CHEF_CLIENT_ARGS...]",
        epilog=exitcodes.describe(),
        formatter_class=_RawDescriptionHelpFormatter,
    )
    run.add_argument("--delay", type=_integer(0, defaults.MAX_DELAY), default=0, metavar="SECONDS",
                     help="fixed per-node delay before the run, in seconds, 0 to %d (default: 0)" % defaults.MAX_DELAY)
    run.add_argument("--splay", type=_integer(0), default=0, metavar="SECONDS",
                     help="maximum random extra delay, in seconds (default: 0)")

    run.add_argument("--timeout", type=_integer(0), default=defaults.TIMEOUT, metavar="SECONDS",
                     help="stop chef-client after this many seconds, 0 for no limit. An orphaned "
                     "chef-client left by a killed runner is ended once it has run this long (default: %d)"
                     % defaults.TIMEOUT)
    run.add_argument("--kill-grace", type=_integer(0), default=defaults.KILL_GRACE, metavar="SECONDS",
                     help="seconds between SIGTERM and SIGKILL when stopping chef-client, a "
                     "leftover daemon or an orphaned chef-client. The service manager's stop "
                     "of a chef-client daemon gets the larger of this and %d seconds, even with 0 "
                     "(default: %d)" % (defaults.MIN_SERVICE_STOP_SECONDS, defaults.KILL_GRACE))

    run.add_argument("--lock-file", default=defaults.LOCK_FILE, metavar="PATH",
                     help="lock file; its directory is created 0700 (default: %s)" % defaults.LOCK_FILE)
    run.add_argument("--firstboot-file", default=defaults.FIRSTBOOT_FILE, metavar="PATH",
                     help="skip the run while this root-owned file exists (default: %s)"
                     % defaults.FIRSTBOOT_FILE)
    run.add_argument("--log-file", default=defaults.LOG_FILE, metavar="PATH",
                     help="log file for the runner and chef-client output; its directory is "
                     "created 0750 (default: %s)" % defaults.LOG_FILE)
    run.add_argument("--status-file", default=defaults.STATUS_FILE, metavar="PATH",
                     help="JSON status file written after every run (default: %s)" % defaults.STATUS_FILE)
    run.add_argument("--textfile-dir", default=None, metavar="DIR",
                     help="node_exporter textfile collector directory for chef_cron.prom "
                     "(default: none, no metrics file)")

    run.add_argument("--chef-client", default=defaults.CHEF_CLIENT, metavar="PATH",
                     help="chef-client executable (default: %s)" % defaults.CHEF_CLIENT)
    run.add_argument("--chef-license", default=None, metavar="VALUE",
                     help="set CHEF_LICENSE to VALUE for chef-client, e.g. accept-no-persist "
                     "(default: not set)")
    run.add_argument("--setenv", type=_environment_variable, action="append", default=[],
                     metavar="NAME=VALUE",
                     help="pass this variable to chef-client, such as http_proxy=...; repeat for more. "
                     "The runner passes no other variables except LANG, LC_ALL and TZ, and PATH "
                     "stays fixed (default: none)")
    run.add_argument("--rss-warn-mb", type=_integer(0), default=defaults.RSS_WARN_MB, metavar="MIB",
                     help="log a warning when chef-client's peak RSS exceeds this many MiB, "
                     "0 to disable (default: %d)" % defaults.RSS_WARN_MB)

    run.add_argument("--syslog-socket", default=defaults.SYSLOG_SOCKET, metavar="PATH",
                     help="syslog socket; skipped when missing, an empty value disables syslog "
                     "(default: %s)" % defaults.SYSLOG_SOCKET)
    run.set_defaults(handler=_handle_run)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for all subcommands."""
    parser = _Parser(prog=PROG, description="Run chef-client --once safely from cron.")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    _add_run(subparsers)

    status = subparsers.add_parser(
        "status",
        help="print the last run on one line, with Nagios exit codes",
        description="Print the last run. Exit 0 (OK) when the last success is at most --max-age "
        "seconds old, 2 (CRITICAL) when older, never or no status file, 3 (UNKNOWN) when the "
        "status file cannot be read, is not a regular file, contains an invalid time, or records "
        "a last success more than 5 minutes in the future.",
    )
    status.add_argument("--status-file", default=defaults.STATUS_FILE, metavar="PATH",
                        help="JSON status file to read (default: %s)" % defaults.STATUS_FILE)
    status.add_argument("--max-age", type=_integer(1), default=defaults.MAX_AGE, metavar="SECONDS",
                        help="maximum age of the last success, in seconds (default: %d)" % defaults.MAX_AGE)
    status.set_defaults(handler=_handle_status)

    schedule = subparsers.add_parser(
        "schedule",
        help="print the cron minute field and the delay for a node",
        description="Print 'minute=FIELD delay=SECONDS' for node NAME; the cookbook uses it "
        "to spread runs of many nodes.",
    )
    # Optional here only so that parse can take a NAME that starts with "-"
    # from after "--". parse rejects a missing NAME itself.
    schedule.add_argument("name", metavar="NAME", nargs="?",
                          help="node name; put it after -- when it starts with '-'")
    schedule.add_argument("--interval", type=_integer(1), default=30, metavar="MINUTES",
                          help="minutes between runs, a divisor of 60 (default: 30)")
    schedule.set_defaults(handler=_handle_schedule)
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``, putting the words after the first ``--`` into ``chef_args``."""
    words = list(argv)
    chef_args: list[str] = []
    if "--" in words:
        # Split by hand: argparse's treatment of "--" differs between Python versions.
        index = words.index("--")
        words, chef_args = words[:index], words[index + 1 :]
    if chef_args and words[:1] == ["schedule"]:
        # "schedule -- -web-01 --interval 30": the first word after -- is
        # the node name, and the words after it are options again.
        return _parse_schedule(words + chef_args[1:], chef_args[0])
    args = build_parser().parse_args(words)
    if args.command == "schedule" and args.name is None:
        raise UsageError("invalid usage: schedule requires NAME (see %s schedule --help)" % PROG)
    if chef_args and args.command != "run":
        raise UsageError("invalid usage: only 'run' accepts arguments after -- (see %s --help)" % PROG)
    for word in chef_args:
        if word in REJECTED_CHEF_OPTIONS or word.startswith(("--daemonize=", "--interval=")):
            raise UsageError(
                "invalid chef-client argument %r: chef-cron runs chef-client --once and waits "
                "for it, so daemon options are not allowed" % word
            )
    args.chef_args = chef_args
    return args


def _parse_schedule(words: list[str], name: str) -> argparse.Namespace:
    args = build_parser().parse_args(words)
    if args.name is not None:
        raise UsageError("invalid usage: schedule takes one NAME, got %r and %r (see %s schedule --help)"
                         % (args.name, name, PROG))
    args.name = name
    args.chef_args = []
    return args


def _handle_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from chef_cron import run

    result = run.execute(args, argv)
    if result.outcome not in run.QUIET_OUTCOMES and result.message:
        print(result.message, file=sys.stderr)
    return result.exit_code


def _handle_status(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from chef_cron import status

    code, line = status.report(args.status_file, args.max_age, time.time())
    print(line)
    return code


def _handle_schedule(args: argparse.Namespace, argv: Sequence[str]) -> int:
    # Imported here so that run and status never load the schedule module.
    from chef_cron import schedule

    return schedule.main_schedule(args.name, args.interval)


def main(argv: Sequence[str] | None = None) -> int:
    """Run chef-cron with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse(words)
        return args.handler(args, words)
    except RunnerError as error:
        # The run has already logged the error, and cron mails this line.
        print("%s: %s" % (PROG, error), file=sys.stderr)
        return error.exit_code
    except SystemExit as exit_request:
        # --help and --version. argparse errors arrive as UsageError above.
        return exit_request.code if isinstance(exit_request.code, int) else exitcodes.SUCCESS
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
        return exitcodes.for_signal(2)
    except Exception as error:  # noqa: BLE001 - the one top-level handler
        log.debug("internal error", exc_info=True)
        print("%s: internal error: %s: %s; see the log file" % (PROG, type(error).__name__, error), file=sys.stderr)
        return exitcodes.INTERNAL
