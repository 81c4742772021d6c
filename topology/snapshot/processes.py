"""Parsing of `ps -e -o pid=,ppid=,netns=,args=`, without the snapshot's own scripts."""

from __future__ import annotations

from topology.snapshot.model import Process

# Starts the marker lines of the collection scripts, whose processes a snapshot leaves out.
MARK_PREFIX = "@@nslab-snapshot-"


def parse_processes(text: str, *, exclude: str = MARK_PREFIX, netns: int | None = None) -> list[Process]:
    """Processes from `ps -e -o pid=,ppid=,netns=,args=`, without the processes whose command line
    contains `exclude` (the snapshot's own scripts) and their descendants; only those in network
    namespace `netns` when given."""
    procs = []
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        procs.append(
            Process(
                pid=int(parts[0]),
                ppid=int(parts[1]) if parts[1].isdigit() else 0,
                netns=int(parts[2]) if parts[2].isdigit() else None,
                command=parts[3] if len(parts) > 3 else "",
            )
        )
    # The snapshot's own scripts, and zombies whose parent is outside the view (an nsenter that
    # has not reaped its child yet): both are the collection's, not the sandbox's.
    dropped = {
        p.pid
        for p in procs
        if (exclude and exclude in p.command) or (p.ppid == 0 and p.command.endswith("<defunct>"))
    }
    grew = bool(dropped)
    while grew:
        more = {p.pid for p in procs if p.ppid in dropped and p.pid not in dropped}
        dropped |= more
        grew = bool(more)
    return [p for p in procs if p.pid not in dropped and (netns is None or p.netns == netns)]
