"""Lab-engine benchmarks: sandbox start, docker run -p until served, 500 idle sandboxes, paced teardown.

Each figure has its floor, measured in the same run: the same kernel state made by the plainest tools
(`ip -batch` and one `iptables-restore` inside `unshare`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.harness import benchmark, result, sample
from topology.daemon import Daemon
from topology.docker import rules

_DAEMON: Daemon | None = None


def daemon() -> Daemon:
    global _DAEMON
    if _DAEMON is None:
        state = Path(f"/var/lib/nslab-bench/{os.getpid()}")
        state.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(state.parent, 0o711)
        _DAEMON = Daemon(state)
        _DAEMON.prepare()
    return _DAEMON


def _floor_script() -> str:
    """The sandbox's start state made directly: ip -batch per namespace and one iptables-restore."""
    start = rules.daemon_start("19.03", rules.Ruleset.parse("")).render()
    return f"""set -e
for ns in host remote client; do unshare -n sleep 1000 & eval "$ns=$!"; done
for p in $host $remote $client; do
  while [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do :; done
done
ip -batch - <<E
link set lo up
link add eth0 type veth peer name eth0 netns $host
link add eth1 type veth peer name eth0 netns $remote
link add eth2 type veth peer name eth0 netns $client
addr add 203.0.113.1/24 dev eth0
addr add 198.51.100.1/24 dev eth1
addr add 192.0.2.1/24 dev eth2
link set eth0 up
link set eth1 up
link set eth2 up
E
nsenter --net=/proc/$host/ns/net ip -batch - <<E
link set lo up
link set eth0 up
addr add 203.0.113.2/24 dev eth0
route add default via 203.0.113.1
link add name docker0 type bridge
addr add 172.17.0.1/16 brd + dev docker0
link set docker0 up
E
nsenter --net=/proc/$remote/ns/net ip -batch - <<E
link set lo up
link set eth0 up
addr add 198.51.100.80/24 dev eth0
route add default via 198.51.100.1
E
nsenter --net=/proc/$client/ns/net ip -batch - <<E
link set lo up
link set eth0 up
addr add 192.0.2.50/24 dev eth0
route add default via 192.0.2.1
E
echo 1 > /proc/sys/net/ipv4/ip_forward
nsenter --net=/proc/$host/ns/net iptables-restore <<'E'
{start}
E
kill $host $remote $client
"""


@benchmark
def sandbox_ready():
    d = daemon()
    floor_script = _floor_script()

    def floor():
        subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--net",
                "--pid",
                "--fork",
                "--mount-proc",
                "sh",
                "-c",
                floor_script,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def ours():
        lab = d.up("19.03")
        _created.append(lab.sandbox.id)

    _created: list[str] = []
    floor_samples = sample(floor, n=20)
    samples = sample(ours, n=20)
    for sid in _created:
        d.down(sid)
    return result(
        "sandbox_ready", samples, floor_p50_ms=_p50(floor_samples), goal="p50 <= 1.3x floor and < 100 ms"
    )


