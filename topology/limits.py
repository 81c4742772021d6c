"""Per-sandbox resource limits: a memory and a pids cgroup (v1 or v2) that every process joins."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PARENT = "nslab"
MEMORY_LIMIT = 256 * 1024 * 1024
PIDS_LIMIT = 512


def _v2() -> bool:
    return (CGROUP_ROOT / "cgroup.controllers").exists()


def _dirs(rel: str) -> list[Path]:
    if _v2():
        return [CGROUP_ROOT / rel]
    return [CGROUP_ROOT / "memory" / rel, CGROUP_ROOT / "pids" / rel]


def available() -> bool:
    """True when this process may create cgroups (root, or a delegated writable tree): in the lab
    node's parent cgroups, or where setup_parent() makes them."""
    return all(
        os.access(parent if parent.exists() else parent.parent, os.W_OK)
        for parent in (d.parent for d in _dirs(f"{PARENT}/x"))
    )


def procs_files(rel: str) -> list[str]:
    """The cgroup.procs files a process writes "0" into to join the sandbox's cgroups."""
    return [str(d / "cgroup.procs") for d in _dirs(rel)]


def setup_parent() -> None:
    """Create the lab node's parent cgroups."""
    if _v2():
        root = CGROUP_ROOT / PARENT
        root.mkdir(exist_ok=True)
        (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory +pids")
        (root / "cgroup.subtree_control").write_text("+memory +pids")
    else:
        for d in _dirs(PARENT):
            d.mkdir(exist_ok=True)


def relative(name: str) -> str:
    """The relative path of sandbox `name`'s cgroups."""
    return f"{PARENT}/{name}"


def create(name: str, uid: int, *, memory: int = MEMORY_LIMIT, pids: int = PIDS_LIMIT) -> str:
    """Create the sandbox's cgroups with their limits; return the relative path."""
    rel = relative(name)
    for d in _dirs(rel):
        d.mkdir(exist_ok=True)
        if _v2():
            (d / "memory.max").write_text(str(memory))
            (d / "memory.swap.max").write_text("0")
            (d / "pids.max").write_text(str(pids))
        elif d.parent.parent.name == "memory":
            (d / "memory.limit_in_bytes").write_text(str(memory))
        else:
            (d / "pids.max").write_text(str(pids))
        # The sandbox's processes join it themselves after dropping to the sandbox's uid.
        os.chown(d / "cgroup.procs", uid, -1)
    return rel


def remove(rel: str, timeout: float = 5.0) -> bool:
    """Remove the sandbox's cgroups once their processes are gone; False if they linger."""
    deadline = time.monotonic() + timeout
    for d in _dirs(rel):
        while d.exists():
            try:
                d.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.01)
    return True


def kill(rel: str) -> None:
    """SIGKILL every process in the sandbox's cgroups (a sandbox whose pids are unknown)."""
    for d in _dirs(rel):
        if (d / "cgroup.kill").exists():
            (d / "cgroup.kill").write_text("1")
            continue
        try:
            pids = [int(p) for p in (d / "cgroup.procs").read_text().split()]
        except OSError:
            continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def usage(rel: str) -> dict[str, int]:
    """Memory (bytes) and pids currently charged to the sandbox."""
    out = {}
    for d in _dirs(rel):
        for name, key in (
            ("memory.current", "memory"),
            ("memory.usage_in_bytes", "memory"),
            ("pids.current", "pids"),
        ):
            try:
                out[key] = int((d / name).read_text())
            except (FileNotFoundError, ValueError):
                pass
    return out


def leftovers() -> list[str]:
    """Relative paths of sandbox cgroups that exist (for reaping after a crash)."""
    names = set()
    for d in _dirs(PARENT):
        if d.exists():
            names.update(p.name for p in d.iterdir() if p.is_dir())
    return [relative(n) for n in sorted(names)]
