"""Fixtures for the kitchen suites.

testinfra's ``host`` fixture reaches the node through ``--hosts=docker://NAME``,
which the kitchen verifier passes.
"""

from __future__ import annotations

import time

import pytest

from node_checks import CRON_FILE, CronEntry, Runner, parse_cron_entry


@pytest.fixture(scope="module")
def cron_entry(host) -> CronEntry:
    return parse_cron_entry(host.file(CRON_FILE).content_string)


@pytest.fixture(scope="module")
def node_name(host) -> str:
    # Ohai, and so chef-client, names a node after its fully qualified hostname.
    return host.check_output("hostname --fqdn")


@pytest.fixture(scope="module")
def cron_paused(host):
    """Stop cron while a test starts runners by hand.

    The node's own schedule could otherwise start a run in the middle of a
    test, and one of the two would find the lock taken.
    """
    host.run_expect([0], "/etc/init.d/cron stop")
    for _ in range(120):
        # The brackets keep the pattern from matching the shell that runs pgrep.
        if host.run("pgrep -f '[c]hef-cron run'").rc == 1:
            break
        time.sleep(1)
    yield
    host.run_expect([0], "/etc/init.d/cron start")


@pytest.fixture
def runner(host, cron_entry, cron_paused) -> Runner:
    return Runner(host, cron_entry)