def _p50(samples: list[float]) -> float:
    return round(sorted(samples)[len(samples) // 2], 3)


def _served(lab, url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = lab.sandbox.run("client", ["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", url])
        if r.stdout == b"200":
            return
    raise RuntimeError(f"{url} was not served")


@benchmark
def docker_run_publish():
    d = daemon()
    lab = d.up("19.03")
    sb = lab.sandbox

    def run():
        r = sb.run("host", ["docker", "run", "-d", "--name", "web", "-p", "8080:80", "nginx"], student=True)
        assert r.returncode == 0, r.stderr
        _served(lab, "http://203.0.113.2:8080/")

    def clean():
        sb.run("host", ["docker", "rm", "-f", "web"], student=True)

    floor_script = """set -e
mkdir -p /tmp/floor; echo floor > /tmp/floor/index.html
unshare -n sh -c 'ip link set lo up; exec busybox httpd -f -p 80 -h /tmp/floor' & c=$!
while [ "$(readlink /proc/$c/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do :; done
ip -batch - <<E
link add vethfloor type veth peer name eth0 netns $c
link set vethfloor master docker0
link set vethfloor up
E
nsenter --net=/proc/$c/ns/net ip -batch - <<E
addr add 172.17.0.9/16 dev eth0
link set eth0 up
route add default via 172.17.0.1
E
iptables-restore --noflush <<E
*nat
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8089 -j DNAT --to-destination 172.17.0.9:80
COMMIT
*filter
-A DOCKER -d 172.17.0.9/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
COMMIT
E
echo $c
"""
    floor_samples, samples = [], []
    for _ in range(15):
        start = time.perf_counter()
        # All output to /dev/null: the background server must not hold our pipe open.
        sb.run("host", ["sh", "-c", "{\n" + floor_script + "} >/dev/null 2>&1 </dev/null"], student=True)
        _served(lab, "http://203.0.113.2:8089/")
        floor_samples.append((time.perf_counter() - start) * 1000)
        sb.run(
            "host",
            [
                "sh",
                "-c",
                "pkill -f 'httpd -f -p 80 -h /tmp/floor'; ip link del vethfloor; "
                "iptables -t nat -D DOCKER ! -i docker0 -p tcp --dport 8089 -j DNAT "
                "--to-destination 172.17.0.9:80; iptables -D DOCKER -d 172.17.0.9/32 ! -i docker0 "
                "-o docker0 -p tcp --dport 80 -j ACCEPT",
            ],
            student=True,
        )
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
        clean()
    d.down(sb.id)
    return result(
        "docker_run_publish_served",
        samples,
        floor_p50_ms=_p50(floor_samples),
        goal="p50 < 50 ms (docker run -d -p 8080:80 nginx until the client gets the page)",
    )


def _mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


@benchmark
def sandboxes_500_idle():
    d = daemon()
    n = int(os.environ.get("NSLAB_BENCH_MANY", "500"))
    before = _mem_available()
    ids, samples = [], []
    for _ in range(n):
        start = time.perf_counter()
        ids.append(d.up("19.03").sandbox.id)
        samples.append((time.perf_counter() - start) * 1000)
    time.sleep(2)
    per_sandbox_mib = (before - _mem_available()) / n / (1 << 20)
    alive = sum(1 for sid in ids if d.get(sid).sandbox.alive())
    for sid in ids:
        d.down(sid, paced=True)
    _drain(d)
    rec = result(
        f"sandboxes_{n}_alive_create",
        samples,
        floor_p50_ms=None,
        goal=f"{n} alive at once, < 8 MiB each when idle",
    )
    rec["per_sandbox_mib"] = round(per_sandbox_mib, 2)
    rec["alive"] = alive
    return rec


def _drain(d: Daemon) -> None:
    d.teardown.join()


@benchmark
def teardown_300_while_creating():
    d = daemon()
    ids = [d.up("19.03").sandbox.id for _ in range(300)]
    for sid in ids:
        d.down(sid, paced=True)
    samples = []
    while not d.teardown.empty():
        start = time.perf_counter()
        lab = d.up("19.03")
        samples.append((time.perf_counter() - start) * 1000)
        d.down(lab.sandbox.id, paced=True)
        time.sleep(0.05)
    _drain(d)
    rec = result(
        "create_during_teardown_of_300",
        samples,
        floor_p50_ms=None,
        goal="no creation slower than 500 ms while 300 sandboxes go down",
    )
    rec["max_ms"] = round(max(samples), 1) if samples else None
    return rec


def cleanup() -> None:
    if _DAEMON is not None:
        for sid in [sid for sid, lab in _DAEMON.labs.items() if lab]:
            _DAEMON.down(sid)
        shutil.rmtree(_DAEMON.state, ignore_errors=True)
