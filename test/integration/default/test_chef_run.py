"""A runner started with the cron entry's arguments completes a real chef-client run."""

from __future__ import annotations

from node_checks import LOG_FILE, log_tail, read_status, run_count


def test_chef_run_succeeds(host, runner):
    before = run_count(host)
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    assert run_count(host) == before + 1, log_tail(host)


def test_chef_run_silent_on_success(host, runner):
    # cron mails whatever a job prints, so a good run prints nothing.
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    assert result.stdout == ""
    assert result.stderr == ""


def test_chef_run_logged(host, runner):
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    log = host.file(LOG_FILE).content_string
    assert "Chef Infra Client, version" in log
    assert "recipe[marker]" in log or "marker::default" in log


def test_chef_run_status_success(host, runner):
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    status = read_status(host)
    assert status["outcome"] == "success"
    assert status["exit_code"] == 0
