"""Helpers for the kitchen suites: paths on the node, the cron entry and runs.

testinfra's ``host`` fixture reaches the node through ``--hosts=docker://NAME``,
which the kitchen verifier passes. These tests run on the machine that runs
kitchen, not on the node.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEDULE_LIBRARY = REPO_ROOT / "cookbooks/chef_cron/libraries/schedule.rb"

RUNNER = "/usr/local/sbin/chef-cron"
CRON_FILE = "/etc/cron.d/chef_cron"
LOG_FILE = "/var/log/chef_cron/chef-cron.log"
STATUS_FILE = "/var/lib/chef_cron/status.json"
FIRSTBOOT_FILE = "/var/lock/chef-firstboot"
# The fixture cookbook appends one line here for every chef-client run.
RUNS_LOG = "/var/lib/chef-cron-fixture/runs.log"

EXIT_SKIPPED = 75
EXIT_TIMEOUT = 124


@dataclass(frozen=True)
class CronEntry:
    """The job line of the managed cron file."""

    minute: str
    user: str
    argv: list[str]


def parse_cron_entry(text: str) -> CronEntry:
    """Return the one job line of a cron.d file, skipping comments and variables."""
    jobs = [
        line
        for line in text.splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(jobs) == 1, f"expected one job line in {CRON_FILE}, found {jobs!r}"
    fields = jobs[0].split(None, 6)
    minute, _hour, _day, _month, _weekday, user, command = fields
    return CronEntry(minute=minute, user=user, argv=shlex.split(command.replace("\\%", "%")))


def expected_schedule(name: str, interval: int) -> dict[str, object]:
    """Return the cookbook library's minute field and delay for a node name."""
    script = (
        "require 'json'; "
        "s = ChefCron::Schedule.compute(ARGV[0], interval: Integer(ARGV[1])); "
        "puts JSON.generate(minute: s[:minute], delay: s[:delay])"
    )
    output = subprocess.run(
        ["ruby", "-r", str(SCHEDULE_LIBRARY), "-e", script, name, str(interval)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def build_runner() -> bytes:
    """Build the runner zipapp from helper/ the way the cookbook ships it."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "chef-cron"
        subprocess.run(
            ["/usr/bin/python3", str(REPO_ROOT / "helper/build.py"), str(output)],
            check=True,
        )
        return output.read_bytes()


def option_value(argv: list[str], option: str) -> str:
    """Return the value after ``option`` in the runner's own arguments."""
    runner_args = argv[: argv.index("--")]
    assert option in runner_args, f"{option} missing from the cron command {argv!r}"
    return runner_args[runner_args.index(option) + 1]


class Runner:
    """Starts the runner on the node with the cron entry's own arguments."""

    def __init__(self, host, entry: CronEntry) -> None:
        self.host = host
        self.entry = entry

    def argv(self, *runner_options: str, chef_args: tuple[str, ...] = ()) -> list[str]:
        """Return the cron command with extra runner options and chef-client arguments.

        The extra options come after the cron entry's, so a repeated option
        such as ``--delay 0`` overrides the entry's value.
        """
        split = self.entry.argv.index("--")
        return [
            *self.entry.argv[:split],
            *runner_options,
            *self.entry.argv[split:],
            *chef_args,
        ]

    def command(self, *runner_options: str, chef_args: tuple[str, ...] = ()) -> str:
        return shlex.join(self.argv("--delay", "0", *runner_options, chef_args=chef_args))

    def run(self, *runner_options: str, chef_args: tuple[str, ...] = ()):
        return self.host.run(self.command(*runner_options, chef_args=chef_args))



def run_count(host) -> int:
    """Return how many chef-client runs the fixture cookbook has recorded."""
    runs = host.file(RUNS_LOG)
    if not runs.exists:
        return 0
    return len(runs.content_string.splitlines())


def read_status(host) -> dict[str, object]:
    return json.loads(host.file(STATUS_FILE).content_string)


def log_tail(host, lines: int = 40) -> str:
    """Return the end of the runner's log, to show beside a failed check."""
    return host.run(f"tail -n {lines} {LOG_FILE}").stdout


DAEMON_OPTIONS = {"-d", "--daemonize", "-i", "--interval"}


def chef_client_daemons(host) -> list[str]:
    """Return the ps lines of chef-client processes started as a daemon."""
    daemons = []
    for line in host.run("ps -eo pid=,args=").stdout.splitlines():
        words = line.split()
        runs_chef_client = any(word.endswith("/chef-client") for word in words)
        if runs_chef_client and DAEMON_OPTIONS.intersection(words):
            daemons.append(line)
    return daemons
