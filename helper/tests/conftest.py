"""Shared fixtures, and the switch between host tests and container tests.

Tests marked ``container`` kill processes, need root or write system paths.
On the host they are skipped one by one, and test_container_suite.py runs
all of them in a throwaway chef-cron/pytest:12 container instead, where
CHEF_CRON_IN_CONTAINER=1 is set. So ``/usr/bin/python3 -m pytest helper/tests``
on the host runs everything.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HELPER_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HELPER_DIR))
sys.path.insert(0, str(Path(__file__).resolve().parent))

IN_CONTAINER = os.environ.get("CHEF_CRON_IN_CONTAINER") == "1"

import fakes  # noqa: E402  (needs the sys.path entry above)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "container: kills processes, needs root or writes system paths; runs only in the container"
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # The container runs only container tests, and its image lacks some test
    # dependencies (hypothesis), so modules without any are not even imported there.
    if IN_CONTAINER and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        if "mark.container" not in collection_path.read_text(encoding="utf-8"):
            return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IN_CONTAINER:
        return
    skip = pytest.mark.skip(reason="container test: runs in chef-cron/pytest:12 through test_container_suite")
    for item in items:
        if "container" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _forbid_host_side_effects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any in-process run on the host fail before it could stop a daemon or start chef-client.

    Host tests call ``cli.main`` in-process and expect it to stop earlier
    (usage error, firstboot marker, busy lock, unsafe path). If a change
    breaks that, this stops the run instead of letting it scan the host's
    /proc, call systemctl or start a chef-client.
    """
    if IN_CONTAINER:
        return
    from chef_cron import child, daemon

    def reject(*args: object, **kwargs: object) -> None:
        raise AssertionError("a host test reached a step that must only run in the container")

    monkeypatch.setattr(daemon, "stop_leftovers", reject)
    monkeypatch.setattr(child, "run", reject)


@pytest.fixture(scope="session")
def zipapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the zipapp once per session, as the cookbook deploys it."""
    import build

    output = tmp_path_factory.mktemp("zipapp") / "chef-cron"
    assert build.main([str(output)]) == 0
    return output


@pytest.fixture
def sandbox(tmp_path: Path, zipapp: Path) -> fakes.Sandbox:
    """Paths for one runner in a temporary directory, with a fake chef-client."""
    return fakes.Sandbox(tmp_path, zipapp)
