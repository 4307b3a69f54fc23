"""The process-tree functions on made-up process tables and a fake /proc directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chef_cron import proctree
from chef_cron.proctree import ProcessInfo

RUNNER = 500
CHEF = 600


def _table(*rows: tuple[int, int, int, str]) -> dict[int, ProcessInfo]:
    return {pid: ProcessInfo(pid, ppid, pgid, state, "p%d" % pid) for pid, ppid, pgid, state in rows}


# Rows are pid, ppid, pgid and state. The table has init, cron (400), and the
# runner (500) in the group 450 of cron's child. chef-client (600) runs two
# setsid commands (700, 800), and 701 is a child of 700 in its group. 900 is
# a daemon that an init script started and that is now a child of init, and
# 3000 is a kernel thread.
TABLE = _table(
    (1, 0, 1, "S"),
    (2, 0, 0, "S"),
    (400, 1, 400, "S"),
    (450, 400, 450, "S"),
    (RUNNER, 450, 450, "S"),
    (CHEF, RUNNER, CHEF, "S"),
    (700, CHEF, 700, "S"),
    (701, 700, 700, "S"),
    (800, CHEF, 800, "S"),
    (900, 1, 900, "S"),
    (3000, 2, 0, "I"),
)


def test_descendants_of_chef_client() -> None:
    pids = [info.pid for info in proctree.descendants(TABLE, CHEF)]
    assert pids == [700, 800, 701]


def test_descendants_excludes_root() -> None:
    assert CHEF not in [info.pid for info in proctree.descendants(TABLE, CHEF)]


def test_descendants_of_missing_root() -> None:
    assert proctree.descendants(TABLE, 12345) == []


def test_descendants_survives_cycle() -> None:
    table = _table((10, 11, 10, "S"), (11, 10, 11, "S"))
    assert [info.pid for info in proctree.descendants(table, 10)] == [11]


def test_protected_groups_runner_and_ancestors() -> None:
    assert proctree.protected_groups(TABLE, RUNNER) == {0, 1, 400, 450, RUNNER}


def test_protected_groups_without_table() -> None:
    assert proctree.protected_groups({}, RUNNER) == {0, 1, RUNNER}


def test_tree_groups_order() -> None:
    groups = proctree.tree_groups(TABLE, CHEF, proctree.protected_groups(TABLE, RUNNER))
    assert list(groups) == [CHEF, 700, 800]


@pytest.mark.parametrize("pgid", [900, 450, 400, 1, 0])
def test_tree_groups_leaves_out(pgid: int) -> None:
    groups = proctree.tree_groups(TABLE, CHEF, proctree.protected_groups(TABLE, RUNNER))
    assert pgid not in groups


@pytest.mark.parametrize("pgid", [0, 1, 450])
def test_tree_groups_skips_protected_descendant(pgid: int) -> None:
    # A descendant that joined the runner's group, init's group or has pgid 0.
    table = dict(TABLE)
    table[801] = ProcessInfo(801, 800, pgid, "S", "odd")
    groups = proctree.tree_groups(table, CHEF, proctree.protected_groups(table, RUNNER))
    assert pgid not in groups


def test_tree_groups_prefers_leader() -> None:
    # The first member found (702) is not the leader, so 701's leader wins.
    table = _table((CHEF, RUNNER, CHEF, "S"), (702, CHEF, 701, "S"), (710, 702, 710, "S"), (701, 710, 701, "S"))
    groups = proctree.tree_groups(table, CHEF, ())
    assert groups[701].pid == 701


def test_tree_groups_member_without_leader() -> None:
    table = _table((CHEF, RUNNER, CHEF, "S"), (702, CHEF, 701, "S"))
    assert proctree.tree_groups(table, CHEF, ())[701].pid == 702


def test_live_groups_ignores_zombies() -> None:
    table = _table((10, 1, 10, "Z"), (20, 1, 20, "S"), (21, 20, 20, "Z"), (30, 1, 30, "S"))
    assert proctree.live_groups(table, [10, 20, 40]) == {20}


def test_live_groups_orphaned_member() -> None:
    # After chef-client exits its commands are children of init, but still
    # in the groups that the snapshot recorded.
    table = _table((1, 0, 1, "S"), (700, 1, 700, "S"))
    assert proctree.live_groups(table, [CHEF, 700]) == {700}


@pytest.mark.parametrize(("data", "expected"), [
    ("42 (sleep) S 7 42 42 0 -1", (7, 42, "S", "sleep")),
    ("42 (a) b (c)) R 7 8 8 0 -1", (7, 8, "R", "a) b (c)")),
    ("42 (chef worker) Z 1 600 600 0", (1, 600, "Z", "chef worker")),
])
def test_parse_stat(data: str, expected: tuple[int, int, str, str]) -> None:
    info = proctree.parse_stat(42, data)
    assert info is not None
    assert (info.ppid, info.pgid, info.state, info.comm) == expected


@pytest.mark.parametrize("data", ["", "42 sleep S 7 42", "42 (sleep) S", "42 (sleep) S x y"])
def test_parse_stat_malformed(data: str) -> None:
    assert proctree.parse_stat(42, data) is None


def _fake_proc(root: Path, pid: int, stat: str, cmdline: bytes = b"") -> None:
    (root / str(pid)).mkdir()
    (root / str(pid) / "stat").write_text(stat)
    (root / str(pid) / "cmdline").write_bytes(cmdline)


def test_read_table_fake_proc(tmp_path: Path) -> None:
    _fake_proc(tmp_path, CHEF, "600 (chef-client) S 500 600 600 0 -1")
    _fake_proc(tmp_path, 700, "700 (sleep) S 600 700 700 0 -1")
    (tmp_path / "self").mkdir()
    (tmp_path / "800").mkdir()
    table = proctree.read_table(str(tmp_path))
    assert sorted(table) == [CHEF, 700]
    assert table[700].ppid == CHEF


def test_read_cmdline_joins_words(tmp_path: Path) -> None:
    _fake_proc(tmp_path, 700, "700 (sleep) S 600 700 700 0 -1", b"sleep\x00600\x00")
    assert proctree.read_cmdline(700, str(tmp_path)) == "sleep 600"


def test_read_cmdline_missing(tmp_path: Path) -> None:
    assert proctree.read_cmdline(700, str(tmp_path)) == ""


def test_group_signaller_snapshot_describes_groups(tmp_path: Path) -> None:
    _fake_proc(tmp_path, CHEF, "600 (ruby) S 1 600 600 0 -1", b"ruby\x00chef-client\x00--once\x00")
    _fake_proc(tmp_path, 700, "700 (sleep) S 600 700 700 0 -1", b"sleep\x00600\x00")
    tree = proctree.GroupSignaller(CHEF, "the orphaned chef-client", leads_group=True, proc_root=str(tmp_path))
    tree.snapshot()
    assert tree.groups == {
        CHEF: "the orphaned chef-client, pid 600",
        700: "a command the orphaned chef-client runs, pid 700: sleep 600",
    }


def test_group_signaller_keeps_groups_after_root_exits(tmp_path: Path) -> None:
    _fake_proc(tmp_path, CHEF, "600 (ruby) S 1 600 600 0 -1")
    _fake_proc(tmp_path, 700, "700 (sleep) S 600 700 700 0 -1")
    tree = proctree.GroupSignaller(CHEF, "chef-client", leads_group=True, proc_root=str(tmp_path))
    tree.snapshot()
    # chef-client exits and its command is reparented to init.
    (tmp_path / "600" / "stat").unlink()
    (tmp_path / "700" / "stat").write_text("700 (sleep) S 1 700 700 0 -1")
    tree.snapshot()
    assert sorted(tree.groups) == [CHEF, 700]
    assert tree.live_groups() == {700}


@pytest.mark.parametrize(("leads_group", "expected"), [(True, [CHEF]), (False, [])])
def test_group_signaller_root_missing_from_table(tmp_path: Path, leads_group: bool, expected: list[int]) -> None:
    tree = proctree.GroupSignaller(CHEF, "chef-client", leads_group=leads_group, proc_root=str(tmp_path))
    tree.snapshot()
    assert sorted(tree.groups) == expected
