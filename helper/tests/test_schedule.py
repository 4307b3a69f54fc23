"""Tests for chef_cron.schedule against the vectors shared with the cookbook."""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chef_cron import exitcodes, schedule

REPO_DIR = Path(__file__).resolve().parents[2]
VECTORS_PATH = REPO_DIR / "cookbooks" / "chef_cron" / "spec" / "fixtures" / "schedule_vectors.json"
RUBY_LIBRARY = REPO_DIR / "cookbooks" / "chef_cron" / "libraries" / "schedule.rb"

DOCUMENT = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
VECTORS = DOCUMENT["vectors"]

INTERVAL_MESSAGE = (
    "chef_cron: interval {!r} is invalid. Use a number of minutes that divides 60: "
    "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60"
)


def vector_id(vector: dict) -> str:
    name = vector["name"]
    if len(name) > 40:
        name = f"{name[:20]}...({len(name)} chars)"
    return f"{name}@{vector['interval']}"


def test_digest_equals_vectors_digest() -> None:
    assert schedule.DIGEST == DOCUMENT["digest"]


def test_digest_equals_cookbook_digest() -> None:
    match = re.search(r"""^\s*DIGEST = ["']([^"']+)["']""", RUBY_LIBRARY.read_text(encoding="utf-8"), re.M)
    assert match is not None
    assert schedule.DIGEST == match.group(1)


def test_golden_step_value() -> None:
    # math.isqrt(5 << 128) is floor(sqrt(5) * 2**64), and 2**64 / golden ratio
    # is (sqrt(5) - 1) / 2 * 2**64. bc gives 11400714819323198485.95...
    assert schedule.GOLDEN_STEP == (math.isqrt(5 << 128) - (1 << 64)) // 2
    assert schedule.GOLDEN_STEP == 11400714819323198485


def test_allowed_intervals_divide_60() -> None:
    assert schedule.ALLOWED_INTERVALS == tuple(i for i in range(1, 61) if 60 % i == 0)


def test_vectors_count() -> None:
    assert len(VECTORS) >= 200


@pytest.mark.parametrize("vector", VECTORS, ids=vector_id)
def test_compute_vector(vector: dict) -> None:
    result = schedule.compute(vector["name"], vector["interval"])
    assert result.minute == vector["minute"]
    assert result.delay == vector["delay"]
    assert result.offset == vector["offset"]
    assert schedule.split_name(vector["name"]) == (vector["stem"], vector["number"])
    assert schedule.position(vector["name"]) == vector["position"]


# Expected values derived outside both implementations: digest prefixes from
# the published SHA-256 test vectors (FIPS 180-2) and `printf %s STEM |
# sha256sum`, and the arithmetic from bc: position = (key + number *
# 11400714819323198485) % 2^64 and offset = position * interval * 60 / 2^64,
# rounded down.
TWO_BLOCK = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("abc", 0xBA7816BF8F01CFEA),
        (TWO_BLOCK, 0x248D6A61D20638B8),
        ("nœud-ü", 0x9A248206FE80FA75),
        ("web-#", 0x7A6082E8943D46E0),
        ("ip-10-1-2-#.ec2.internal", 0xB91EBCD5AB1A5BE5),
        ("n-#", 0x965A45DE79BCC417),
    ],
)
def test_digest_key_known(name: str, key: int) -> None:
    assert schedule.digest_key(name) == key


@pytest.mark.parametrize(
    ("name", "position"),
    [
        ("abc", 13436514500253700074),  # no digits: the key itself
        ("web-001", 1772162751436145397),  # key("web-#") + 1 * step
        ("web-100", 5191541368150146836),  # key("web-#") + 100 * step
        ("ip-10-1-2-3.ec2.internal", 10647963082753167396),  # number 3
        ("n-" + "9" * 64, 17880077929806972930),  # number 10**64 - 1 = 2**64 - 1 mod 2**64
    ],
)
def test_position_known(name: str, position: int) -> None:
    assert schedule.position(name) == position


