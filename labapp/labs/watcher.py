"""A lab's kernel watcher: the daemon's change stream, coalesced into snapshots (two threads)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable

from topology.client import Client
from topology.errors import TopologyError

log = logging.getLogger(__name__)


class _CuttableClient(Client):
    """A Client whose open connection another thread can shut down (ending a blocked stream)."""

    def __init__(self):
        super().__init__()
        self._sock: socket.socket | None = None
        self._cut = False

    def _connect(self) -> socket.socket:
        self._sock = super()._connect()
        if self._cut:
            self._sock.shutdown(socket.SHUT_RDWR)
        return self._sock

    def cut(self) -> None:
        self._cut = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Watcher:
    """Calls `publish(watcher, snapshot, changed_at)` on `loop` after each change (and once at start).

    Changes that arrive while a snapshot is taken are folded into the next one; `changed_at` is the
    time of the earliest change a snapshot reflects (None for one asked for without a change).
    """

    def __init__(self, sandbox_id: str, loop: asyncio.AbstractEventLoop, publish: Callable):
        self.sandbox_id, self.loop, self.publish = sandbox_id, loop, publish
        self.stopped = False
        self._cond = threading.Condition()
        self._pending = False
        self._changed_at: float | None = None
        self._events_client = _CuttableClient()
        self.request(None)
        for target in (self._follow_events, self._take_snapshots):
            threading.Thread(target=target, name=f"watch-{sandbox_id}", daemon=True).start()

    def request(self, changed_at: float | None) -> None:
        """Ask for a snapshot reflecting a change made at `changed_at` (thread-safe)."""
        with self._cond:
            if not self._pending:
                self._pending, self._changed_at = True, changed_at
            elif changed_at is not None:
                self._changed_at = min(changed_at, self._changed_at or changed_at)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify()
        self._events_client.cut()

    def _follow_events(self) -> None:
        try:
            for change in self._events_client.events(self.sandbox_id):
                if self.stopped:
                    return
                self.request(change.get("first_at") or time.time())
        except (TopologyError, OSError) as exc:
            if not self.stopped:
                log.info("events of sandbox %s end: %s", self.sandbox_id, exc)

    def _take_snapshots(self) -> None:
        client = Client()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self.stopped)
                if self.stopped:
                    return
                changed_at, self._pending = self._changed_at, False
            try:
                snapshot = client.snapshot(self.sandbox_id)
            except TopologyError as exc:
                log.info("snapshot of sandbox %s failed: %s", self.sandbox_id, exc)
                continue
            try:
                self.loop.call_soon_threadsafe(self.publish, self, snapshot, changed_at)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
