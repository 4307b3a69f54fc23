from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from chef_cron import status
from chef_cron.errors import UnsafePathError

NOW = 1_800_000_000.0


def _record(outcome: str = "success", previous: float | None = None, **overrides: object) -> dict:
    values = dict(start=NOW - 42, end=NOW, exit_code=0, outcome=outcome, splay_seconds=1.5,
                  peak_rss_bytes=123 * 1024 * 1024, previous_last_success=previous,
                  firstboot_marker_stale=False)
    values.update(overrides)
    return status.build_record(**values)


FIELDS = ["start", "start_epoch", "end", "end_epoch", "duration_seconds", "exit_code", "outcome",
          "splay_seconds", "peak_rss_bytes", "last_success", "firstboot_marker_stale", "ended_orphan_pids"]


@pytest.mark.parametrize("field", FIELDS)
def test_build_record_has_field(field: str) -> None:
    assert field in _record()


def test_build_record_no_orphans_empty_list() -> None:
    assert _record()["ended_orphan_pids"] == []


def test_build_record_ended_orphans() -> None:
    assert _record(ended_orphan_pids=[4321])["ended_orphan_pids"] == [4321]


def test_build_record_iso_end() -> None:
    assert _record()["end"] == "2027-01-15T08:00:00Z"


def test_build_record_duration() -> None:
    assert _record()["duration_seconds"] == 42


def test_build_record_success_sets_last_success() -> None:
    assert _record("success", previous=NOW - 3600)["last_success"] == NOW


@pytest.mark.parametrize("outcome", ["failed", "timeout", "signalled", "skipped_locked", "skipped_firstboot"])
def test_build_record_other_outcome_carries_last_success(outcome: str) -> None:
    assert _record(outcome, previous=NOW - 3600)["last_success"] == NOW - 3600


@pytest.fixture
def status_file(tmp_path: Path):
    opened = status.StatusFile(str(tmp_path / "state" / "status.json"))
    yield opened
    opened.close()


def test_write_valid_json(status_file: status.StatusFile) -> None:
    status_file.write(_record())
    assert json.loads(Path(status_file.path).read_text())["outcome"] == "success"


def test_write_mode_0644(status_file: status.StatusFile) -> None:
    status_file.write(_record())
    assert stat.S_IMODE(os.stat(status_file.path).st_mode) == 0o644


def test_write_leaves_no_temporary(status_file: status.StatusFile) -> None:
    status_file.write(_record())
    status_file.write(_record())
    assert os.listdir(status_file.directory) == ["status.json"]


def test_write_replaces_inode(status_file: status.StatusFile) -> None:
    # Replaced by rename: a reader holding the old file keeps a complete copy.
    status_file.write(_record())
    before = os.stat(status_file.path).st_ino
    status_file.write(_record())
    assert os.stat(status_file.path).st_ino != before


def test_previous_last_success_read(status_file: status.StatusFile) -> None:
    status_file.write(_record(previous=NOW - 10, outcome="failed"))
    assert status_file.previous_last_success() == NOW - 10


@pytest.mark.parametrize("content", ["not json", "[]", '{"last_success": "yesterday"}', '{"last_success": true}'])
def test_previous_last_success_invalid(status_file: status.StatusFile, content: str) -> None:
    Path(status_file.path).write_text(content)
    assert status_file.previous_last_success() is None


def test_status_file_symlink_unsafe(tmp_path: Path) -> None:
    (tmp_path / "status.json").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match="symlink"):
        status.StatusFile(str(tmp_path / "status.json"))


