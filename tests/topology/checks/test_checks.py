"""The check primitives on literal snapshot dicts: passing, failing with the right code, diagnoses."""

from __future__ import annotations

import copy
import string

import pytest

from topology import checks
from topology.checks import MESSAGES, check, covers, diagnose_traffic, spec_key
from topology.iptables_save import parse_iptables_save

FILTER_NAT = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
[3:180] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
[0:0] -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
[5:300] -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
[0:0] -A DOCKER -i docker0 -j RETURN
[2:120] -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
[0:0] -A FORWARD -o docker0 -j DOCKER
[0:0] -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
[0:0] -A FORWARD -i docker0 -o docker0 -j ACCEPT
[0:0] -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
[0:0] -A DOCKER-USER -j RETURN
COMMIT
"""


def _tables(text: str) -> dict:
    return {t: {n: c.to_dict() for n, c in chains.items()} for t, chains in parse_iptables_save(text).items()}


def _link(name, ifindex, kind="veth", master=None, mac="02:00:00:00:00:01", peer_ns=None, peer_name=None):
    return {
        "name": name,
        "ifindex": ifindex,
        "kind": kind,
        "master": master,
        "mac": mac,
        "state": "UP",
        "operstate": "UP",
        "mtu": 1500,
        "flags": ["UP"],
        "peer_ifindex": None,
        "peer_namespace": peer_ns,
        "peer_name": peer_name,
        "link_netnsid": None,
        "port_state": None,
    }


def _addr(ifname, address, plen):
    return {
        "ifname": ifname,
        "family": "inet",
        "address": address,
        "prefixlen": plen,
        "broadcast": None,
        "scope": "global",
        "label": ifname,
    }


def _route(dst, dev, via=None, prefsrc=None, typ="unicast"):
    net, _, plen = ("0.0.0.0/0" if dst == "default" else dst).partition("/")
    plen = int(plen or 32)
    flags = "U" + ("G" if via else "") + ("H" if plen == 32 else "")
    return {
        "destination": net,
        "gateway": via or "0.0.0.0",
        "genmask": "",
        "flags": flags,
        "metric": 0,
        "ref": 0,
        "use": 0,
        "iface": dev,
        "family": "inet",
        "dst": dst,
        "prefixlen": plen,
        "via": via,
        "dev": dev,
        "table": "main",
        "protocol": "kernel",
        "scope": "global",
        "type": typ,
        "prefsrc": prefsrc,
        "route_flags": [],
    }


def _sysctls(ip_forward=1):
    return {
        "ip_forward": ip_forward,
        "ip_local_port_range": [32768, 60999],
        "bridge_nf_call_iptables": 1,
        "bridge_nf_call_ip6tables": 1,
        "rp_filter": {"all": 0, "eth0": 2},
        "route_localnet": {"all": 0},
        "accept_ra": {},
        "disable_ipv6": {},
        "conntrack_count": 1,
    }


def _nf(text=""):
    return {"tables": _tables(text), "nft": "", "nft_tables": []}


def make_snapshot() -> dict:
    """A Docker host with nginx `web` published 8080->80, a router, the remote server and the client."""
    ns = ["host", "router", "remote", "client", "web"]
    snap = {
        "sandbox": "t",
        "taken_at": "",
        "duration_ms": 0.0,
        "namespaces": [
            {
                "name": n,
                "kind": "host" if n == "host" else "container" if n == "web" else "outside",
                "netns_inode": i,
                "containers": ["web"] if n == "web" else [],
            }
            for i, n in enumerate(ns)
        ],
        "links": {
            "host": [
                _link("lo", 1, "loopback"),
                _link("eth0", 2, peer_ns="router", peer_name="eth0"),
                _link("docker0", 3, "bridge", mac="02:42:ac:11:00:01"),
                _link(
                    "veth1234", 4, master="docker0", mac="aa:bb:cc:dd:ee:04", peer_ns="web", peer_name="eth0"
                ),
            ],
            "router": [
                _link("lo", 1, "loopback"),
                _link("eth0", 2, peer_ns="host", peer_name="eth0"),
                _link("eth1", 3, peer_ns="remote", peer_name="eth0"),
                _link("eth2", 4, peer_ns="client", peer_name="eth0"),
            ],
            "remote": [_link("lo", 1, "loopback"), _link("eth0", 2, peer_ns="router", peer_name="eth1")],
            "client": [_link("lo", 1, "loopback"), _link("eth0", 2, peer_ns="router", peer_name="eth2")],
            "web": [
                _link("lo", 1, "loopback"),
                _link("eth0", 2, mac="02:42:ac:11:00:02", peer_ns="host", peer_name="veth1234"),
            ],
        },
        "addresses": {
            "host": [_addr("eth0", "203.0.113.2", 24), _addr("docker0", "172.17.0.1", 16)],
            "router": [
                _addr("eth0", "203.0.113.1", 24),
                _addr("eth1", "198.51.100.1", 24),
                _addr("eth2", "192.0.2.1", 24),
            ],
            "remote": [_addr("eth0", "198.51.100.80", 24)],
            "client": [_addr("eth0", "192.0.2.50", 24)],
            "web": [_addr("eth0", "172.17.0.2", 16)],
        },
        "routes": {
            "host": [
                _route("default", "eth0", "203.0.113.1"),
                _route("172.17.0.0/16", "docker0", prefsrc="172.17.0.1"),
                _route("203.0.113.0/24", "eth0", prefsrc="203.0.113.2"),
            ],
            "router": [
                _route("203.0.113.0/24", "eth0", prefsrc="203.0.113.1"),
                _route("198.51.100.0/24", "eth1", prefsrc="198.51.100.1"),
                _route("192.0.2.0/24", "eth2", prefsrc="192.0.2.1"),
            ],
            "remote": [_route("default", "eth0", "198.51.100.1"), _route("198.51.100.0/24", "eth0")],
            "client": [_route("default", "eth0", "192.0.2.1"), _route("192.0.2.0/24", "eth0")],
            "web": [
                _route("default", "eth0", "172.17.0.1"),
                _route("172.17.0.0/16", "eth0", prefsrc="172.17.0.2"),
            ],
        },
        "neighbours": {n: [] for n in ns},
        "fdb": {n: [] for n in ns},
        "sysctls": {n: _sysctls() for n in ns},
        "netfilter": {n: _nf(FILTER_NAT if n == "host" else "") for n in ns},
        "conntrack": {n: [] for n in ns},
        "sockets": {n: [] for n in ns},
        "processes": {n: [] for n in ns},
        "errors": {},
        "docker": {
            "containers": [
                {
                    "id": "abc123",
                    "name": "web",
                    "image": "nginx",
                    "network_mode": "default",
                    "status": "running",
                    "pid": 9,
                    "ports": [
                        {"container_port": 80, "proto": "tcp", "host_ip": "0.0.0.0", "host_port": 8080}
                    ],
                    "endpoints": [
                        {
                            "network": "bridge",
                            "ip": "172.17.0.2",
                            "prefixlen": 16,
                            "gateway": "172.17.0.1",
                            "mac": "02:42:ac:11:00:02",
                            "ifname": "eth0",
                            "host_veth": "veth1234",
                        }
                    ],
                    "namespace": "web",
                },
                {
                    "id": "def456",
                    "name": "side",
                    "image": "busybox",
                    "network_mode": "container:abc123",
                    "status": "exited",
                    "pid": 0,
                    "ports": [],
                    "endpoints": [],
                    "namespace": None,
                },
            ],
            "networks": [
                {
                    "id": "n1",
                    "name": "bridge",
                    "driver": "bridge",
                    "subnet": "172.17.0.0/16",
                    "bridge": "docker0",
                    "internal": False,
                },
                {
                    "id": "n2",
                    "name": "back",
                    "driver": "bridge",
                    "subnet": "10.5.0.0/24",
                    "bridge": "br-n2",
                    "internal": True,
                },
            ],
        },
    }
    snap["sockets"]["host"] = [
        {
            "proto": "tcp",
            "state": "LISTEN",
            "address": "0.0.0.0",
            "port": 8080,
            "interface": None,
            "recv_q": 0,
            "send_q": 128,
            "processes": [{"name": "docker-proxy", "pid": 10, "fd": 4}],
        }
    ]
    snap["sockets"]["web"] = [
        {
            "proto": "tcp",
            "state": "LISTEN",
            "address": "*",
            "port": 80,
            "interface": None,
            "recv_q": 0,
            "send_q": 9,
            "processes": [{"name": "nginx", "pid": 2, "fd": 3}],
        }
    ]
    snap["processes"]["host"] = [
        {
            "pid": 10,
            "ppid": 0,
            "netns": 0,
            "command": "/usr/local/bin/docker-proxy -proto tcp -host-port 8080",
        }
    ]
    snap["processes"]["web"] = [{"pid": 2, "ppid": 1, "netns": 4, "command": "nginx: master process"}]
    snap["conntrack"]["host"] = [
        {
            "family": "ipv4",
            "proto": "tcp",
            "proto_num": 6,
            "timeout": 100,
            "state": "TIME_WAIT",
            "orig_src": "192.0.2.50",
            "orig_dst": "203.0.113.2",
            "orig_sport": 40000,
            "orig_dport": 8080,
            "reply_src": "172.17.0.2",
            "reply_dst": "192.0.2.50",
            "reply_sport": 80,
            "reply_dport": 40000,
            "flags": ["ASSURED"],
            "mark": 0,
            "zone": None,
            "use": 1,
            "nat": "dnat",
        }
    ]
    return snap


@pytest.fixture
def snap():
    return make_snapshot()


def code(res: dict) -> str:
    return res["message"]["code"]


def diag_codes(res: dict) -> list[str]:
    return [d["code"] for d in res["diagnoses"]]


def test_every_message_code_has_a_template_whose_fields_are_names():
    for key, template in MESSAGES.items():
        assert template and isinstance(template, str), key
        for _, field, _, _ in string.Formatter().parse(template):
            assert field is None or field.isidentifier(), (key, field)


def test_results_have_the_spec_shape(snap):
    res = check("container", {"name": "web"}, snap)
    assert set(res) == {"kind", "ok", "message", "diagnoses"}
    assert res["kind"] == "container" and res["ok"] is True
    assert set(res["message"]) == {"code", "params"} and res["message"]["code"] in MESSAGES
    MESSAGES[code(res)].format(**res["message"]["params"])


@pytest.mark.parametrize(
    ("kind", "args", "ok", "expected_code"),
    [
        ("container", {"name": "web", "running": True, "network": "bridge"}, True, "container.ok"),
        (
            "container",
            {"name": "web", "published": [{"port": 80, "host_port": 8080, "host_ip": "0.0.0.0"}]},
            True,
            "container.ok",
        ),
        (
            "container",
            {"name": "web", "published": [{"port": 80, "host_port": 9090}]},
            False,
            "container.not_published",
        ),
        ("container", {"name": "nope"}, False, "container.missing"),
        ("container", {"name": "nope", "present": False}, True, "container.ok"),
        ("container", {"name": "web", "present": False}, False, "container.unexpected"),
        ("container", {"name": "side", "running": True}, False, "container.not_running"),
        ("container", {"name": "side", "network": "container:web"}, True, "container.ok"),
        ("container", {"name": "web", "network": "host"}, False, "container.network"),
        (
            "network",
            {"name": "back", "subnet": "10.5.0.0/24", "internal": True, "bridge": "br-n2"},
            True,
            "network.ok",
        ),
        ("network", {"name": "back", "internal": False}, False, "network.mismatch"),
        ("network", {"name": "front"}, False, "network.missing"),
        ("network", {"name": "front", "present": False}, True, "network.ok"),
        (
            "link",
            {
                "name": "veth1234",
                "kind": "veth",
                "master": "docker0",
                "peer_ns": "web",
                "peer_name": "eth0",
                "state": "up",
                "mtu": 1500,
            },
            True,
            "link.ok",
        ),
        ("link", {"name_pattern": "veth[0-9a-f]+", "master": "docker0"}, True, "link.ok"),
        ("link", {"ns": "web", "name": "eth0", "mac": "02:42:AC:11:00:02"}, True, "link.ok"),
        ("link", {"name": "veth1234", "master": "br0"}, False, "link.mismatch"),
        ("link", {"name": "dummy0"}, False, "link.missing"),
        ("link", {"name": "dummy0", "present": False}, True, "link.ok"),
        ("link", {"name": "docker0", "present": False}, False, "link.unexpected"),
        ("links", {"ns": "web", "exactly": ["lo", "eth0"]}, True, "links.ok"),
        ("links", {"ns": "web", "exactly": ["lo"]}, False, "links.not_exactly"),
        ("links", {"include": ["docker0", "eth0"], "exclude": ["br0"]}, True, "links.ok"),
        ("links", {"include": ["br0"]}, False, "links.missing"),
        ("links", {"exclude": ["docker0"]}, False, "links.extra"),
        ("address", {"ns": "web", "address": "172.17.0.2/16", "ifname": "eth0"}, True, "address.ok"),
        ("address", {"ns": "web", "address": "172.17.0.2"}, True, "address.ok"),
        ("address", {"ns": "web", "address": "172.17.0.2/24"}, False, "address.prefix"),
        ("address", {"ns": "web", "address": "172.17.0.2", "ifname": "eth1"}, False, "address.wrong_link"),
        ("address", {"address": "10.0.0.1"}, False, "address.missing"),
        ("address", {"address": "172.17.0.1", "present": False}, False, "address.unexpected"),
        (
            "route",
            {"destination": "default", "gateway": "203.0.113.1", "dev": "eth0", "flags": "UG"},
            True,
            "route.ok",
        ),
        (
            "route",
            {"ns": "web", "destination": "172.17.0.0/16", "dev": "eth0", "flags": "U"},
            True,
            "route.ok",
        ),
        ("route", {"destination": "default", "gateway": "203.0.113.9"}, False, "route.mismatch"),
        ("route", {"ns": "router", "destination": "default"}, False, "route.missing"),
        ("route", {"ns": "router", "destination": "default", "present": False}, True, "route.ok"),
        ("sysctl", {"name": "ip_forward", "value": 1}, True, "sysctl.ok"),
        ("sysctl", {"name": "ip_forward", "value": "0"}, False, "sysctl.mismatch"),
        ("sysctl", {"name": "rp_filter.eth0", "value": 2}, True, "sysctl.ok"),
        ("sysctl", {"name": "rp_filter.nope", "value": 0}, False, "sysctl.unknown"),
        ("policy", {"chain": "FORWARD", "policy": "drop"}, True, "policy.ok"),
        ("policy", {"table": "nat", "chain": "POSTROUTING", "policy": "DROP"}, False, "policy.mismatch"),
        ("policy", {"chain": "NOPE", "policy": "DROP"}, False, "chain.missing"),
        (
            "conntrack",
            {
                "proto": "tcp",
                "orig_src": "192.0.2.50",
                "orig_dport": 8080,
                "reply_src": "172.17.0.2",
                "nat": "dnat",
            },
            True,
            "conntrack.ok",
        ),
        ("conntrack", {"nat": "snat"}, False, "conntrack.missing"),
        ("conntrack", {"orig_dport": 8080, "present": False}, False, "conntrack.unexpected"),
        ("conntrack", {"orig_dport": 9999, "present": False}, True, "conntrack.absent_ok"),
        ("listening", {"port": 8080, "process": "docker-proxy", "address": "0.0.0.0"}, True, "listening.ok"),
        ("listening", {"ns": "web", "port": 80, "address": "0.0.0.0"}, True, "listening.ok"),
        ("listening", {"port": 8080, "address": "127.0.0.1"}, False, "listening.wrong_address"),
        ("listening", {"port": 8081}, False, "listening.missing"),
        ("listening", {"port": 8080, "present": False}, False, "listening.unexpected"),
        ("listening", {"port": 8081, "present": False}, True, "listening.absent_ok"),
        ("route", {"ns": "nowhere"}, False, "snapshot.missing"),
        ("teleport", {}, False, "check.unknown"),
        ("address", {}, False, "check.error"),
    ],
)
def test_state_primitives(snap, kind, args, ok, expected_code):
    res = check(kind, args, snap)
    assert (res["ok"], code(res)) == (ok, expected_code), res
    MESSAGES[code(res)].format(**res["message"]["params"])


# -- rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("-p tcp --dport 80 -j ACCEPT", "-p tcp -m tcp --dport 80 -j ACCEPT"),
        ("-p tcp --destination-port 80 -j ACCEPT", "-p tcp -m tcp --dport 80 -j ACCEPT"),
        ("-s 10.0.0.1 -j DROP", "-s 10.0.0.1/32 -j DROP"),
        ("-s 10.0.0.7/24 -j DROP", "-s 10.0.0.0/24 -j DROP"),
        ("-i docker0 ! -o docker0 -j ACCEPT", "! -o docker0 -i docker0 --jump ACCEPT"),
        ("--protocol 6 --dport http -j ACCEPT", "-p tcp -m tcp --dport 80 -j ACCEPT"),
        (
            "-m state --state ESTABLISHED,RELATED -j ACCEPT",
            "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        ),
        ("-m comment --comment 'web' -p udp --sport 53 -j ACCEPT", "-p udp -m udp --sport 53 -j ACCEPT"),
        (
            "-p tcp --dport 8080 -j DNAT --to 172.17.0.2:80",
            "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
        ),
        ("-p tcp -j REJECT", "-p tcp -j REJECT --reject-with icmp-port-unreachable"),
        ("-p icmp --icmp-type echo-request -j ACCEPT", "-p icmp -m icmp --icmp-type 8 -j ACCEPT"),
        ("-p all -j ACCEPT", "-j ACCEPT"),
    ],
)
def test_rules_equal_by_meaning(a, b):
    assert spec_key(a) == spec_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("-p tcp --dport 80 -j ACCEPT", "-p tcp --dport 80 -j DROP"),
        ("-p tcp --dport 80 -j ACCEPT", "-p udp --dport 80 -j ACCEPT"),
        ("-p tcp --dport 80 -j ACCEPT", "-p tcp --sport 80 -j ACCEPT"),
        ("-s 10.0.0.1 -j DROP", "! -s 10.0.0.1 -j DROP"),
        ("-s 10.0.0.0/24 -j DROP", "-s 10.0.0.0/16 -j DROP"),
        ("-i docker0 -j ACCEPT", "-o docker0 -j ACCEPT"),
        ("-j DNAT --to-destination 172.17.0.2:80", "-j DNAT --to-destination 172.17.0.3:80"),
        ("-j ACCEPT", "-g ACCEPT"),
    ],
)
def test_rules_different_in_meaning(a, b):
    assert spec_key(a) != spec_key(b)


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        ("-j DROP", "-p tcp --dport 80 -j ACCEPT", True),
        ("-p tcp -j DROP", "-p tcp --dport 80 -j ACCEPT", True),
        ("-s 10.0.0.0/8 -j DROP", "-s 10.1.2.3 -p tcp -j ACCEPT", True),
        ("! -s 192.168.0.0/16 -j DROP", "-s 10.1.2.3 -j ACCEPT", True),
        ("-i eth+ -j DROP", "-i eth0 -j ACCEPT", True),
        ("! -i docker0 -j DROP", "-i eth0 -j ACCEPT", True),
        ("-p tcp --dport 1:1024 -j DROP", "-p tcp --dport 80 -j ACCEPT", True),
        ("-m conntrack --ctstate NEW,INVALID -j DROP", "-m state --state NEW -j ACCEPT", True),
        ("-p udp -j DROP", "-p tcp --dport 80 -j ACCEPT", False),
        ("-s 10.1.2.3 -j DROP", "-s 10.0.0.0/8 -j ACCEPT", False),
        ("-p tcp --dport 80 -j DROP", "-p tcp -j ACCEPT", False),
        ("! -i docker0 -j DROP", "-i docker0 -j ACCEPT", False),
        ("-m mark --mark 1 -j DROP", "-j ACCEPT", False),
    ],
)
def test_covers_is_a_proved_superset(earlier, later, expected):
    assert covers(spec_key(earlier), spec_key(later)) is expected


def _with_user_rules(snap: dict, *lines: str) -> dict:
    text = FILTER_NAT.replace(
        "[0:0] -A DOCKER-USER -j RETURN\n", "".join(f"[0:0] -A DOCKER-USER {x}\n" for x in lines)
    )
    snap["netfilter"]["host"] = _nf(text)
    return snap


def test_rule_present_absent_and_by_meaning(snap):
    res = check(
        "rule",
        {
            "table": "nat",
            "chain": "DOCKER",
            "rule": "--dport 8080 ! --in-interface docker0 -p tcp -j DNAT --to-destination 172.17.0.2:80",
        },
        snap,
    )
    assert res["ok"] and code(res) == "rule.ok" and res["message"]["params"]["number"] == 2
    assert (
        code(check("rule", {"chain": "FORWARD", "rule": "-p tcp --dport 22 -j ACCEPT"}, snap))
        == "rule.missing"
    )
    gone = check("rule", {"chain": "FORWARD", "rule": "-p tcp --dport 22 -j ACCEPT", "present": False}, snap)
    assert gone["ok"] and code(gone) == "rule.absent_ok"
    there = check(
        "rule", {"chain": "FORWARD", "rule": "-i docker0 -o docker0 -j ACCEPT", "present": False}, snap
    )
    assert not there["ok"] and code(there) == "rule.unexpected"
    assert code(check("rule", {"chain": "FORWARD", "rule": "-p tcp"}, snap)) == "rule.bad_spec"
    assert code(check("rule", {"chain": "NOPE", "rule": "-j ACCEPT"}, snap)) == "chain.missing"


def test_rule_after_drop_is_not_effective(snap):
    _with_user_rules(snap, "-i eth0 -j DROP", "-i eth0 -p tcp --dport 80 -j ACCEPT", "-j RETURN")
    args = {"chain": "DOCKER-USER", "rule": "-p tcp -m tcp --dport 80 -i eth0 -j ACCEPT", "effective": True}
    res = check("rule", args, snap)
    assert not res["ok"] and code(res) == "rule.not_effective"
    assert res["message"]["params"]["by_number"] == 1
    assert diag_codes(res) == ["rule_after_drop"]
    assert res["diagnoses"][0]["params"]["number"] == 1 and res["diagnoses"][0]["params"]["after"] == 2
    # without "effective" the rule is simply present
    present = {k: v for k, v in args.items() if k != "effective"}
    assert check("rule", present, snap)["ok"]
    assert check("rule", {**args, "effective": False}, snap)["ok"]


def test_rule_after_narrower_drop_stays_effective(snap):
    _with_user_rules(snap, "-s 10.9.9.9 -i eth0 -j DROP", "-i eth0 -p tcp --dport 80 -j ACCEPT")
    args = {"chain": "DOCKER-USER", "rule": "-i eth0 -p tcp --dport 80 -j ACCEPT", "effective": True}
    assert check("rule", args, snap)["ok"]
    res = check("rule", {**args, "effective": False}, snap)
    assert not res["ok"] and code(res) == "rule.effective"


def test_rule_after_same_verdict_stays_effective(snap):
    _with_user_rules(snap, "-j ACCEPT", "-p tcp --dport 80 -j ACCEPT")
    assert check(
        "rule", {"chain": "DOCKER-USER", "rule": "-p tcp --dport 80 -j ACCEPT", "effective": True}, snap
    )["ok"]


def test_rule_after_accept_that_takes_all_is_not_effective_without_drop_diagnosis(snap):
    _with_user_rules(snap, "-p tcp -j ACCEPT", "-p tcp --dport 80 -j DROP")
    res = check(
        "rule", {"chain": "DOCKER-USER", "rule": "-p tcp --dport 80 -j DROP", "effective": True}, snap
    )
    assert code(res) == "rule.not_effective" and res["diagnoses"] == []


# -- diagnoses ----------------------------------------------------------------------------------


def test_wrong_namespace_for_links_addresses_sockets_and_rules(snap):
    res = check("address", {"ns": "host", "address": "172.17.0.2/16"}, snap)
    assert diag_codes(res) == ["wrong_namespace"]
    assert res["diagnoses"][0]["params"] == {
        "what": {"code": "part.address", "params": {"address": "172.17.0.2/16"}},  # translated with it
        "found": "web",
        "expected": "host",
    }
    res = check("link", {"ns": "host", "name": "eth0", "mac": "02:42:ac:11:00:02"}, snap)
    assert code(res) == "link.mismatch"
    res = check("link", {"ns": "web", "name": "docker0"}, snap)
    assert diag_codes(res) == ["wrong_namespace"] and res["diagnoses"][0]["params"]["found"] == "host"
    res = check("listening", {"ns": "host", "port": 80}, snap)
    assert diag_codes(res) == ["wrong_namespace"] and res["diagnoses"][0]["params"]["found"] == "web"
    res = check(
        "rule",
        {
            "ns": "web",
            "table": "nat",
            "chain": "POSTROUTING",
            "rule": "-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
        },
        snap,
    )
    assert code(res) == "rule.missing" and diag_codes(res) == ["wrong_namespace"]


def test_port_in_use(snap):
    res = check("listening", {"port": 8080, "process": "nginx"}, snap)
    assert not res["ok"] and code(res) == "listening.wrong_process"
    assert diag_codes(res) == ["port_in_use"]
    assert "docker-proxy" in res["diagnoses"][0]["params"]["process"]


def test_traffic_that_works_gets_no_diagnosis(snap):
    assert diagnose_traffic(snap, "client", "203.0.113.2", "tcp", 8080) == []
    assert diagnose_traffic(snap, "web", "198.51.100.80", "tcp", 80) == []
    assert diagnose_traffic(snap, "host", "198.51.100.80", "icmp", None) == []


def test_ip_forward_off(snap):
    snap["sysctls"]["host"]["ip_forward"] = 0
    assert [d["code"] for d in diagnose_traffic(snap, "client", "203.0.113.2", "tcp", 8080)] == [
        "ip_forward_off"
    ]
    assert [d["code"] for d in diagnose_traffic(snap, "web", "198.51.100.80", "icmp", None)] == [
        "ip_forward_off"
    ]
    # the host's own traffic is not forwarded
    assert diagnose_traffic(snap, "host", "198.51.100.80", "tcp", 80) == []


def test_forward_drop_no_accept(snap):
    text = FILTER_NAT.replace("[0:0] -A FORWARD -i docker0 ! -o docker0 -j ACCEPT\n", "")
    snap["netfilter"]["host"] = _nf(text)
    diags = diagnose_traffic(snap, "web", "198.51.100.80", "tcp", 80)
    assert [d["code"] for d in diags] == ["forward_drop_no_accept"]
    assert diags[0]["params"] == {"src": "172.17.0.2", "dst": "198.51.100.80"}
    # the published port still has its DOCKER accept rule
    assert diagnose_traffic(snap, "client", "203.0.113.2", "tcp", 8080) == []


def test_rule_after_drop_diagnosis_for_traffic(snap):
    text = FILTER_NAT.replace(
        "[0:0] -A FORWARD -j DOCKER-USER\n", "[0:0] -A FORWARD -j DROP\n[0:0] -A FORWARD -j DOCKER-USER\n"
    )
    snap["netfilter"]["host"] = _nf(text)
    diags = diagnose_traffic(snap, "web", "198.51.100.80", "tcp", 80)
    assert [d["code"] for d in diags] == ["rule_after_drop"]
    assert diags[0]["params"]["number"] == "1" and diags[0]["params"]["after"] == "5"


def test_no_route_back(snap):
    text = FILTER_NAT.replace("[5:300] -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\n", "")
    unmasqueraded = copy.deepcopy(snap)
    unmasqueraded["netfilter"]["host"] = _nf(text)
    diags = diagnose_traffic(unmasqueraded, "web", "198.51.100.80", "tcp", 80)
    assert [d["code"] for d in diags] == ["no_route_back"]
    assert diags[0]["params"] == {"ns": "router", "address": "172.17.0.2"}
    snap["routes"]["remote"] = [r for r in snap["routes"]["remote"] if r["dst"] != "default"]
    diags = diagnose_traffic(snap, "client", "198.51.100.80", "icmp", None)
    assert diags == [{"code": "no_route_back", "params": {"ns": "remote", "address": "192.0.2.50"}}]


def test_every_diagnosis_code_has_a_message():
    for c in (
        "ip_forward_off",
        "forward_drop_no_accept",
        "rule_after_drop",
        "no_route_back",
        "port_in_use",
        "wrong_namespace",
    ):
        assert c in MESSAGES


def test_helpers_exported():
    assert checks.find_container(make_snapshot(), "abc") is not None
