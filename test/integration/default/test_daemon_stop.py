"""A leftover chef-client daemon is stopped, and nothing else is."""

from __future__ import annotations

import time

import pytest

from node_checks import LOG_FILE, chef_client_daemons, log_tail, run_count

CHEF_CLIENT = "/opt/chef/bin/chef-client"
FIXTURE_CONFIG = "/srv/chef-cron-fixture/client.rb"


@pytest.fixture
def chef_daemon(host):
    """Start a real chef-client daemon, as a node that ran chef as a service has."""
    # The daemon keeps the streams it starts with, and docker exec would wait
    # for them to close.
    host.run_expect(
        [0],
        f"{CHEF_CLIENT} --daemonize --interval 1800 --config {FIXTURE_CONFIG} "
        "--chef-license accept --logfile /var/log/chef-daemon.log > /dev/null 2>&1 < /dev/null",
    )
    for _ in range(30):
        if chef_client_daemons(host):
            break
        time.sleep(1)
    assert chef_client_daemons(host), "the chef-client daemon did not start"
    yield
    host.run("pkill -KILL -f '[c]hef-client --daemonize'")


@pytest.fixture
def log_follower(host):
    """A `tail -f` of the chef log, which the runner must leave alone."""
    host.run_expect([0], f"touch {LOG_FILE}; setsid tail -f {LOG_FILE} > /dev/null 2>&1 < /dev/null &")
    pid = host.check_output("pgrep -n -x tail")
    yield pid
    host.run(f"kill {pid}")


def test_daemon_stopped_before_run(host, runner, chef_daemon, log_follower):
    before = run_count(host)
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    assert chef_client_daemons(host) == [], log_tail(host)
    assert run_count(host) > before, log_tail(host)


def test_daemon_stop_spares_log_follower(host, runner, chef_daemon, log_follower):
    runner.run()
    assert host.run(f"kill -0 {log_follower}").rc == 0, log_tail(host)