def test_status_dir_writable_unsafe(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.mkdir()
    directory.chmod(0o777)
    with pytest.raises(UnsafePathError):
        status.StatusFile(str(directory / "status.json"))


@pytest.mark.parametrize("line", [
    "chef_cron_last_run_timestamp_seconds 1800000000",
    "chef_cron_last_run_duration_seconds 42",
    "chef_cron_last_run_exit_code 0",
    "chef_cron_last_success_timestamp_seconds 1800000000",
    "chef_cron_peak_rss_bytes 128974848",
    "chef_cron_splay_seconds 1.5",
    "chef_cron_firstboot_marker_stale 0",
    "chef_cron_ended_orphans 0",
    'chef_cron_last_run_outcome{outcome="success"} 1',
    'chef_cron_last_run_outcome{outcome="failed"} 0',
    "# TYPE chef_cron_last_run_exit_code gauge",
])
def test_to_prometheus_line(line: str) -> None:
    assert line in status.to_prometheus(_record()).splitlines()


def test_to_prometheus_counts_ended_orphans() -> None:
    text = status.to_prometheus(_record(ended_orphan_pids=[4321, 4400]))
    assert "chef_cron_ended_orphans 2" in text.splitlines()


def test_to_prometheus_omits_missing_rss() -> None:
    assert "chef_cron_peak_rss_bytes" not in status.to_prometheus(_record(peak_rss_bytes=None))


def test_write_textfile_creates_prom(tmp_path: Path) -> None:
    status.write_textfile(str(tmp_path), _record())
    assert os.listdir(tmp_path) == ["chef_cron.prom"]


def test_write_textfile_symlink_dir_rejected(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OSError):
        status.write_textfile(str(tmp_path / "link"), _record())


def _write(path: Path, **fields: object) -> None:
    record = _record()
    record.update(fields)
    path.write_text(json.dumps(record))


@pytest.mark.parametrize(("last_success", "max_age", "expected"), [
    (NOW - 60, 7200, 0),
    (NOW - 7200, 7200, 0),
    (NOW - 7201, 7200, 2),
    (NOW - 86400, 7200, 2),
    (None, 7200, 2),
])
def test_report_thresholds(tmp_path: Path, last_success: float | None, max_age: int, expected: int) -> None:
    _write(tmp_path / "status.json", last_success=last_success)
    code, _ = status.report(str(tmp_path / "status.json"), max_age, NOW)
    assert code == expected


def test_report_ok_line(tmp_path: Path) -> None:
    _write(tmp_path / "status.json", last_success=NOW - 180)
    _, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert line == "OK: success at 2027-01-15T08:00:00Z, 42s, exit 0, last success 3m ago"


def test_report_missing_critical(tmp_path: Path) -> None:
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert (code, line.split(":")[0]) == (2, "CRITICAL")


@pytest.mark.parametrize("content", ["", "{", "[]", '{"outcome": "success"}', '{"outcome": 1, "end_epoch": "x"}'])
def test_report_invalid_unknown(tmp_path: Path, content: str) -> None:
    (tmp_path / "status.json").write_text(content)
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert (code, line.split(":")[0]) == (3, "UNKNOWN")


def test_report_directory_unknown(tmp_path: Path) -> None:
    code, _ = status.report(str(tmp_path), 7200, NOW)
    assert code == 3


@pytest.mark.parametrize("field", ["end_epoch", "last_success", "duration_seconds", "exit_code"])
@pytest.mark.parametrize("raw", ["1e400", "NaN", "Infinity", "-Infinity", "1e20"])
def test_report_bad_number_unknown(tmp_path: Path, field: str, raw: str) -> None:
    record = _record(previous=NOW - 60)
    record[field] = "@"
    (tmp_path / "status.json").write_text(json.dumps(record).replace('"@"', raw))
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    if field in ("duration_seconds", "exit_code") and raw == "1e20":
        # A huge but finite duration or exit code still prints on one line.
        assert code in (0, 2)
    else:
        assert code == 3
        assert line.startswith("UNKNOWN: invalid status file ")
    assert "\n" not in line


def test_report_future_success_unknown(tmp_path: Path) -> None:
    _write(tmp_path / "status.json", last_success=NOW + 86400)
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert code == 3
    assert "in the future" in line


def test_report_small_clock_skew_ok(tmp_path: Path) -> None:
    _write(tmp_path / "status.json", last_success=NOW + 60)
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert code == 0
    assert line.endswith("last success 0s ago")


def test_report_escapes_outcome(tmp_path: Path) -> None:
    _write(tmp_path / "status.json", outcome="success\nOK: forged\x1b[2J")
    _, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert "\n" not in line
    assert "\x1b" not in line
    assert line.startswith("CRITICAL: success\\nOK: forged\\x1b[2J at ") or line.startswith(
        "OK: success\\nOK: forged\\x1b[2J at ")


def test_report_fifo_unknown_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "status.json")
    code, line = status.report(str(tmp_path / "status.json"), 7200, NOW)
    assert code == 3
    assert "not a regular file" in line
