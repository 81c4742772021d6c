"""topology.snapshot against a real bare sandbox (and one lab with the emulated engine)."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time

import pytest

from tests.topology.kit import bare_sandbox
from topology import snapshot as S
from topology.docker.model import Container, Network

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def sb():
    """A bare sandbox as in docs/sandbox-example.py, destroyed at the end."""
    yield from bare_sandbox("snapshot", 1500 + os.getpid() % 400)


def run(sb, ns: str, script: str, *, pid: int = 0) -> str:
    r = sb.run(ns, ["sh", "-ec", script], student=not pid, pid=pid)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def daemon_pid(sb, inner: int) -> int:
    """The daemon-side pid of the process the student sees as `inner`."""
    want = os.stat(f"/proc/{sb.host_pid}/ns/pid").st_ino
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}/ns/pid").st_ino != want:
                    continue
                with open(f"/proc/{entry}/status") as f:
                    nspid = next(line.split()[1:] for line in f if line.startswith("NSpid:"))
            except (OSError, StopIteration):
                continue
            if int(nspid[-1]) == inner:
                return int(entry)
        time.sleep(0.02)
    raise AssertionError(f"no process {inner} in the Docker host")


class FakeEngine:
    """Just what snapshot() reads from an engine."""

    def __init__(self):
        self.lock = threading.RLock()
        self.containers: dict[str, Container] = {}
        self.networks: dict[str, Network] = {}
        self.pids: dict[str, int] = {}

    def add(self, name: str, mode: str, inner: int, host_pid: int) -> Container:
        cid = secrets.token_hex(32)
        c = Container(id=cid, name=name, image="busybox", cmd=["sh"], created="", network_mode=mode,
                      hostname=cid[:12], status="running", pid=inner)  # fmt: skip
        self.containers[cid] = c
        self.pids[cid] = host_pid
        return c

    def host_pid(self, c: Container) -> int:
        return self.pids[c.id]


@pytest.fixture(scope="module")
def world(sb):
    """A "container" (a process with its own netns in the Docker host) on docker0, rules, traffic."""
    inner = int(run(sb, "host", "unshare -n sleep 600 >/dev/null 2>&1 & echo $!").split()[0])
    holder = daemon_pid(sb, inner)
    # `peer ... netns` gives the peer a fresh ifindex there: ctr eth0 (2) <-> host vethsnap (4) has
    # the same ifindex pair as client eth0 (2) <-> router eth2 (4).
    run(sb, "host", f"ip link add vethsnap type veth peer name eth0 netns {inner}\n"
                    "ip link set vethsnap master docker0\nip link set vethsnap up")  # fmt: skip
    run(sb, "ctr", "ip link set lo up\nip link set eth0 up\nip addr add 172.17.0.2/16 dev eth0\n"
                   "ip route add default via 172.17.0.1", pid=holder)  # fmt: skip
    run(
        sb,
        "host",
        "iptables -A OUTPUT -d 198.51.100.80/32 -p tcp -m tcp --dport 80 -j ACCEPT\n"
        "iptables -t nat -A OUTPUT -d 203.0.113.99/32 -p tcp -m tcp --dport 80 -j DNAT "
        "--to-destination 198.51.100.80:80\n"
        "iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n"
        "ip route add unreachable 10.1.0.0/16\nip route add unreachable 10.9.9.9\n"
        "ip route add blackhole 10.3.0.0/16\nip route add 10.4.0.5 via 203.0.113.1\n"
        "ip route add 10.5.0.0/16 via 203.0.113.1 proto redirect metric 7\n"
        "curl -sf -m 5 -o /dev/null http://198.51.100.80/\n"
        "curl -sf -m 5 -o /dev/null http://203.0.113.99/\n",
    )
    engine = FakeEngine()
    ctr = engine.add("ctr", "default", inner, holder)
    engine.add("side", f"container:{ctr.id}", inner, holder)
    engine.add("hostnet", "host", 1, sb.host_pid)
    engine.networks["n"] = Network(id="n" * 64, name="bridge", driver="bridge", created="", bridge="docker0")
    return engine, inner, holder


@pytest.fixture(scope="module")
def snap(sb, world):
    engine, _inner, _holder = world
    return S.snapshot(sb, engine)


def test_json_and_namespaces(snap, world, sb):
    _engine, _inner, holder = world
    assert json.loads(json.dumps(snap)) == snap and snap["sandbox"] == sb.id
    assert snap["errors"] == {}
    spaces = {n["name"]: n for n in snap["namespaces"]}
    assert list(spaces) == ["host", "router", "remote", "client", "ctr"]  # "side" shares ctr's: once
    assert spaces["ctr"]["containers"] == ["ctr", "side"] and spaces["ctr"]["kind"] == "container"
    assert spaces["host"]["containers"] == ["hostnet"]
    assert spaces["ctr"]["netns_inode"] == os.stat(f"/proc/{holder}/ns/net").st_ino
    assert spaces["host"]["netns_inode"] == os.stat(f"/proc/{sb.host_pid}/ns/net").st_ino
    assert spaces["router"]["netns_inode"] == os.stat(f"/proc/{sb.keeper_pid}/ns/net").st_ino
    assert len({n["netns_inode"] for n in snap["namespaces"]}) == 5
    docker = {c["name"]: c["namespace"] for c in snap["docker"]["containers"]}
    assert docker == {"ctr": "ctr", "side": "ctr", "hostnet": "host"}
    assert snap["docker"]["networks"][0]["bridge"] == "docker0"


def test_veth_peers_across_namespaces(snap):
    links = {(ns, link["name"]): link for ns, ls in snap["links"].items() for link in ls}
    veth = links[("host", "vethsnap")]
    ctr = links[("ctr", "eth0")]
    client = links[("client", "eth0")]
    # The collision the resolution must get right: same (ifindex, peer ifindex) pairs.
    assert (ctr["ifindex"], veth["ifindex"]) == (client["ifindex"], links[("router", "eth2")]["ifindex"])
    assert (veth["kind"], veth["master"]) == ("veth", "docker0")
    assert (veth["peer_namespace"], veth["peer_name"], veth["peer_ifindex"]) == (
        "ctr",
        "eth0",
        ctr["ifindex"],
    )
    assert (ctr["peer_namespace"], ctr["peer_name"]) == ("host", "vethsnap")
    assert (client["peer_namespace"], client["peer_name"]) == ("router", "eth2")
    assert (links[("router", "eth2")]["peer_namespace"], links[("router", "eth2")]["peer_name"]) == (
        "client", "eth0",
    )  # fmt: skip
    assert (links[("host", "eth0")]["peer_namespace"], links[("host", "eth0")]["peer_name"]) == (
        "router",
        "eth0",
    )
    assert (links[("remote", "eth0")]["peer_namespace"], links[("remote", "eth0")]["peer_name"]) == (
        "router", "eth1",
    )  # fmt: skip
    assert links[("host", "docker0")]["kind"] == "bridge" and links[("host", "lo")]["kind"] == "loopback"
    assert ctr["state"] == "UP" and ctr["operstate"] == "UP"
    addrs = {(a["ifname"], a["address"]) for a in snap["addresses"]["ctr"]}
    assert ("eth0", "172.17.0.2") in addrs
    fdb = [e for e in snap["fdb"]["host"] if e["ifname"] == "vethsnap" and e["master"] == "docker0"]
    assert any(e["permanent"] and e["mac"] == veth["mac"] for e in fdb)


def test_routes_match_route_n(snap, sb):
    routes = {(r["table"], r["dst"]): r for r in snap["routes"]["host"] if r["family"] == "inet"}
    default = routes[("main", "default")]
    assert (default["flags"], default["gateway"], default["iface"], default["genmask"]) == (
        "UG", "203.0.113.1", "eth0", "0.0.0.0",
    )  # fmt: skip
    assert routes[("main", "10.9.9.9")]["flags"] == "!H"
    assert routes[("main", "10.5.0.0/16")]["protocol"] == "redirect"
    assert routes[("local", "172.17.0.1")]["type"] == "local"
    ctr_default = next(r for r in snap["routes"]["ctr"] if r["dst"] == "default")
    assert (ctr_default["flags"], ctr_default["gateway"]) == ("UG", "172.17.0.1")
    # Every flag as net-tools' route -n prints it from the kernel's /proc/net/route.
    typed = [S.Route(**r) for r in snap["routes"]["host"]]
    assert S.format_route_n(typed) == run(sb, "host", "route -n")


def test_rules_counters_and_conntrack(snap):
    nf = snap["netfilter"]["host"]
    out = nf["tables"]["filter"]["OUTPUT"]
    assert out["policy"] == "ACCEPT"
    rule = out["rules"][0]
    assert rule["line"] == "-A OUTPUT -d 198.51.100.80/32 -p tcp -m tcp --dport 80 -j ACCEPT"
    assert rule["packets"] > 0 and rule["bytes"] > 0
    assert {"module": "tcp", "option": "--dport", "negated": False, "value": "80"} in rule["matches"]
    dnat = nf["tables"]["nat"]["OUTPUT"]["rules"][0]
    assert dnat["target"] == "DNAT" and dnat["packets"] >= 1
    assert dnat["target_options"][0]["value"] == "198.51.100.80:80"
    masq = nf["tables"]["nat"]["POSTROUTING"]["rules"][0]
    assert {"module": None, "option": "-o", "negated": True, "value": "docker0"} in masq["matches"]
    assert all(t["iptables"] for t in nf["nft_tables"]) and nf["nft"] == ""
    ct = snap["conntrack"]["host"]
    web = [
        c for c in ct if c["proto"] == "tcp" and c["reply_src"] == "198.51.100.80" and c["orig_dport"] == 80
    ]
    plain = [c for c in web if c["orig_dst"] == "198.51.100.80"]
    nat = [c for c in web if c["orig_dst"] == "203.0.113.99"]
    assert plain and plain[0]["nat"] is None and plain[0]["orig_src"] == "203.0.113.2"
    assert nat and nat[0]["nat"] == "dnat" and "ASSURED" in nat[0]["flags"]


def test_sysctls_sockets_processes(snap, world):
    _engine, inner, _holder = world
    host = snap["sysctls"]["host"]
    assert host["ip_forward"] == 1 and "docker0" in host["rp_filter"] and "all" in host["disable_ipv6"]
    assert len(host["ip_local_port_range"]) == 2
    assert snap["sysctls"]["remote"]["ip_forward"] == 0
    web = [s for s in snap["sockets"]["remote"] if s["port"] == 80 and s["proto"] == "tcp"]
    assert web and web[0]["state"] == "LISTEN" and web[0]["processes"][0]["name"] == "busybox"
    host_procs = {p["pid"]: p for p in snap["processes"]["host"]}
    assert host_procs[inner]["command"] == "sleep 600"  # the student's pid
    assert host_procs[1]["ppid"] == 0
    assert not any(S.MARK_PREFIX in p["command"] for ps in snap["processes"].values() for p in ps)
    assert [p["command"].split()[:2] for p in snap["processes"]["remote"]] == [
        ["busybox", "httpd"],
        ["/run/nslab-dnsd", "/run/netns/remote"],  # the outside world's DNS server
    ]
    dns = [s for s in snap["sockets"]["remote"] if s["port"] == 53 and s["proto"] == "udp"]
    assert dns and dns[0]["address"] == "198.51.100.53"
    assert snap["processes"]["client"] == []


def test_snapshot_is_quick(sb, world):
    engine, _inner, _holder = world
    S.snapshot(sb, engine)
    times = []
    for _ in range(5):
        started = time.monotonic()
        S.snapshot(sb, engine)
        times.append(time.monotonic() - started)
    # Five namespaces; generous against a loaded CI machine (typically ~60 ms on 2 cores).
    assert min(times) < 0.5, times


def test_incremental_snapshot(sb, world):
    """With `namespaces`, only those (and the ones the cache lacks) are collected; others are cached."""
    engine, _inner, _holder = world
    cache: dict = {}
    full = S.snapshot(sb, engine, cache=cache)
    assert set(cache) == {"host", "router", "remote", "client", "ctr"}

    def has(snap: dict) -> bool:
        return any(a["address"] == "192.0.2.250" for a in snap["addresses"]["router"])

    run(sb, "router", "ip addr add 192.0.2.250/32 dev lo")
    try:
        stale = S.snapshot(sb, engine, namespaces=["host"], cache=cache)
        assert not has(stale) and stale["errors"] == {}
        assert stale["namespaces"] == full["namespaces"] and stale["docker"] == full["docker"]
        assert stale["links"]["ctr"] == full["links"]["ctr"]  # veth peers resolved as in a full one
        assert has(S.snapshot(sb, engine, namespaces=["router"], cache=cache))
        run(sb, "router", "ip addr del 192.0.2.250/32 dev lo")
        assert has(S.snapshot(sb, engine, namespaces=["host"], cache=cache))  # as last collected
        assert not has(S.snapshot(sb, engine, namespaces=["nosuch"], cache=cache))  # unknown: all
        del cache["ctr"]
        S.snapshot(sb, engine, namespaces=[], cache=cache)
        assert set(cache) == {"host", "router", "remote", "client", "ctr"}
    finally:
        run(sb, "router", "ip addr del 192.0.2.250/32 dev lo 2>/dev/null || true")


def test_incremental_snapshot_lean(sb, world):
    """After only link/address/route/neighbour changes, netfilter, conntrack, sockets and processes
    stay as cached."""
    engine, _inner, _holder = world
    cache: dict = {}
    S.snapshot(sb, engine, cache=cache)

    def has_rule(snap: dict) -> bool:
        return any(
            "192.0.2.251" in r["line"]
            for r in snap["netfilter"]["host"]["tables"]["filter"]["INPUT"]["rules"]
        )

    def listens(snap: dict) -> bool:
        return any(s["port"] == 9251 for s in snap["sockets"]["host"])

    def runs(snap: dict, pid: int) -> bool:
        return any(p["pid"] == pid for p in snap["processes"]["host"])

    run(sb, "host", "iptables -A INPUT -s 192.0.2.251/32 -j ACCEPT\nip addr add 192.0.2.251/32 dev lo")
    server = run(
        sb,
        "host",
        "busybox httpd -f -p 9251 -h / </dev/null >/dev/null 2>&1 & echo $!\n"
        "for i in $(seq 50); do ss -Hltn | grep -q :9251 && break; sleep 0.1; done",
    )
    pid = int(server.split()[0])
    try:
        lean = S.snapshot(sb, engine, namespaces=["host"], kinds=["address"], cache=cache)
        assert lean["errors"] == {} and not has_rule(lean)
        assert not listens(lean) and not runs(lean, pid)
        assert any(a["address"] == "192.0.2.251" for a in lean["addresses"]["host"])
        full = S.snapshot(sb, engine, namespaces=["host"], kinds=["address", "netfilter"], cache=cache)
        assert has_rule(full) and listens(full) and runs(full, pid)
    finally:
        run(
            sb,
            "host",
            f"kill {pid}\niptables -D INPUT -s 192.0.2.251/32 -j ACCEPT\nip addr del 192.0.2.251/32 dev lo",
        )


def test_lab_with_engine(lab):
    """The real engine: a published port and a container joining another's network namespace."""
    run(
        lab.sandbox,
        "host",
        "docker run -d --name web -p 8080:80 nginx\n"
        "docker run -d --name side --network container:web busybox sleep 1000\n"
        "curl -sf -m 5 -o /dev/null http://203.0.113.2:8080/",
    )
    snap = json.loads(json.dumps(S.snapshot(lab.sandbox, lab.engine)))
    assert snap["errors"] == {}
    spaces = {n["name"]: n for n in snap["namespaces"]}
    assert spaces["web"]["containers"] == ["web", "side"] and "side" not in spaces
    web_eth0 = next(link for link in snap["links"]["web"] if link["name"] == "eth0")
    host_veth = next(link for link in snap["links"]["host"] if link["name"] == web_eth0["peer_name"])
    assert web_eth0["peer_namespace"] == "host" and host_veth["master"] == "docker0"
    assert (host_veth["peer_namespace"], host_veth["peer_name"]) == ("web", "eth0")
    dnat = [r for r in snap["netfilter"]["host"]["tables"]["nat"]["DOCKER"]["rules"] if r["target"] == "DNAT"]
    assert dnat and dnat[0]["target_options"][0]["value"].endswith(":80")
    assert any(c["nat"] == "dnat" and c["orig_dport"] == 8080 for c in snap["conntrack"]["host"])
    web_pid = next(c["pid"] for c in snap["docker"]["containers"] if c["name"] == "web")
    assert web_pid in {p["pid"] for p in snap["processes"]["host"]}
    assert any(s["port"] == 80 for s in snap["sockets"]["web"])


def test_docker_28_ip6tables_chains_are_iptables_made(lab28):
    # Docker 28's ip6tables chains are collected as iptables-made (tables6), not as other nft rules.
    snap = json.loads(json.dumps(S.snapshot(lab28.sandbox, lab28.engine)))
    nf = snap["netfilter"]["host"]
    assert {"DOCKER-USER", "DOCKER-FORWARD", "DOCKER-ISOLATION-STAGE-1"} <= set(nf["tables6"]["filter"])
    assert "DOCKER" in nf["tables6"]["nat"]
    assert "table ip6" not in nf["nft"]
    ip6 = {(t["family"], t["name"]): t["iptables"] for t in nf["nft_tables"] if t["family"] == "ip6"}
    assert ip6 == {("ip6", "filter"): True, ("ip6", "nat"): True}
    assert snap["netfilter"]["router"]["tables6"] == {}  # no ip6 tables there: nothing collected
