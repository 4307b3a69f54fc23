"""While the firstboot marker exists, the runner leaves the node alone."""

from __future__ import annotations

import pytest

from node_checks import EXIT_SKIPPED, FIRSTBOOT_FILE, LOG_FILE, log_tail, read_status, run_count


@pytest.fixture
def firstboot_marker(host):
    host.run_expect([0], f"touch {FIRSTBOOT_FILE}")
    yield FIRSTBOOT_FILE
    host.run(f"rm -f {FIRSTBOOT_FILE}")


def test_firstboot_skips_run(host, runner, firstboot_marker):
    before = run_count(host)
    result = runner.run()
    assert result.rc == EXIT_SKIPPED, log_tail(host)
    assert run_count(host) == before


def test_firstboot_recorded(host, runner, firstboot_marker):
    runner.run()
    assert read_status(host)["outcome"] == "skipped_firstboot"
    assert "firstboot" in host.file(LOG_FILE).content_string


def test_firstboot_skip_is_silent(host, runner, firstboot_marker):
    # A node at first boot is expected to skip, so cron must not mail about it.
    result = runner.run()
    assert result.stdout == ""


def test_firstboot_removed_run_goes_ahead(host, runner, firstboot_marker):
    assert runner.run().rc == EXIT_SKIPPED
    host.run_expect([0], f"rm -f {firstboot_marker}")
    before = run_count(host)
    result = runner.run()
    assert result.rc == 0, log_tail(host)
    assert run_count(host) == before + 1


def test_firstboot_marker_owned_by_other_user_ignored(host, runner):
    # /var/lock is world-writable: a marker that any user could create must
    # not switch Chef off.
    host.run_expect([0], f"touch {FIRSTBOOT_FILE} && chown nobody {FIRSTBOOT_FILE}")
    try:
        before = run_count(host)
        result = runner.run()
        assert result.rc == 0, log_tail(host)
        assert run_count(host) == before + 1
    finally:
        host.run(f"rm -f {FIRSTBOOT_FILE}")
