"""The coalesced kernel-change stream (topology.events) against a bare sandbox."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time

import pytest

from tests.topology.kit import bare_sandbox
from topology.events import EventStream, stream

pytestmark = pytest.mark.kernel

DEADLINE = 5.0


@pytest.fixture(scope="module")
def sb():
    """A bare sandbox (no engine), destroyed at the end."""
    yield from bare_sandbox("events", 1000 + os.getpid() % 500)


@pytest.fixture
def es(sb):
    with EventStream(sb) as events:
        yield events


def run(sb, ns: str, *argv: str, input: str | None = None, pid: int = 0) -> None:
    r = sb.run(ns, list(argv), input=input, student=not pid, pid=pid)
    assert r.returncode == 0, r.stderr


def drain(es: EventStream, quiet: float = 0.3) -> list[dict]:
    """Consume updates until none came for `quiet` seconds."""
    got = []
    while (update := es.next_change(quiet)) is not None:
        got.append(update)
    return got


def wait_update(es: EventStream, predicate, timeout: float = DEADLINE) -> tuple[dict, list[dict]]:
    """The first update that satisfies `predicate` (and every update seen before it)."""
    deadline = time.monotonic() + timeout
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        update = es.next_change(left)
        if update is None:
            break
        seen.append(update)
        if predicate(update):
            return update, seen
    raise AssertionError(f"no matching update within {timeout} s; saw {seen}")


def names(ns: str, kind: str):
    return lambda u: ns in u["namespaces"] and kind in u["kinds"]


def start_netns_process(sb) -> int:
    """A process with its own netns inside the Docker host (like a container); its daemon-side pid."""
    r = sb.run("host", ["sh", "-c", "unshare -n sleep 60 >/dev/null 2>&1 & echo $!"], student=True)
    inner = int(r.stdout.split()[0])
    host_pidns = os.stat(f"/proc/{sb.host_pid}/ns/pid").st_ino

    def find() -> int:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/status") as f:
                    nspid = next((line.split()[1:] for line in f if line.startswith("NSpid:")), [])
                if (
                    nspid
                    and int(nspid[-1]) == inner
                    and os.stat(f"/proc/{entry}/ns/pid").st_ino == host_pidns
                ):
                    return int(entry)
            except (OSError, ValueError):
                continue
        return 0

    deadline = time.monotonic() + DEADLINE
    while not (pid := find()):
        assert time.monotonic() < deadline, "the netns process did not show up"
        time.sleep(0.01)
    # Wait until unshare has exec'd sleep in the new netns.
    while os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/proc/{sb.host_pid}/ns/net").st_ino:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return pid


def test_link_change_in_host(sb, es):
    drain(es)
    # This kernel has no dummy driver; a bridge is a link all the same.
    run(sb, "host", "ip", "link", "add", "evt0", "type", "bridge")
    update, _ = wait_update(es, names("host", "link"))
    assert update["type"] == "kernel.changed"
    assert update["count"] >= 1 and update["first_at"] <= update["at"]
    run(sb, "host", "ip", "link", "del", "evt0")
    wait_update(es, names("host", "link"))


def test_iptables_rule_is_a_netfilter_change(sb, es):
    drain(es)
    run(sb, "host", "iptables", "-A", "FORWARD", "-j", "ACCEPT")
    wait_update(es, names("host", "netfilter"))
    run(sb, "host", "iptables", "-D", "FORWARD", "-j", "ACCEPT")
    wait_update(es, names("host", "netfilter"))


def test_a_packet_walks_table_is_not_a_change(sb, es):
    """topology.trace's tables (inet nslab_trace_<mark>) come and go unseen; a student's table shows."""
    from topology.trace.arm import Probe, arm_script, disarm_script

    drain(es)
    probe = Probe("tcp", "198.51.100.80", 80, 41234)
    run(sb, "host", "nft", "-f", "-", input=arm_script(probe))
    run(sb, "host", "nft", "-f", "-", input=disarm_script(probe))
    run(sb, "host", "nft", "add", "table", "inet", "student")
    update, seen = wait_update(es, names("host", "netfilter"))
    assert seen == [update] and update["count"] == 2, update  # the student's table and its generation
    run(sb, "host", "nft", "delete", "table", "inet", "student")
    wait_update(es, names("host", "netfilter"))


def test_change_in_router_names_router(sb, es):
    drain(es, quiet=1.0)  # a late update of an earlier test's host change must not count here
    run(sb, "router", "ip", "addr", "add", "10.99.0.1/32", "dev", "lo")
    update, seen = wait_update(es, names("router", "address"))
    assert all("host" not in u["namespaces"] for u in seen)
    run(sb, "router", "ip", "addr", "del", "10.99.0.1/32", "dev", "lo")
    run(sb, "client", "ip", "addr", "add", "10.99.0.2/32", "dev", "lo")
    wait_update(es, names("client", "address"))


def test_unlisted_neighbours_are_not_changes(sb, es):
    # `ip neigh` does not list NOARP entries (IPv6 solicitations make them all the time on an idle
    # machine, and the kernel collects them): they must not wake a lab. A listed entry is a change.
    # In a namespace of its own: no traffic there makes neighbour changes of its own.
    pid = start_netns_process(sb)
    try:
        es.add_namespace("quiet", f"/proc/{pid}/ns/net")
        run(sb, "host", "ip", "link", "add", "nb0", "up", "type", "bridge", pid=pid)
        drain(es)
        for n, nud in ((9, "noarp"), (8, "permanent")):
            run(
                sb,
                "host",
                "ip",
                "neigh",
                "add",
                f"198.51.100.{n}",
                "lladdr",
                f"02:00:00:00:00:0{n}",
                "nud",
                nud,
                "dev",
                "nb0",
                pid=pid,
            )
        updates = [u for u in drain(es) if "quiet" in u["namespaces"]]
        assert [(u["kinds"], u["count"]) for u in updates] == [(["neighbour"], 1)]
    finally:
        es.remove_namespace("quiet")
        os.kill(pid, signal.SIGKILL)


def test_burst_is_one_update(sb, es):
    drain(es)
    batch = "".join(f"addr add 10.50.0.{i}/32 dev docker0\n" for i in range(1, 51))
    run(sb, "host", "ip", "-batch", "-", input=batch)
    update, seen = wait_update(es, names("host", "address"))
    updates = seen + drain(es)
    assert len(updates) <= 2, updates
    assert sum(u["count"] for u in updates) >= 50
    run(sb, "host", "ip", "-batch", "-", input=batch.replace("addr add", "addr del"))
    drain(es)


def test_namespace_added_later_and_removed(sb, es):
    pid = start_netns_process(sb)
    try:
        es.add_namespace("late", f"/proc/{pid}/ns/net")
        drain(es)
        run(sb, "host", "ip", "link", "set", "lo", "up", pid=pid)
        update, _ = wait_update(es, names("late", "link"))
        assert update["namespaces"] == ["late"]

        es.remove_namespace("late")
        drain(es)
        run(sb, "host", "ip", "addr", "add", "10.5.5.5/32", "dev", "lo", pid=pid)
        # A later change elsewhere marks the point by which a "late" update would have come.
        run(sb, "host", "ip", "addr", "add", "10.5.5.6/32", "dev", "docker0")
        _, seen = wait_update(es, names("host", "address"))
        assert all("late" not in u["namespaces"] for u in seen + drain(es)), seen
        run(sb, "host", "ip", "addr", "del", "10.5.5.6/32", "dev", "docker0")
    finally:
        os.kill(pid, signal.SIGKILL)


def test_exited_process_namespace_is_dropped(sb, es):
    pid = start_netns_process(sb)
    es.add_namespace("gone", f"/proc/{pid}/ns/net")
    drain(es)
    os.kill(pid, signal.SIGKILL)
    wait_update(es, names("gone", "namespace"))
    assert "gone" not in es.paths
    es.remove_namespace("gone")  # already gone: not an error


def test_bad_namespace_path_is_an_error(sb, es):
    from topology.events import WatcherError

    with pytest.raises(WatcherError):
        es.add_namespace("nope", "/proc/1/ns/net")  # the machine's own netns: not the sandbox's
    with pytest.raises(WatcherError):
        es.add_namespace("nope", "/nonexistent")
    run(sb, "host", "ip", "addr", "add", "10.6.6.6/32", "dev", "docker0")
    wait_update(es, names("host", "address"))
    run(sb, "host", "ip", "addr", "del", "10.6.6.6/32", "dev", "docker0")


class FakeEngine:
    def __init__(self):
        self.callbacks = []
        self.subscribed = threading.Event()

    def subscribe(self, callback):
        self.callbacks.append(callback)
        self.subscribed.set()
        return lambda: self.callbacks.remove(callback)

    def emit(self, event):
        for callback in list(self.callbacks):
            callback(event)


def _watchers() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if b"topology.watcher" in cmd and ppid == os.getpid():
            found.add(int(entry))
    return found


def test_stream_merges_engine_events_and_stops(sb):
    engine = FakeEngine()
    done = threading.Event()
    pid = start_netns_process(sb)
    got: list[dict] = []

    def actor():
        try:
            assert engine.subscribed.wait(DEADLINE)
            run(sb, "host", "ip", "addr", "add", "10.7.7.7/32", "dev", "docker0")
            engine.emit(
                {
                    "type": "container.changed",
                    "name": "web",
                    "action": "start",
                    "netns": f"/proc/{pid}/ns/net",
                }
            )
            # The namespace is added asynchronously: repeat the change until the stream reports it.
            deadline = time.monotonic() + DEADLINE
            i = 0
            while time.monotonic() < deadline and not any("web" in u.get("namespaces", ()) for u in got):
                i += 1
                run(sb, "host", "ip", "addr", "add", f"10.8.8.{i}/32", "dev", "lo", pid=pid)
                time.sleep(0.1)
        finally:
            done.set()

    thread = threading.Thread(target=actor)
    thread.start()
    try:
        for event in stream(sb, engine, stop=done.is_set):
            got.append(event)
        assert not _watchers()
    finally:
        done.set()
        thread.join()
        os.kill(pid, signal.SIGKILL)
    assert got[0] == {"type": "stream.ready"}
    assert {"type": "container.changed", "name": "web", "action": "start"} in got
    assert any(names("host", "address")(u) for u in got if u["type"] == "kernel.changed")
    assert any(names("web", "address")(u) for u in got if u["type"] == "kernel.changed")
    assert not engine.callbacks  # unsubscribed


def test_latency(sb, es):
    """Not a timing assertion: measures change -> update latency and prints it (pytest -s)."""
    shell = sb.popen(
        [*sb.nsenter_argv("host"), "sh"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    drain(es)
    received, yielded = [], []
    try:
        for i in range(1, 22):
            t0 = time.time()
            shell.stdin.write(f"ip addr add 10.60.0.{i}/32 dev docker0\n".encode())
            shell.stdin.flush()
            update, _ = wait_update(es, names("host", "address"))
            received.append(update["first_at"] - t0)
            yielded.append(time.time() - t0)
            drain(es, quiet=0.05)
    finally:
        shell.stdin.close()
        shell.wait()
    received, yielded = received[1:], yielded[1:]  # the first warms up
    print(
        f"\nevent latency over {len(yielded)} changes (incl. fork/exec of ip, ~2 ms): "
        f"first raw change received p50 {statistics.median(received) * 1000:.1f} ms, "
        f"coalesced update yielded p50 {statistics.median(yielded) * 1000:.1f} ms "
        f"(max {max(yielded) * 1000:.1f} ms)"
    )
    run(
        sb,
        "host",
        "ip",
        "-batch",
        "-",
        input="".join(f"addr del 10.60.0.{i}/32 dev docker0\n" for i in range(1, 22)),
    )
