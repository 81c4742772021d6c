"""How grading reaches a sandbox: its kernel state and commands run as the student would.

`SandboxAccess` is what grading needs; `topology.client.ClientAccess` goes through the lab-node
daemon (above this core: the core never imports the client); `RecordingAccess` keeps the snapshot it
handed out (stored with a submission); `SnapshotAccess` grades a snapshot already taken (continuous
grading).
"""

from __future__ import annotations

from typing import Protocol

from topology.errors import TopologyError

__all__ = ["RecordingAccess", "SandboxAccess", "SnapshotAccess"]


class SandboxAccess(Protocol):
    """What grading needs of a sandbox: its kernel state and commands run as the student would."""

    def snapshot(self) -> dict: ...

    def run(self, ns: str, argv: list[str], timeout: float = 5.0) -> tuple[int, str, str]: ...


class RecordingAccess:
    """A SandboxAccess that keeps the last snapshot it handed out (stored with a Submission)."""

    def __init__(self, inner):
        self.inner = inner
        self.last_snapshot: dict | None = None

    def snapshot(self) -> dict:
        self.last_snapshot = self.inner.snapshot()
        return self.last_snapshot

    def run(self, ns: str, argv: list[str], timeout: float = 5.0):
        return self.inner.run(ns, argv, timeout=timeout)

    def spawn(self, ns: str, argv: list[str]):
        """Start a command whose output streams (a packet walk's monitors), when the inner access can."""
        return self.inner.spawn(ns, argv)

    def snapshot_of(self, namespaces: list[str]) -> dict:
        """A partial snapshot (a packet walk's), when the inner access can."""
        return self.inner.snapshot_of(namespaces)


class SnapshotAccess:
    """A SandboxAccess over a snapshot already taken (continuous grading: no traffic, no commands)."""

    def __init__(self, snapshot: dict):
        self._snapshot = snapshot

    def snapshot(self) -> dict:
        return self._snapshot

    def run(self, ns: str, argv: list[str], timeout: float = 5.0):
        raise TopologyError("continuous grading runs no commands")
