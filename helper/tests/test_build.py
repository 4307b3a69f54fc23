from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import build


def test_build_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    assert build.main([str(first)]) == 0
    assert build.main([str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_build_shebang_isolated(zipapp: Path) -> None:
    assert zipapp.read_bytes().startswith(b"#!/usr/bin/python3 -I\n")


def test_build_mode_0755(zipapp: Path) -> None:
    assert zipapp.stat().st_mode & 0o777 == 0o755


def test_build_entries_sorted_after_main(zipapp: Path) -> None:
    names = zipfile.ZipFile(zipapp).namelist()
    assert names == ["__main__.py"] + sorted(names[1:])


@pytest.mark.parametrize("fragment", ["__pycache__", "tests/", ".pyc"])
def test_build_excludes(zipapp: Path, fragment: str) -> None:
    assert not [name for name in zipfile.ZipFile(zipapp).namelist() if fragment in name]


def test_build_fixed_metadata(zipapp: Path) -> None:
    infos = zipfile.ZipFile(zipapp).infolist()
    assert {(info.date_time, info.external_attr >> 16) for info in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}


def test_build_contains_cli(zipapp: Path) -> None:
    assert "chef_cron/cli.py" in zipfile.ZipFile(zipapp).namelist()


def test_zipapp_ignores_pythonpath(zipapp: Path, tmp_path: Path) -> None:
    # With -I a planted package on PYTHONPATH must not replace ours.
    planted = tmp_path / "planted" / "chef_cron"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text("raise SystemExit('planted code ran')\n")
    result = subprocess.run([str(zipapp), "--version"], capture_output=True, text=True, check=False,
                            env={"PYTHONPATH": str(planted.parent), "PATH": "/usr/bin:/bin"}, cwd=str(planted.parent))
    assert result.stdout.startswith("chef-cron ")


def test_zipapp_runs_with_debian_python(zipapp: Path) -> None:
    result = subprocess.run([sys.executable, "-I", str(zipapp), "status", "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0


def test_main_creates_missing_folder(tmp_path: Path) -> None:
    output = tmp_path / "files" / "default" / "chef-cron"
    assert build.main([str(output)]) == 0
    assert output.is_file()
