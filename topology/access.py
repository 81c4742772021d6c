"""How grading reaches a sandbox: its kernel state and commands run as the student would.

`ClientAccess` goes through the lab-node daemon; `RecordingAccess` keeps the snapshot it handed out
(stored with a submission); `SnapshotAccess` grades a snapshot already taken (continuous grading).
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from topology.errors import TopologyError

__all__ = ["ClientAccess", "RecordingAccess", "SandboxAccess", "SnapshotAccess"]

OUTPUT_LIMIT = 1 << 20  # bytes of a command's output kept


class SandboxAccess(Protocol):
    """What grading needs of a sandbox: its kernel state and commands run as the student would."""

    def snapshot(self) -> dict: ...

    def run(self, ns: str, argv: list[str], timeout: float = 5.0) -> tuple[int, str, str]: ...


class ClientAccess:
    """SandboxAccess through the lab-node daemon (`topology.client.Client`)."""

    def __init__(self, sandbox_id: str, client: Any = None):
        if client is None:
            from topology.client import Client

            client = Client()
        self.sandbox_id = sandbox_id
        self.client = client

    def snapshot(self) -> dict:
        return self.client.snapshot(self.sandbox_id)

    def run(self, ns: str, argv: list[str], timeout: float = 5.0) -> tuple[int, str, str]:
        """Run `argv` in namespace `ns`; killed after `timeout` seconds (exit status 137).

        Output is captured in memory files rather than pipes, so a chatty command never blocks on a
        full pipe and a background child keeping the descriptor open never delays the answer."""
        out = os.memfd_create("nslab-probe-out", os.MFD_CLOEXEC)
        err = os.memfd_create("nslab-probe-err", os.MFD_CLOEXEC)
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            code = self.client.exec(
                self.sandbox_id,
                ["timeout", "-s", "KILL", f"{timeout:g}", *argv],
                ns=ns,
                stdio=(null, out, err),
            )
            return code, _read(out), _read(err)
        finally:
            for fd in (out, err, null):
                os.close(fd)


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, size = [], 0
    while size < OUTPUT_LIMIT and (chunk := os.read(fd, 1 << 16)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode(errors="replace")


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


class SnapshotAccess:
    """A SandboxAccess over a snapshot already taken (continuous grading: no traffic, no commands)."""

    def __init__(self, snapshot: dict):
        self._snapshot = snapshot

    def snapshot(self) -> dict:
        return self._snapshot

    def run(self, ns: str, argv: list[str], timeout: float = 5.0):
        raise TopologyError("continuous grading runs no commands")