@pytest.mark.parametrize(
    ("name", "interval", "minute", "delay"),
    [
        ("abc", 30, "21,51", 51),  # 13436514500253700074 * 1800 / 2^64 = 1311
        (TWO_BLOCK, 5, "0,5,10,15,20,25,30,35,40,45,50,55", 42),  # * 300 / 2^64 = 42
        ("nœud-ü", 60, "36", 7),  # 11107145547553766005 * 3600 / 2^64 = 2167
        ("web-001", 30, "2,32", 52),  # 1772162751436145397 * 1800 / 2^64 = 172
        ("web-100", 30, "8,38", 26),  # 5191541368150146836 * 1800 / 2^64 = 506
        ("ip-10-1-2-3.ec2.internal", 30, "17,47", 19),  # = 1039
        ("n-" + "9" * 64, 30, "29,59", 4),  # 17880077929806972930 * 1800 / 2^64 = 1744
    ],
)
def test_compute_known(name: str, interval: int, minute: str, delay: int) -> None:
    result = schedule.compute(name, interval)
    assert result.minute == minute
    assert result.delay == delay


@pytest.mark.parametrize(
    ("name", "stem", "number"),
    [
        ("web-001", "web-#", 1),
        ("web-001.example.com", "web-#.example.com", 1),
        ("db-17.example.com", "db-#.example.com", 17),
        ("ip-10-1-2-3.ec2.internal", "ip-10-1-2-#.ec2.internal", 3),
        ("a1b22c", "a1b#c", 22),
        ("web-0", "web-#", 0),
        ("0042", "#", 42),
        ("web", "web", 0),
        ("web.dc1.example.com", "web.dc1.example.com", 0),
        (".web-1", ".web-1", 0),
        ("nœud-ü7", "nœud-ü#", 7),
        ("web-１２", "web-１２", 0),  # fullwidth digits are not ASCII digits
        ("خادم-٤", "خادم-٤", 0),  # nor are Arabic-Indic digits
        ("n-" + "9" * 64, "n-#", 2**64 - 1),
        ("n-1" + "0" * 64, "n-#", 0),
    ],
)
def test_split_name_known(name: str, stem: str, number: int) -> None:
    assert schedule.split_name(name) == (stem, number)


def test_split_name_long_digit_run() -> None:
    # 5000 digits are more than int() accepts by default, so reduce the
    # number modulo 2**64 digit by digit instead.
    digits = "1234567890" * 500
    expected = 0
    for digit in digits:
        expected = (expected * 10 + int(digit)) % 2**64
    assert schedule.split_name(f"node-{digits}") == ("node-#", expected)


def test_split_name_invalid_name() -> None:
    with pytest.raises(ValueError, match="node name is empty"):
        schedule.split_name("")


def test_compute_ignores_leading_zeros() -> None:
    assert schedule.compute("web-0001") == schedule.compute("web-1")


