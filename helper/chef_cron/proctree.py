"""Find the process groups of a process and of its descendants in /proc, and signal them.

chef-client's ``execute`` resource (mixlib-shellout, checked with Chef 18.11)
calls setsid in every command it starts, so each command runs in its own
session and process group. Signalling chef-client's group alone would leave
those commands running, so the runner signals every group in chef-client's
descendant tree. The functions that take a table are pure, so the tests can
feed them a made-up process table.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterable, Mapping

from chef_cron.printable import decode, printable

PROC_ROOT = "/proc"
# pgid 0 belongs to kernel threads and killpg(0) means "my own group";
# pgid 1 is init's group.
NEVER_SIGNALLED = frozenset((0, 1))

log = logging.getLogger(__name__)


class ProcessInfo:
    """One process as /proc/PID/stat shows it."""

    __slots__ = ("pid", "ppid", "pgid", "state", "comm")

    def __init__(self, pid: int, ppid: int, pgid: int, state: str, comm: str) -> None:
        self.pid = pid
        self.ppid = ppid
        self.pgid = pgid
        self.state = state
        self.comm = comm

    def __repr__(self) -> str:
        return "ProcessInfo(pid=%d, ppid=%d, pgid=%d, state=%r, comm=%r)" % (
            self.pid, self.ppid, self.pgid, self.state, self.comm)


def parse_stat(pid: int, data: str) -> ProcessInfo | None:
    """Return the process described by ``data``, the text of /proc/PID/stat, or None if it is malformed."""
    # The command name in brackets may contain spaces and brackets itself.
    opening = data.find("(")
    closing = data.rfind(")")
    if opening < 0 or closing < opening:
        return None
    fields = data[closing + 2 :].split()
    try:
        return ProcessInfo(pid=pid, ppid=int(fields[1]), pgid=int(fields[2]), state=fields[0],
                           comm=data[opening + 1 : closing])
    except (IndexError, ValueError):
        return None


def read_table(proc_root: str = PROC_ROOT) -> dict[int, ProcessInfo]:
    """Return every process under ``proc_root`` by pid, skipping those that exit during the scan."""
    table: dict[int, ProcessInfo] = {}
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        try:
            with open("%s/%s/stat" % (proc_root, entry), "rb") as stream:
                data = stream.read().decode("utf-8", "replace")
        except OSError:
            continue
        info = parse_stat(int(entry), data)
        if info is not None:
            table[info.pid] = info
    return table


def read_cmdline(pid: int, proc_root: str = PROC_ROOT) -> str:
    """Return the command line of ``pid`` joined by spaces, or "" if it is gone or has none."""
    try:
        with open("%s/%d/cmdline" % (proc_root, pid), "rb") as stream:
            data = stream.read()
    except OSError:
        return ""
    return " ".join(word for word in decode(data).split("\0") if word)


def descendants(table: Mapping[int, ProcessInfo], root: int) -> list[ProcessInfo]:
    """Return the processes below ``root`` in ``table``, parents before children, without ``root``."""
    children: dict[int, list[ProcessInfo]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info)
    found: list[ProcessInfo] = []
    seen = {root}
    queue = [root]
    while queue:
        parent = queue.pop(0)
        for info in sorted(children.get(parent, ()), key=lambda process: process.pid):
            # A table read while processes come and go can hold a cycle
            # through a reused pid, so each pid is visited once.
            if info.pid in seen:
                continue
            seen.add(info.pid)
            found.append(info)
            queue.append(info.pid)
    return found


def protected_groups(table: Mapping[int, ProcessInfo], self_pid: int) -> frozenset[int]:
    """Return the pgids that must never be signalled: those of ``self_pid`` and its ancestors, 0 and 1.

    An ancestor's pid counts too, because it is the id of any group that the
    ancestor leads or led.
    """
    protected = set(NEVER_SIGNALLED)
    pid = self_pid
    visited: set[int] = set()
    while pid not in visited:
        visited.add(pid)
        protected.add(pid)
        info = table.get(pid)
        if info is None:
            break
        protected.add(info.pgid)
        pid = info.ppid
    return frozenset(protected)


def tree_groups(
    table: Mapping[int, ProcessInfo], root: int, protected: Iterable[int]
) -> dict[int, ProcessInfo]:
    """Return the groups of ``root`` and its descendants, each with the process that stands for it in logs.

    The representative is the group leader when it is in the tree, else the
    first member found. ``root``'s group comes first, and groups in
    ``protected`` are left out.
    """
    excluded = frozenset(protected)
    members: list[ProcessInfo] = []
    if root in table:
        members.append(table[root])
    members.extend(descendants(table, root))
    groups: dict[int, ProcessInfo] = {}
    for info in members:
        if info.pgid in excluded:
            continue
        current = groups.get(info.pgid)
        if current is None or (info.pid == info.pgid and current.pid != current.pgid):
            groups[info.pgid] = info
    return groups


def live_groups(table: Mapping[int, ProcessInfo], pgids: Iterable[int]) -> set[int]:
    """Return those of ``pgids`` that still have a member in ``table`` that is not a zombie."""
    requested = frozenset(pgids)
    return {info.pgid for info in table.values() if info.pgid in requested and info.state != "Z"}


class GroupSignaller:
    """Signal every process group in the tree of process ``root``, logging each signal with its reason.

    ``name`` names the root in log lines, such as "chef-client".
    ``leads_group`` states that the root leads a process group with its own
    pid, so that group is signalled even when a snapshot misses the root.
    """

    def __init__(self, root: int, name: str, leads_group: bool, proc_root: str = PROC_ROOT) -> None:
        self.root = root
        self.name = name
        self.leads_group = leads_group
        self.proc_root = proc_root
        # pgid -> the process that the log names for the group. Groups are
        # only ever added: once the root exits, its children are reparented
        # to init, and nothing links them to it any more.
        self.groups: dict[int, str] = {}

    def snapshot(self) -> None:
        """Add the process groups of the root and of its live descendants to ``groups``.

        Only the current descendants count. A daemon that the root started
        earlier and that has left the tree (an init script's service, now a
        child of init) is deliberately left running.
        """
        try:
            table = read_table(self.proc_root)
        except OSError as error:
            log.error("reading the process table failed: %s. Ending only %s's process group", error, self.name)
            table = {}
        protected = protected_groups(table, os.getpid())
        found = tree_groups(table, self.root, protected)
        if self.leads_group and self.root not in found and self.root not in protected:
            found = {self.root: ProcessInfo(self.root, 0, self.root, "", self.name), **found}
        for pgid, info in found.items():
            if pgid not in self.groups:
                self.groups[pgid] = self._describe(info)

    def _describe(self, info: ProcessInfo) -> str:
        if info.pid == self.root:
            return "%s, pid %d" % (self.name, info.pid)
        # Any user can set the command line and name of a process that a
        # recipe starts, so both are escaped and cut before they are logged.
        command = printable(read_cmdline(info.pid, self.proc_root) or "[%s]" % info.comm)
        return "a command %s runs, pid %d: %s" % (self.name, info.pid, command)

    def live_groups(self) -> set[int]:
        """Return the recorded groups that still have a member that is not a zombie."""
        try:
            table = read_table(self.proc_root)
        except OSError:
            # Without /proc, assume every group may still have members.
            return set(self.groups)
        return live_groups(table, self.groups)

    def signal_all(self, signum: int, reason: str) -> None:
        """Send ``signum`` to every recorded group."""
        for pgid, description in self.groups.items():
            self._send(pgid, description, signum, reason)

    def kill_live(self, reason: str) -> None:
        """Send SIGKILL to every recorded group that still has a live member."""
        # NOTE: a group that emptied during the grace frees its pgid, so
        # another group could take that id before the SIGKILL. That needs
        # the pid counter to wrap around within the grace, and it is not checked.
        live = self.live_groups()
        for pgid, description in self.groups.items():
            if pgid in live:
                self._send(pgid, description, signal.SIGKILL, reason)

    def _send(self, pgid: int, description: str, signum: int, reason: str) -> None:
        name = signal.Signals(signum).name
        log.warning("sending %s to process group %d (%s) because %s", name, pgid, description, reason)
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            pass
        except PermissionError as error:
            log.error("cannot send %s to process group %d: %s", name, pgid, error)
