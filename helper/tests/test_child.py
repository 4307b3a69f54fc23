from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chef_cron import child
from chef_cron.errors import ChefClientMissingError


def test_build_env_keeps_allowlist() -> None:
    env = child.build_env({"LANG": "C.UTF-8", "TZ": "UTC", "LC_ALL": "C"}, None)
    assert (env["LANG"], env["TZ"], env["LC_ALL"]) == ("C.UTF-8", "UTC", "C")


@pytest.mark.parametrize("name", ["RUBYOPT", "GEM_PATH", "LD_PRELOAD", "http_proxy", "SSH_AUTH_SOCK", "CHEF_LICENSE"])
def test_build_env_drops_others(name: str) -> None:
    assert name not in child.build_env({name: "x"}, None)


def test_build_env_fixed_path() -> None:
    assert child.build_env({"PATH": "/tmp/evil"}, None)["PATH"] == child.FIXED_PATH


def test_build_env_home_root() -> None:
    assert child.build_env({"HOME": "/home/user"}, None)["HOME"] == "/root"


def test_build_env_chef_license() -> None:
    assert child.build_env({}, "accept-no-persist")["CHEF_LICENSE"] == "accept-no-persist"


def test_build_env_extra_variables() -> None:
    assert child.build_env({}, None, {"http_proxy": "http://proxy:3128"})["http_proxy"] == "http://proxy:3128"


def test_build_env_extra_cannot_change_path() -> None:
    assert child.build_env({}, None, {"PATH": "/tmp/evil"})["PATH"] == child.FIXED_PATH


def test_build_env_extra_cannot_change_home() -> None:
    assert child.build_env({}, None, {"HOME": "/tmp/evil"})["HOME"] == "/root"


def test_check_executable_missing(tmp_path: Path) -> None:
    with pytest.raises(ChefClientMissingError, match="not found"):
        child.check_executable(str(tmp_path / "chef-client"))


def test_check_executable_not_executable(tmp_path: Path) -> None:
    path = tmp_path / "chef-client"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o644)
    with pytest.raises(ChefClientMissingError, match="not executable"):
        child.check_executable(str(path))


def test_check_executable_directory(tmp_path: Path) -> None:
    with pytest.raises(ChefClientMissingError):
        child.check_executable(str(tmp_path))


# Prints the parent-death signal of the process (prctl PR_GET_PDEATHSIG).
PRINT_PDEATHSIG = (
    "import ctypes; value = ctypes.c_int(); "
    "ctypes.CDLL(None).prctl(2, ctypes.byref(value), 0, 0, 0); print(value.value)"
)


def test_parent_death_signal_set() -> None:
    result = subprocess.run([sys.executable, "-c", PRINT_PDEATHSIG], capture_output=True, text=True,
                            preexec_fn=child._parent_death_signal(os.getpid()), timeout=30, check=False)
    assert result.stdout.strip() == str(int(signal.SIGINT))


def test_parent_death_signal_parent_gone_exits() -> None:
    # A runner pid that is not the parent stands for a runner that died before prctl.
    result = subprocess.run(["/bin/true"], preexec_fn=child._parent_death_signal(1), timeout=30, check=False)
    assert result.returncode == 128 + signal.SIGINT
