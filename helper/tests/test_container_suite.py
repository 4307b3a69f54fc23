"""Run the container-marked tests inside the chef-cron/pytest:12 image from the host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import IN_CONTAINER

REPOSITORY = Path(__file__).resolve().parents[2]
DOCKER = "/usr/bin/docker"
IMAGE = "chef-cron/pytest:12"
SKIP_VARIABLE = "CHEF_CRON_SKIP_CONTAINER_TESTS"


def container_command() -> list[str]:
    """Return the docker command that runs the container tests with the repository read-only."""
    return [
        DOCKER, "run", "--rm",
        # tini as PID 1 reaps orphans, as init does on a real host, so the
        # process-group checks do not see zombies.
        "--init",
        "--network", "none",
        # Root on a real host can read every process's /proc/PID/exe, which
        # Docker's default capabilities do not allow for another user's
        # process. The tests with a non-root chef-client look-alike need it.
        "--cap-add", "SYS_PTRACE",
        "-v", "%s:/src:ro" % REPOSITORY,
        "-e", "CHEF_CRON_IN_CONTAINER=1",
        "-e", "PYTHONDONTWRITEBYTECODE=1",
        IMAGE,
        "python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs",
        "-m", "container", "/src/helper/tests",
    ]


@pytest.mark.skipif(IN_CONTAINER, reason="already inside the container")
def test_container_suite_passes() -> None:
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip("%s=1 is set" % SKIP_VARIABLE)
    if not os.access(DOCKER, os.X_OK):
        pytest.fail("%s not found: the container tests need docker (set %s=1 to skip them)"
                    % (DOCKER, SKIP_VARIABLE))
    result = subprocess.run(container_command(), capture_output=True, text=True, timeout=1200, check=False)
    # pytest exits 5 when it collects no test, which must fail here too.
    assert result.returncode == 0, "container tests failed (exit %d):\n%s\n%s" % (
        result.returncode, result.stdout, result.stderr)
