"""The managed cron file and the schedule it carries."""

from __future__ import annotations

from node_checks import CRON_FILE, RUNNER, expected_schedule, option_value

INTERVAL = 30


def test_cron_file_owned_by_root(host):
    cron_file = host.file(CRON_FILE)
    assert cron_file.user == "root"
    assert cron_file.group == "root"


def test_cron_file_mode(host):
    assert host.file(CRON_FILE).mode == 0o644


def test_cron_file_ends_with_newline(host):
    # cron ignores a last line that has no newline.
    assert host.file(CRON_FILE).content_string.endswith("\n")


def test_cron_file_says_managed(host):
    first_line = host.file(CRON_FILE).content_string.splitlines()[0]
    assert "Managed by Chef (chef_cron)" in first_line


def test_cron_minutes_match_library(cron_entry, node_name):
    assert cron_entry.minute == expected_schedule(node_name, INTERVAL)["minute"]


def test_cron_delay_matches_library(cron_entry, node_name):
    assert option_value(cron_entry.argv, "--delay") == str(expected_schedule(node_name, INTERVAL)["delay"])


def test_cron_runs_as_root(cron_entry):
    assert cron_entry.user == "root"


def test_cron_command_calls_runner(cron_entry):
    assert cron_entry.argv[:2] == [RUNNER, "run"]


def test_cron_daemon_running(host):
    assert host.process.filter(comm="cron"), "no cron process on the node"
