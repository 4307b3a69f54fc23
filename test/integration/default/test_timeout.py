"""A chef-client run that outlasts --timeout is ended with its whole group."""

from __future__ import annotations

from node_checks import EXIT_TIMEOUT, log_tail, read_status


def test_timeout_ends_run(host, runner):
    result = runner.run("--timeout", "5", "--kill-grace", "5", chef_args=("--override-runlist", "recipe[marker::slow]"))
    assert result.rc == EXIT_TIMEOUT, log_tail(host)
    assert read_status(host)["outcome"] == "timeout"


def test_timeout_leaves_no_process(host, runner):
    runner.run("--timeout", "5", "--kill-grace", "5", chef_args=("--override-runlist", "recipe[marker::slow]"))
    # Chef's execute resource starts `sleep 600` in a session of its own, so
    # ending chef-client's process group alone would leave it running.
    # The brackets keep each pattern from matching the shell that runs pgrep.
    assert host.run("pgrep -f '[s]leep 600'").rc == 1, log_tail(host)
    assert host.run("pgrep -f '[c]hef-client --once'").rc == 1, log_tail(host)
