"""The chef-client daemon that a sysvinit script started is stopped and disabled."""

from __future__ import annotations

from node_checks import chef_client_daemons


def test_sysv_daemon_stopped(host):
    assert host.run("/etc/init.d/chef-client status").rc != 0
    assert chef_client_daemons(host) == []


def test_sysv_daemon_disabled(host):
    # update-rc.d disable turns the start links of every runlevel into stop links.
    start_links = host.run("ls /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d").stdout.split()
    assert not [link for link in start_links if link.startswith("S") and link.endswith("chef-client")]


def test_sysv_daemon_was_installed(host):
    # Without the script, the two checks above would pass for nothing.
    assert host.file("/etc/init.d/chef-client").exists
