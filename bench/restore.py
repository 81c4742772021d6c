"""Live-restore benchmarks: a daemon restart with 200 labs running, beside their cold start; and
create/destroy cycles that must leave nothing behind (bench.restartable runs the daemon)."""

from __future__ import annotations

import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.harness import benchmark, percentile, result
from bench.labserver import wait_for
from bench.restartable import RestartableDaemon, cgroup_left, sandbox_processes
from topology import protocol
from topology.errors import TopologyError

LABS = 200
CYCLES = 1000
PARALLEL = 8  # clients at once, as a few Celery workers would ask


def _up_served(node: RestartableDaemon) -> dict:
    """A lab with one published web container."""
    info = node.client.up()
    node.sh(info["id"], "docker run -d --name web -p 8080:80 nginx >/dev/null")
    return info


def docker_ps(sock: Path) -> str:
    """`docker ps -q` on a lab's docker.sock, as the sandbox's `docker` asks it (it waits while no
    daemon accepts: the socket keeps listening across a restart)."""
    read, write = os.pipe()
    try:
        with socket.socket(socket.AF_UNIX) as conn, open(os.devnull, "rb") as null:
            conn.connect(str(sock))
            protocol.send(conn, {"argv": ["ps", "-q"], "tty": False}, [null.fileno(), write, write])
            os.close(write)
            write = -1
            reply = protocol.Reader(conn).read()
        if not reply or reply.get("exit") != 0:
            raise TopologyError(f"docker ps failed: {reply}")
        return os.read(read, 65536).decode()
    finally:
        os.close(read)
        if write >= 0:
            os.close(write)


@benchmark
def daemon_restart_200_labs():
    node = RestartableDaemon("bench-restore")
    try:
        cold = []

        def make(_):
            start = time.perf_counter()
            info = _up_served(node)
            cold.append((time.perf_counter() - start) * 1000)
            return info["id"]

        start = time.perf_counter()
        with ThreadPoolExecutor(PARALLEL) as pool:
            sids = list(pool.map(make, range(LABS)))
        cold_total = (time.perf_counter() - start) * 1000
        node.kill(signal.SIGKILL)
        back = []

        def wait_back(sid):
            if docker_ps(node.state_dir / "sandboxes" / sid / "docker.sock").strip():
                back.append((time.perf_counter() - restart) * 1000)

        with ThreadPoolExecutor(LABS) as pool:  # every lab asks at once, and waits
            restart = time.perf_counter()
            os.kill(node.reaper.pid, signal.SIGUSR1)  # as a service manager restarts it
            list(pool.map(wait_back, sids))
        node.pid = node.wait_up()
        if len(back) != LABS:
            raise AssertionError(f"{LABS - len(back)} labs lost their container")
        adopted = [
            line for line in (node.state_dir / "daemon.log").read_text().splitlines() if "re-adopted" in line
        ]
        record = result(
            "daemon_restart_200_labs",
            back,
            floor_p50_ms=None,
            goal=f"every lab of {LABS} answering again: max < 2000 ms, far below their cold start",
        )
        return {
            **record,
            "max_ms": round(max(back), 1),
            "cold_start_p50_ms": round(percentile(cold, 50), 1),
            "cold_start_total_ms": round(cold_total, 1),
            "daemon_says": adopted[-1].split(" INFO ")[-1] if adopted else "",
        }
    finally:
        node.stop()


def cycles(node: RestartableDaemon, count: int) -> dict:
    """`count` sandboxes created and destroyed (each with a `docker run -p`; one in five removed by
    `down --all`, the others one by one); what is left of them and how the daemon grew."""
    made: list[dict] = []
    baseline = {}
    batch = 5
    per_cycle = []  # ms per sandbox created, used and destroyed, batch by batch
    for done in range(0, count, batch):
        start = time.perf_counter()
        labs = [node.client.up() for _ in range(min(batch, count - done))]
        for lab in labs:
            node.sh(
                lab["id"],
                "docker run -d -p 8080:80 nginx >/dev/null && docker run -d -p 80 busybox top >/dev/null",
            )
        for lab in labs[:-1]:
            node.client.down(lab["id"])
        node.client.down_all(wait=True)
        per_cycle.append((time.perf_counter() - start) * 1000 / len(labs))
        made += labs
        if not baseline and done + batch >= min(count // 10, 50):  # warmed up: the daemon's own size
            baseline = daemon_usage(node.pid)
    found = {
        "per_cycle_ms": per_cycle,
        "left": [lab["id"] for lab in made if sandbox_processes(lab) or cgroup_left(lab)],
        "directories": sorted(p.name for p in (node.state_dir / "sandboxes").iterdir()),
        "mounts": [
            line
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if str(node.state_dir) in line
        ],
        "before": baseline,
        "first_uid": node.client.up()["root_uid"],
        "uids": sorted({lab["root_uid"] for lab in made}),
    }
    node.client.down_all(wait=True)
    try:  # the threads of the requests just answered end a moment later
        wait_for(lambda: daemon_usage(node.pid)["threads"] <= baseline["threads"], timeout=10, what="threads")
    except TimeoutError:
        pass  # reported: the caller compares
    return {**found, "after": daemon_usage(node.pid)}


def daemon_usage(pid: int) -> dict:
    """The daemon's resident memory (KiB), threads and open descriptors."""
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f)
    return {
        "rss_kib": int(status["VmRSS"].split()[0]),
        "threads": int(status["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


@benchmark
def create_destroy_1000_cycles():
    node = RestartableDaemon("bench-cycles")
    try:
        found = cycles(node, CYCLES)
        before, after = found["before"], found["after"]
        if (
            found["left"]
            or found["directories"]
            or found["mounts"]
            or found["first_uid"] != min(found["uids"])
        ):
            raise AssertionError(f"left behind: {found}")
        if after["threads"] > before["threads"] or after["fds"] > before["fds"]:
            raise AssertionError(f"the daemon grew: {before} -> {after}")
        record = result(
            "create_destroy_1000_cycles",
            found["per_cycle_ms"],
            floor_p50_ms=None,
            goal="nothing left (processes, cgroups, mounts, uid slots); the daemon does not grow",
        )
        return {**record, "daemon_rss_growth_kib": after["rss_kib"] - before["rss_kib"], "daemon": after}
    finally:
        node.stop()
