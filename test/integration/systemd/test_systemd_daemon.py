"""Under systemd, the chef-client service is stopped and disabled, by the
converge and again by the runner."""

from __future__ import annotations

import time

from node_checks import log_tail, run_count


def systemctl(host, verb: str, unit: str) -> str:
    return host.run(f"systemctl {verb} {unit}").stdout.strip()


def test_systemd_is_pid_1(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"


def test_chef_client_service_disabled(host):
    assert systemctl(host, "is-enabled", "chef-client.service") == "disabled"


# chef-client exits non-zero on SIGTERM, so systemd may report a stopped
# daemon as failed rather than inactive.
STOPPED = ("inactive", "failed")


def test_chef_client_service_stopped(host):
    assert systemctl(host, "is-active", "chef-client.service") in STOPPED


def test_chef_client_service_no_process(host):
    assert host.check_output("systemctl show --property MainPID --value chef-client.service") == "0"


def test_cron_service_running(host):
    assert systemctl(host, "is-active", "cron.service") == "active"


def test_runner_stops_restarted_service(host, runner):
    # An admin may start the daemon again by hand; the next run stops it.
    host.run_expect([0], "systemctl start chef-client.service")
    for _ in range(30):
        if systemctl(host, "is-active", "chef-client.service") == "active":
            break
        time.sleep(1)
    before = run_count(host)
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    assert systemctl(host, "is-active", "chef-client.service") in STOPPED, log_tail(host)
    assert run_count(host) > before, log_tail(host)
