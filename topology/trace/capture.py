"""Capturing one packet's trace: `nft monitor` in each namespace it may cross, the trace armed
there, the packet sent, the trace disarmed; the monitors' text comes back for parsing.

Waits are on what the monitors print, never on sleeps: a namespace counts as listening once its
monitor printed a change the capture made there (the trace table, else a `sync` chain added until
one shows), and as finished once it printed the table's deletion (netlink delivers a socket's
messages in order, so every trace before it was printed too).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

from topology.errors import TopologyError
from topology.trace.arm import TABLE, Probe, arm_script, disarm_script, mark_script, sender_argv, sync_script
from topology.trace.nftrace import parse_visits
from topology.trace.walk import direction_of, relevant

__all__ = ["Capture", "TraceAccess", "TraceError", "capture"]

LISTEN_TIMEOUT = 3.0  # seconds for every monitor to listen
SYNC_EVERY = 0.02  # seconds between two sync changes while a monitor does not show them
DRAIN_TIMEOUT = 2.0  # seconds for the monitors to print the table's deletion


class TraceError(TopologyError):
    """A trace could not be taken (a monitor did not start, the table could not be made)."""


class Spawned(Protocol):
    output: object  # binary, unbuffered
    input: object

    def wait(self) -> int | None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class TraceAccess(Protocol):
    """What a trace needs of a sandbox: commands run as the student would, started ones whose input
    and output stream, and snapshots of some namespaces (`topology.client.ClientAccess` is one)."""

    def snapshot_of(self, namespaces: list[str]) -> dict: ...

    def run(self, ns: str, argv: list[str], timeout: float = 5.0) -> tuple[int, str, str]: ...

    def spawn(self, ns: str, argv: list[str]) -> Spawned: ...


@dataclass(frozen=True)
class Capture:
    """What the monitors printed while the trace was armed, per namespace, and the sender's result."""

    monitors: dict[str, str]
    exit: int | None  # the sender's exit status (see arm.sender_argv); None when stopped at a drop
    error: str  # what the sender said on failing
    probe: Probe  # with its mark (armed: the source port or echo id of the student's packet)


# One shell per namespace: `nft -a monitor` in the background, and `nft -f -` of every script the
# capture writes to its input (each ends with a line "@@"), so that arming, syncing and disarming
# cost no process start through the daemon. The input's end stops the monitor.
MONITOR_SHELL = """nft -a monitor 2>&1 &
m=$!
buf=
while IFS= read -r line; do
  if [ "$line" = @@ ]; then printf %s "$buf" | nft -f - 2>&1; buf=
  else buf="$buf$line
"; fi
done
kill $m
"""


class _Drained:
    """A started command whose output one thread of its own reads to the end (`on_chunk` per chunk,
    then `then()`). Its pipes and connection are closed only once that thread is done: a file closed
    while another thread reads it frees its number, and the read lands on what reuses the number next
    (another request's connection, whose answer it swallows: a trace's snapshot failed so)."""

    def __init__(self, spawned: Spawned, name: str, on_chunk, then=None):
        self.spawned = spawned
        self._lock = threading.Lock()
        self._finished = self._released = False
        self._thread = threading.Thread(target=self._read, args=(on_chunk, then), name=name, daemon=True)
        self._thread.start()

    def _read(self, on_chunk, then) -> None:
        try:
            while chunk := self.spawned.output.read(65536):
                on_chunk(chunk)
        except (OSError, ValueError):
            pass
        if then is not None:
            then()
        with self._lock:
            self._finished = True
            if self._released:
                self.spawned.close()

    def release(self, wait: float) -> None:
        """Hang up (the daemon kills the command, so its output ends) and end its input (a monitor
        shell then ends itself, should the daemon be gone); wait up to `wait` seconds for the reader,
        and close; a reader still reading then closes everything as it ends."""
        self.spawned.stop()
        try:
            self.spawned.input.close()  # no other thread writes it
        except OSError:
            pass
        self._thread.join(wait)
        with self._lock:
            self._released = True
            if self._finished:
                self.spawned.close()


