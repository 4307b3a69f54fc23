"""After :add and then :remove, nothing of chef_cron runs on the node."""

from __future__ import annotations

import pytest

from node_checks import CRON_FILE, RUNNER

LOG_DIR = "/var/log/chef_cron"
LOGROTATE_FILE = "/etc/logrotate.d/chef_cron"


@pytest.mark.parametrize("path", [CRON_FILE, RUNNER, LOGROTATE_FILE])
def test_remove_deletes(host, path):
    assert not host.file(path).exists


def test_remove_leaves_no_cron_entry(host):
    result = host.run(f"grep -rl {RUNNER} /etc/cron.d /etc/crontab /var/spool/cron")
    assert result.stdout == ""


def test_remove_keeps_logs(host):
    assert host.file(LOG_DIR).is_directory
