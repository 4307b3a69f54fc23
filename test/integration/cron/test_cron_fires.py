"""The real cron daemon starts the runner, and the run finishes."""

from __future__ import annotations

import time

from node_checks import RUNS_LOG, STATUS_FILE, log_tail, read_status

# Cron fires at the next minute, the runner then sleeps its per-node delay of
# up to 59 s, and chef-client needs some seconds more.
WAIT_SECONDS = 240


def test_cron_starts_finished_run(host):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if host.file(STATUS_FILE).exists and host.file(RUNS_LOG).exists:
            break
        time.sleep(5)
    assert host.file(STATUS_FILE).exists, f"no run finished within {WAIT_SECONDS} s\n{log_tail(host)}"
    assert read_status(host)["outcome"] == "success", log_tail(host)
    assert host.file(RUNS_LOG).content_string.strip() != ""
