"""Two runners started together make exactly one chef-client run."""

from __future__ import annotations

import shlex

from node_checks import EXIT_SKIPPED, log_tail, run_count


def test_lock_second_runner_skips(host, runner):
    before = run_count(host)
    command = runner.command()
    # Both start in the same shell at once; each writes its exit code.
    both = (
        f"rm -f /tmp/runner-exit.*; "
        f"({command}; echo $? > /tmp/runner-exit.1) & "
        f"({command}; echo $? > /tmp/runner-exit.2) & "
        f"wait; cat /tmp/runner-exit.1 /tmp/runner-exit.2"
    )
    result = host.run(f"sh -c {shlex.quote(both)}")
    exit_codes = sorted(int(code) for code in result.stdout.split())
    assert exit_codes == [0, EXIT_SKIPPED], log_tail(host)
    assert run_count(host) == before + 1, log_tail(host)
