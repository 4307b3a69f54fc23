"""Coordinated mode spaces the nodes that the search returns evenly."""

from __future__ import annotations

import json
import subprocess

from node_checks import REPO_ROOT, SCHEDULE_LIBRARY, expected_schedule, option_value

INTERVAL = 30
FIXTURE_NODES = REPO_ROOT / "test/fixtures/nodes"


def peer_names() -> list[str]:
    """Return the fixture nodes that the default search query matches."""
    names = []
    for path in sorted(FIXTURE_NODES.glob("*.json")):
        node = json.loads(path.read_text())
        if any(recipe.startswith("chef_cron") for recipe in node["automatic"]["recipes"]):
            names.append(node["name"])
    return names


def coordinated_schedule(name: str, peers: list[str]) -> dict[str, object]:
    script = (
        "require 'json'; "
        "s = ChefCron::Schedule.coordinated(ARGV[0], ARGV[1].split(','), interval: Integer(ARGV[2])); "
        "puts JSON.generate(minute: s[:minute], delay: s[:delay])"
    )
    output = subprocess.run(
        ["ruby", "-r", str(SCHEDULE_LIBRARY), "-e", script, name, ",".join(peers), str(INTERVAL)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def test_coordinated_fixture_differs_from_hash(node_name):
    # Without this, the checks below could pass with hash mode as well.
    assert coordinated_schedule(node_name, peer_names()) != expected_schedule(node_name, INTERVAL)


def test_coordinated_minutes(cron_entry, node_name):
    assert cron_entry.minute == coordinated_schedule(node_name, peer_names())["minute"]


def test_coordinated_delay(cron_entry, node_name):
    expected = coordinated_schedule(node_name, peer_names())["delay"]
    assert option_value(cron_entry.argv, "--delay") == str(expected)
