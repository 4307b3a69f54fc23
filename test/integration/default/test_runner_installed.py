"""The runner on the node is the one that helper/ builds."""

from __future__ import annotations

import hashlib

from node_checks import RUNNER, build_runner


def test_runner_is_regular_file(host):
    runner = host.file(RUNNER)
    assert runner.is_file
    assert not runner.is_symlink


def test_runner_owned_by_root(host):
    runner = host.file(RUNNER)
    assert runner.user == "root"
    assert runner.group == "root"


def test_runner_not_writable_by_others(host):
    assert host.file(RUNNER).mode & 0o022 == 0


def test_runner_executable(host):
    assert host.file(RUNNER).mode & 0o100


def test_runner_identical_to_helper_source(host):
    expected = hashlib.sha256(build_runner()).hexdigest()
    assert host.file(RUNNER).sha256sum == expected


def test_runner_starts_under_node_python(host):
    result = host.run(f"{RUNNER} run --help")
    assert result.rc == 0, result.stderr
    assert "--timeout" in result.stdout
