"""A lab's kernel watcher: the daemon's change stream, coalesced into snapshots (two threads)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable

from topology.client import Client, DaemonError
from topology.errors import TopologyError

log = logging.getLogger(__name__)
RETRY_MIN, RETRY_MAX = 0.05, 2.0  # seconds between two attempts to reach a restarted daemon


class _CuttableClient(Client):
    """A Client whose open connection another thread can shut down (ending a blocked stream)."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()  # cut() and the connection's close never interleave
        self.sock: _Connection | None = None
        self._cut = False

    def _connect(self) -> socket.socket:
        sock = _Connection(self, super()._connect())
        with self.lock:
            self.sock = sock
            if self._cut:
                sock.shutdown(socket.SHUT_RDWR)
        return sock

    def cut(self) -> None:
        with self.lock:
            self._cut = True
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Connection(socket.socket):
    """A _CuttableClient's connection, closed under its lock: a shutdown from cut() never lands on a
    number the close has just freed (and something else taken)."""

    def __init__(self, owner: _CuttableClient, sock: socket.socket):
        super().__init__(sock.family, sock.type, fileno=sock.detach())
        self.owner = owner

    def close(self) -> None:
        with self.owner.lock:
            if self.owner.sock is self:
                self.owner.sock = None
            super().close()


class Watcher:
    """Calls `publish(watcher, snapshot, changed_at)` on `loop` after each change (and once at start).

    Changes that arrive while a snapshot is taken are folded into the next one; `changed_at` is the
    time of the earliest change a snapshot reflects (None for one asked for without a change).

    Snapshots after kernel changes are incremental: the daemon collects only the namespaces the
    changes named (and new ones) and takes the rest from its last collection, so the published
    snapshot is complete but netfilter counters, conntrack, sockets and processes of a namespace
    without netlink/nf_tables changes are as of its last collection (and netfilter and conntrack also
    of a namespace with only link, address, route or neighbour changes). The first snapshot, the one
    after the stream is ready and those after lost notifications are full.

    Neighbour changes alone (ARP entries ageing) take no snapshot: the page shows no neighbour table
    and no check reads one. Their namespaces are collected with the next snapshot taken for another
    reason, so that its neighbours are current.
    """

    FULL_KINDS = frozenset({"overflow", "namespace"})  # changes that do not say what changed
    UNSHOWN_KINDS = frozenset({"neighbour"})  # changes that alone do not take a snapshot

    def __init__(self, sandbox_id: str, loop: asyncio.AbstractEventLoop, publish: Callable):
        self.sandbox_id, self.loop, self.publish = sandbox_id, loop, publish
        self.stopped = False
        self._cond = threading.Condition()
        self._pending = False
        self._changed_at: float | None = None
        self._names: set[str] | None = None  # namespaces to collect; None: all
        self._kinds: set[str] = set()  # the kinds of the changes in them
        self._unshown: set[str] = set()  # namespaces with changes of UNSHOWN_KINDS not collected yet
        self._events_client = _CuttableClient()
        self.request(None)
        for target in (self._follow_events, self._take_snapshots):
            threading.Thread(target=target, name=f"watch-{sandbox_id}", daemon=True).start()

    def request(
        self, changed_at: float | None, namespaces: list[str] | None = None, kinds: list[str] = ()
    ) -> None:
        """Ask for a snapshot reflecting a change made at `changed_at` in `namespaces` (None: anywhere)
        of `kinds` (thread-safe)."""
        with self._cond:
            if not self._pending:
                self._pending, self._changed_at = True, changed_at
                self._names = None if namespaces is None else set(namespaces)
                self._kinds = set(kinds)
            else:
                self._kinds.update(kinds)
                if changed_at is not None:
                    self._changed_at = min(changed_at, self._changed_at or changed_at)
                if namespaces is None:
                    self._names = None
                elif self._names is not None:
                    self._names.update(namespaces)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify()
        self._events_client.cut()

    def _follow_events(self) -> None:
        """Follow the change stream; when it breaks (the daemon restarted: live-restore), wait for
        a daemon to answer again, take a full snapshot (changes may have been missed) and follow anew."""
        delay = RETRY_MIN
        while not self.stopped:
            try:
                for change in self._events_client.events(self.sandbox_id):
                    if self.stopped:
                        return
                    delay = RETRY_MIN
                    self._changed(change)
            except DaemonError as exc:
                if exc.kind == "SandboxNotFound":
                    return
                log.info("events of sandbox %s end: %s", self.sandbox_id, exc)
            except (TopologyError, OSError) as exc:
                log.info("events of sandbox %s end: %s", self.sandbox_id, exc)
            while not self.stopped and not self._daemon_answers():
                with self._cond:
                    self._cond.wait_for(lambda: self.stopped, timeout=delay)
                delay = min(delay * 2, RETRY_MAX)
            self.request(None)

    def _daemon_answers(self) -> bool:
        try:
            Client(autostart=False).request({"op": "ping"})
        except TopologyError:
            return False
        return True

    def _changed(self, change: dict) -> None:
        kinds = set(change.get("kinds") or ())
        if change.get("type") == "kernel.changed" and kinds and kinds <= self.UNSHOWN_KINDS:
            with self._cond:
                self._unshown.update(str(n) for n in change.get("namespaces") or ())
            return
        self.request(
            change.get("first_at") or time.time(),
            _namespaces(change, self.FULL_KINDS),
            [str(k) for k in change.get("kinds") or ()],
        )

    def _take_snapshots(self) -> None:
        client = Client()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self.stopped)
                if self.stopped:
                    return
                changed_at, names, kinds = self._changed_at, self._names, self._kinds
                if names is not None:
                    names = names | self._unshown
                self._pending = False
                self._unshown = set()
            try:
                snapshot = client.snapshot(self.sandbox_id, namespaces=names, kinds=kinds)
            except TopologyError as exc:
                log.info("snapshot of sandbox %s failed: %s", self.sandbox_id, exc)
                continue
            try:
                self.loop.call_soon_threadsafe(self.publish, self, snapshot, changed_at)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return


def _namespaces(change: dict, full_kinds: frozenset[str]) -> list[str] | None:
    """What a snapshot after `change` (an event of the daemon's stream) must collect; None: everything.

    A kernel change names its namespaces; an engine event (a container or network made or removed) needs
    only the new namespaces, which an incremental snapshot collects anyway, and the Docker model,
    which is always current; "stream.ready" asks for a full one (nothing is missed from there on).
    """
    kind = change.get("type")
    if kind == "kernel.changed":
        if full_kinds.intersection(change.get("kinds") or ()):
            return None
        return [str(n) for n in change.get("namespaces") or ()]
    if isinstance(kind, str) and kind.endswith(".changed"):  # container.changed, network.changed
        return []
    return None