class _Monitor:
    """One namespace's monitor shell, read by a thread of its own."""

    def __init__(self, ns: str, spawned: Spawned, changed: threading.Condition):
        self.ns, self.spawned, self.changed = ns, spawned, changed
        self.text = ""
        self.start = 0  # where the armed trace starts in `text`
        self.reader = _Drained(spawned, f"trace-{ns}", self._add, self._ended)

    def _add(self, chunk: bytes) -> None:
        with self.changed:
            self.text += chunk.decode(errors="replace")
            self.changed.notify_all()

    def _ended(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def nft(self, script: str) -> None:
        """Have the shell run `nft -f -` of `script`."""
        try:
            self.spawned.input.write((script.rstrip("\n") + "\n@@\n").encode())
        except OSError as exc:
            raise TraceError(f"the trace monitor of {self.ns} is gone") from exc

    def shows(self, needle: str, after: int = 0) -> bool:
        return self.text.find(needle, after) >= 0


def capture(
    access: TraceAccess,
    namespaces: list[str],
    source: str,
    probe: Probe,
    timeout: float = 1.0,
    *,
    armed_for: float = 0.0,
) -> Capture:
    """Trace `probe` sent from `source`, watching `namespaces` (which include `source`); with
    `armed_for` (seconds), send nothing: wait that long for the student's packet from `source`."""
    changed = threading.Condition()
    monitors: dict[str, _Monitor] = {}
    disarmed = False
    try:
        for ns in namespaces:
            monitors[ns] = _Monitor(ns, access.spawn(ns, ["sh", "-c", MONITOR_SHELL]), changed)
        for m in monitors.values():
            m.nft(arm_script(probe, marking=not armed_for))
        _wait_listening(monitors, changed, probe)
        with changed:
            for m in monitors.values():
                m.start = len(m.text)
        if armed_for:
            _mark(monitors, source, changed, probe)
        if armed_for:
            probe, exit_code = _wait_student(monitors[source], probe, changed, armed_for, timeout)
            error = ""
        else:
            sender = access.spawn(source, sender_argv(probe, timeout))
            exit_code, error = _wait_sender(sender, monitors, changed, timeout + 1.0, probe)
        with changed:
            marks = {ns: len(m.text) for ns, m in monitors.items()}
        for m in monitors.values():
            m.nft(disarm_script(probe))
        gone = f"delete table inet {probe.table}"
        disarmed = _wait(
            changed, lambda: all(m.shows(gone, marks[ns]) for ns, m in monitors.items()), DRAIN_TIMEOUT
        )
        with changed:
            texts = {ns: m.text[m.start :] for ns, m in monitors.items()}
        return Capture(texts, exit_code, error, probe)
    finally:
        for m in monitors.values():
            m.spawned.stop()  # all hang up at once; then each reader ends
        for m in monitors.values():
            m.reader.release(DRAIN_TIMEOUT)
        for ns in [] if disarmed else monitors:
            try:  # a table left armed (an error, a monitor gone): removed all the same
                access.run(ns, ["nft", "delete", "table", "inet", probe.table])
            except TopologyError:
                pass


def _wait(changed: threading.Condition, ready, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with changed:
        while not ready():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            changed.wait(left)
    return True


def _wait_listening(monitors: dict[str, _Monitor], changed: threading.Condition, probe: Probe) -> None:
    deadline = time.monotonic() + LISTEN_TIMEOUT
    n = 0
    while True:
        waiting = [m for m in monitors.values() if not m.shows(f"inet {probe.table}")]
        if not waiting:
            return
        failed = next((m for m in waiting if "Error:" in m.text), None)
        if failed is not None:
            raise TraceError(
                f"nft in {failed.ns}: {failed.text.split('Error:', 1)[1].strip().splitlines()[0]}"
            )
        if time.monotonic() > deadline:
            raise TraceError(f"the trace monitor did not start in {', '.join(m.ns for m in waiting)}")
        if n:
            for m in waiting:
                m.nft(sync_script(probe, n))
        n += 1
        _wait(
            changed, lambda waiting=waiting: all(m.shows(f"inet {probe.table}") for m in waiting), SYNC_EVERY
        )


def _mark(monitors: dict[str, _Monitor], source: str, changed: threading.Condition, probe: Probe) -> None:
    """Armed for the student's packet: the marking rules, in the source namespace last, once every
    other namespace shows its own (so a packet the student makes is marked all along its way)."""
    added = f"add rule inet {probe.table} output"
    others = [m for ns, m in monitors.items() if ns != source]
    for m in others:
        m.nft(mark_script(probe))
    if not _wait(changed, lambda: all(m.shows(added, m.start) for m in others), LISTEN_TIMEOUT):
        raise TraceError("the trace could not be armed")
    monitors[source].nft(mark_script(probe))
    if not _wait(changed, lambda: monitors[source].shows(added, monitors[source].start), LISTEN_TIMEOUT):
        raise TraceError("the trace could not be armed")


def _student_packet(m: _Monitor, probe: Probe) -> int | None:
    """The source port (echo id) of the first packet from the source to the probe's destination."""
    for v in parse_visits(m.text[m.start :]):
        p = v.packet
        if v.table != TABLE or v.chain != "output" or p.get("ip daddr") != probe.dst:
            continue
        if probe.proto == "icmp" and p.get("icmp type") == "echo-request" and p.get("icmp id", "").isdigit():
            return int(p["icmp id"])
        syn = probe.proto != "tcp" or p.get("tcp flags") == "syn"
        if syn and p.get(f"{probe.proto} dport") == str(probe.dport):
            return int(p[f"{probe.proto} sport"])
    return None


def _answered(m: _Monitor, probe: Probe) -> bool:
    """The source namespace got something back for the packet (an answer or an ICMP error)."""
    return any(
        v.table == TABLE
        and v.chain == "prerouting"
        and direction_of(v, probe) == "reply"
        and relevant(v, probe)
        for v in parse_visits(m.text[m.start :])
    )


def _wait_student(
    m: _Monitor, probe: Probe, changed: threading.Condition, armed_for: float, timeout: float
) -> tuple[Probe, int | None]:
    """Wait for the student's packet from the source, then for its answer or a drop (or `timeout`)."""
    found: list[int] = []

    def seen() -> bool:
        mark = _student_packet(m, probe)
        if mark is not None:
            found.append(mark)
        return bool(found)

    if not _wait(changed, seen, armed_for):
        raise TraceError(f"no packet from {m.ns} to {probe.dst} came within {armed_for:g} s")
    marked = probe.with_mark(found[0])
    answered = _wait(changed, lambda: _answered(m, marked) or _dropped({m.ns: m}, marked), timeout)
    return marked, 0 if answered and _answered(m, marked) else None


def _dropped(monitors: dict[str, _Monitor], probe: Probe) -> bool:
    """A namespace dropped the probe's packet (a monitor shows every trace of its namespace: another
    walk's packets too)."""
    for m in monitors.values():
        if m.shows("drop", m.start):
            for v in parse_visits(m.text[m.start :]):
                if v.verdict == "drop" and relevant(v, probe):
                    return True
    return False


def _wait_sender(
    sender: Spawned, monitors: dict[str, _Monitor], changed: threading.Condition, timeout: float, probe: Probe
) -> tuple[int | None, str]:
    """Wait for the sender to exit, or for a namespace to drop the packet (no need to wait for
    its retransmissions then)."""
    output: list[bytes] = []
    result: list = []
    done = threading.Event()

    def ended() -> None:
        out = b"".join(output).decode(errors="replace").strip()
        result.extend([sender.wait(), out])
        done.set()
        with changed:
            changed.notify_all()

    reader = _Drained(sender, "trace-sender", output.append, ended)
    try:
        _wait(changed, lambda: done.is_set() or _dropped(monitors, probe), timeout)
    finally:
        reader.release(1.0)
    return (result[0], result[1]) if done.is_set() else (None, "")