def minutes_used(names: list[str]) -> int:
    return len({schedule.offset(name, 30) // 60 for name in names})


def test_offset_sequential_names_fill_minutes() -> None:
    assert minutes_used([f"web-{i:03d}" for i in range(1, 101)]) == 30


@pytest.mark.parametrize("first", [101, 9901, 123456])
def test_offset_any_100_numbers_fill_minutes(first: int) -> None:
    assert minutes_used([f"node-{i}" for i in range(first, first + 100)]) == 30


def test_offset_golden_step_between_numbers() -> None:
    # GOLDEN_STEP / 2**64 * 1800 = 1112.46 s, so each next number runs
    # about 1112 s later, modulo the interval.
    offsets = [schedule.offset(f"web-{i:03d}", 30) for i in range(1, 101)]
    steps = {(b - a) % 1800 for a, b in zip(offsets, offsets[1:])}
    assert steps == {1112, 1113}


def test_offset_differs_from_plain_hash() -> None:
    names = [f"web-{i:03d}" for i in range(1, 101)]
    same = [name for name in names if schedule.offset(name, 30) == (schedule.digest_key(name) * 1800) >> 64]
    assert len(same) < 5


@pytest.mark.parametrize("count", [2, 10, 89, 100, 1000])
def test_position_three_gap_lengths(count: int) -> None:
    positions = sorted(schedule.position(f"web-{i}") for i in range(1, count + 1))
    gaps = [b - a for a, b in zip(positions, positions[1:])]
    gaps.append(positions[0] + 2**64 - positions[-1])
    assert min(gaps) > 0
    assert len(set(gaps)) <= 3
    assert max(gaps) / min(gaps) <= 2.62


@pytest.mark.parametrize("name", ["abc", "web", "db.example.com", "web.dc1.example.com"])
def test_offset_without_digits_is_plain_hash(name: str) -> None:
    assert schedule.offset(name, 30) == (schedule.digest_key(name) * 1800) >> 64


def test_compute_default_interval() -> None:
    assert schedule.compute("web-01") == schedule.compute("web-01", 30)


@pytest.mark.parametrize("interval", [0, -30, 7, 45, 90, 120, 30.0, 1.5, "30", None, True])
def test_compute_invalid_interval(interval: object) -> None:
    with pytest.raises(ValueError) as excinfo:
        schedule.compute("web-01", interval)  # type: ignore[arg-type]
    assert str(excinfo.value) == INTERVAL_MESSAGE.format(interval)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "chef_cron: node name None is invalid because its type is NoneType, not str"),
        (42, "chef_cron: node name 42 is invalid because its type is int, not str"),
        (b"web-01", "chef_cron: node name b'web-01' is invalid because its type is bytes, not str"),
        ("", "chef_cron: node name is empty. Pass the Chef node name."),
        ("web-\udcff", "chef_cron: node name 'web-\\udcff' is invalid because it is not valid UTF-8"),
    ],
)
def test_compute_invalid_name(name: object, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        schedule.compute(name)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Web-01", "web-01"),
        ("web-01 ", "web-01"),
        ("e\u0301", "\u00e9"),
        ("web-01.example.com", "web-01"),
        ("db-001", "web-001"),
    ],
)
def test_offset_name_taken_as_given(first: str, second: str) -> None:
    assert schedule.offset(first) != schedule.offset(second)


def test_main_schedule_prints_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert schedule.main_schedule("abc", 30) == exitcodes.SUCCESS
    captured = capsys.readouterr()
    assert captured.out == "minute=21,51 delay=51\n"
    assert captured.err == ""


@pytest.mark.parametrize(("name", "interval"), [("web-01", 45), ("", 30), ("web-\udcff", 30)])
def test_main_schedule_invalid_input(
    name: str, interval: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schedule.main_schedule(name, interval) == exitcodes.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("chef_cron: ")
    assert captured.err.count("\n") == 1


@given(
    name=st.text(min_size=1, max_size=200),
    interval=st.sampled_from(schedule.ALLOWED_INTERVALS),
)
def test_compute_consistent_with_offset(name: str, interval: int) -> None:
    result = schedule.compute(name, interval)
    minutes = [int(m) for m in result.minute.split(",")]
    assert 0 <= result.offset < interval * 60
    assert 0 <= result.delay <= 59
    assert minutes == list(range(minutes[0], 60, interval))
    assert minutes[0] * 60 + result.delay == result.offset


@pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed")
def test_compute_equals_cookbook_on_random_names() -> None:
    # Names outside the committed vectors, checked against the Ruby library in
    # a single ruby process. Seeded so that a failure can be reproduced.
    rng = random.Random(20240601)
    alphabet = "abcXYZ0123456789-._# üœ日本🚀١２"
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    intervals = [rng.choice(schedule.ALLOWED_INTERVALS) for _ in names]
    script = (
        f"require {json.dumps(str(RUBY_LIBRARY))}\n"
        "require 'json'\n"
        "JSON.parse(STDIN.read).each do |name, interval|\n"
        "  s = ChefCron::Schedule.compute(name, interval: interval)\n"
        "  puts [s[:minute], s[:delay]].join(' ')\n"
        "end\n"
    )
    completed = subprocess.run(
        ["ruby", "-e", script],
        input=json.dumps(list(zip(names, intervals))),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=60,
    )
    ruby_lines = completed.stdout.splitlines()
    python_lines = []
    for name, interval in zip(names, intervals):
        result = schedule.compute(name, interval)
        python_lines.append(f"{result.minute} {result.delay}")
    assert ruby_lines == python_lines
