# ruff: noqa: E501  (literal tool output)
"""The snapshot's parsers on literal tool output (no kernel needed)."""

from __future__ import annotations

import json

from tests.topology.test_iptables_save import IPTABLES_SAVE
from topology import snapshot as S
from topology.snapshot.collect import _targets

# `ip -d -j addr` in a Docker host: a cross-namespace veth (eth0), a bridge, a bridge port whose peer
# is in another namespace, and a veth pair inside the namespace (named by "link").
HOST_ADDR = json.dumps(
    [
        {"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536,
         "operstate": "UNKNOWN", "link_type": "loopback", "address": "00:00:00:00:00:00",
         "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host", "label": "lo"},
                       {"family": "inet6", "local": "::1", "prefixlen": 128, "scope": "host"}]},
        {"ifindex": 2, "link_index": 2, "ifname": "eth0", "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
         "mtu": 1500, "operstate": "UP", "link_type": "ether", "address": "46:20:94:84:94:1c", "link_netnsid": 0,
         "linkinfo": {"info_kind": "veth"},
         "addr_info": [{"family": "inet", "local": "203.0.113.2", "prefixlen": 24, "broadcast": "203.0.113.255",
                        "scope": "global", "label": "eth0"}]},
        {"ifindex": 3, "ifname": "docker0", "flags": ["BROADCAST", "MULTICAST", "UP"], "mtu": 1500,
         "operstate": "DOWN", "link_type": "ether", "address": "02:42:ac:11:00:01",
         "linkinfo": {"info_kind": "bridge", "info_data": {"stp_state": 0}},
         "addr_info": [{"family": "inet", "local": "172.17.0.1", "prefixlen": 16, "broadcast": "172.17.255.255",
                        "scope": "global", "label": "docker0"}]},
        {"ifindex": 4, "link_index": 2, "ifname": "veth1a2b3c4", "flags": ["BROADCAST", "MULTICAST", "UP"],
         "mtu": 1500, "master": "docker0", "operstate": "LOWERLAYERDOWN", "link_type": "ether",
         "address": "76:b2:09:49:ef:42", "link_netnsid": 1,
         "linkinfo": {"info_kind": "veth", "info_slave_kind": "bridge", "info_slave_data": {"state": "forwarding"}},
         "addr_info": []},
        {"ifindex": 5, "link": "vb", "ifname": "va", "flags": ["BROADCAST", "MULTICAST", "M-DOWN"], "mtu": 1500,
         "operstate": "DOWN", "link_type": "ether", "address": "c6:e9:51:b1:76:25",
         "linkinfo": {"info_kind": "veth"}, "addr_info": []},
        {"ifindex": 6, "link": "va", "ifname": "vb", "flags": ["BROADCAST", "MULTICAST", "M-DOWN"], "mtu": 1500,
         "operstate": "DOWN", "link_type": "ether", "address": "c6:e9:51:b1:76:26",
         "linkinfo": {"info_kind": "veth"}, "addr_info": []},
    ]
)  # fmt: skip


def test_links_kinds_master_and_states():
    links = {link.name: link for link in S.parse_links(HOST_ADDR)}
    assert links["lo"].kind == "loopback"
    assert links["lo"].operstate == "UNKNOWN" and links["lo"].state == "UP"
    assert links["docker0"].kind == "bridge" and links["docker0"].master is None
    assert links["docker0"].state == "UP" and links["docker0"].operstate == "DOWN"
    port = links["veth1a2b3c4"]
    assert (port.kind, port.master, port.port_state) == ("veth", "docker0", "forwarding")
    assert (port.peer_ifindex, port.link_netnsid, port.peer_namespace) == (2, 1, None)
    assert port.mac == "76:b2:09:49:ef:42" and port.mtu == 1500
    assert port.flags == ("BROADCAST", "MULTICAST", "UP")
    # A pair inside one namespace: ip names the peer.
    assert (links["va"].peer_ifindex, links["va"].peer_name) == (6, "vb")
    assert links["va"].state == "DOWN"


def test_addresses():
    addrs = S.parse_addresses(HOST_ADDR)
    assert [(a.ifname, a.family, a.address, a.prefixlen) for a in addrs] == [
        ("lo", "inet", "127.0.0.1", 8),
        ("lo", "inet6", "::1", 128),
        ("eth0", "inet", "203.0.113.2", 24),
        ("docker0", "inet", "172.17.0.1", 16),
    ]
    assert addrs[3].broadcast == "172.17.255.255" and addrs[3].scope == "global"


def _veth(name: str, ifindex: int, peer: int, nsid: int) -> dict:
    return {"ifindex": ifindex, "link_index": peer, "ifname": name, "flags": ["UP"], "mtu": 1500,
            "operstate": "UP", "link_type": "ether", "address": "02:00:00:00:00:01", "link_netnsid": nsid,
            "linkinfo": {"info_kind": "veth"}}  # fmt: skip


def _collision_links() -> dict[str, list[S.Link]]:
    """Two pairs with the same ifindexes: router eth2 (4) <-> client eth0 (2), host vethX (4) <-> c1
    eth0 (2); plus router eth0 (2) <-> host eth0 (2), router eth1 (3) <-> remote eth0 (2)."""
    return {
        "router": S.parse_links([_veth("eth0", 2, 2, 0), _veth("eth1", 3, 2, 1), _veth("eth2", 4, 2, 2)]),
        "host": S.parse_links([_veth("eth0", 2, 2, 0), _veth("vethX", 4, 2, 1)]),
        "remote": S.parse_links([_veth("eth0", 2, 3, 0)]),
        "client": S.parse_links([_veth("eth0", 2, 4, 0)]),
        "c1": S.parse_links([_veth("eth0", 2, 4, 0)]),
    }


def _peers(resolved: dict[str, list[S.Link]]) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    return {
        (ns, link.name): (link.peer_namespace, link.peer_name) for ns, ls in resolved.items() for link in ls
    }


def test_veth_peers_with_equal_ifindexes_in_several_namespaces():
    names = {"router": {0: "host", 1: "remote", 2: "client"}, "remote": {0: ""}, "client": {0: ""}}
    peers = _peers(S.resolve_veth_peers(_collision_links(), names))
    assert peers[("router", "eth0")] == ("host", "eth0")
    assert peers[("router", "eth1")] == ("remote", "eth0")
    assert peers[("router", "eth2")] == ("client", "eth0")
    assert peers[("client", "eth0")] == ("router", "eth2")
    assert peers[("host", "eth0")] == ("router", "eth0")
    assert peers[("host", "vethX")] == ("c1", "eth0")
    assert peers[("c1", "eth0")] == ("host", "vethX")
    assert peers[("remote", "eth0")] == ("router", "eth1")


def test_veth_peers_stay_unknown_when_the_kernel_data_cannot_tell():
    # Without the nsid names, router eth2/host vethX <-> client/c1 eth0 are symmetric: no guess.
    peers = _peers(S.resolve_veth_peers(_collision_links()))
    assert peers[("router", "eth0")] == ("host", "eth0")  # unique by ifindex pairs
    assert peers[("remote", "eth0")] == ("router", "eth1")
    assert peers[("router", "eth2")] == (None, None)
    assert peers[("c1", "eth0")] == (None, None)


def test_veth_peers_one_nsid_is_one_namespace():
    # a: eth0 (2) <-> b eth0 (2) is unique; a's eth1 (3, same nsid 0) <-> 3 in b or c: must be b.
    links = {
        "a": S.parse_links([_veth("eth0", 2, 2, 0), _veth("eth1", 3, 3, 0)]),
        "b": S.parse_links([_veth("eth0", 2, 2, 5), _veth("eth1", 3, 3, 5)]),
        "c": S.parse_links([_veth("eth9", 3, 3, 7)]),
        "d": S.parse_links([_veth("eth8", 3, 3, 1)]),
    }
    peers = _peers(S.resolve_veth_peers(links))
    assert peers[("a", "eth1")] == ("b", "eth1")
    assert peers[("c", "eth9")] == ("d", "eth8")


def test_same_namespace_veth_pair():
    peers = _peers(S.resolve_veth_peers({"host": S.parse_links(HOST_ADDR)}))
    assert peers[("host", "va")] == ("host", "vb")
    assert peers[("host", "veth1a2b3c4")] == (None, None)


# `ip -d -j route show table all`
ROUTES = json.dumps(
    [
        {"type": "unicast", "dst": "default", "gateway": "203.0.113.1", "dev": "eth0", "table": "main",
         "protocol": "boot", "scope": "global", "flags": []},
        {"type": "unreachable", "dst": "10.1.0.0/16", "table": "main", "protocol": "boot", "scope": "global",
         "flags": []},
        {"type": "prohibit", "dst": "10.2.0.0/16", "table": "main", "protocol": "boot", "scope": "global",
         "flags": []},
        {"type": "blackhole", "dst": "10.3.0.0/16", "table": "main", "protocol": "boot", "scope": "global",
         "flags": []},
        {"type": "unicast", "dst": "10.4.0.5", "gateway": "203.0.113.1", "dev": "eth0", "table": "main",
         "protocol": "boot", "scope": "global", "flags": []},
        {"type": "unicast", "dst": "10.5.0.0/16", "gateway": "203.0.113.1", "dev": "eth0", "table": "main",
         "protocol": "redirect", "scope": "global", "flags": []},
        {"type": "unreachable", "dst": "10.9.9.9", "table": "main", "protocol": "boot", "scope": "global",
         "flags": []},
        {"type": "unicast", "dst": "10.12.0.0/16", "table": "main", "protocol": "boot", "scope": "global",
         "flags": [], "nexthops": [{"gateway": "203.0.113.1", "dev": "eth0", "weight": 1, "flags": []}]},
        {"type": "unicast", "dst": "172.17.0.0/16", "dev": "docker0", "table": "main", "protocol": "kernel",
         "scope": "link", "prefsrc": "172.17.0.1", "metric": 5, "flags": ["linkdown"]},
        {"type": "local", "dst": "172.17.0.1", "dev": "docker0", "table": "local", "protocol": "kernel",
         "scope": "host", "prefsrc": "172.17.0.1", "flags": []},
        {"type": "broadcast", "dst": "172.17.255.255", "dev": "docker0", "table": "local", "protocol": "kernel",
         "scope": "link", "prefsrc": "172.17.0.1", "flags": []},
        {"type": "unicast", "dst": "fe80::/64", "dev": "eth0", "table": "main", "protocol": "kernel",
         "scope": "global", "metric": 256, "flags": [], "pref": "medium"},
        {"type": "unicast", "dst": "default", "gateway": "fe80::1", "dev": "eth0", "table": "main",
         "protocol": "ra", "scope": "global", "metric": 1024, "flags": [], "pref": "medium"},
    ]
)  # fmt: skip


def test_route_flags():
    routes = {(r.table, r.dst, r.family): r for r in S.parse_routes(ROUTES)}
    flags = {dst: r.flags for (_t, dst, _f), r in routes.items() if _f == "inet"}
    assert flags["default"] == "UG"
    assert flags["172.17.0.0/16"] == "U"
    assert flags["10.4.0.5"] == "UGH"  # a host route through a gateway
    assert flags["172.17.0.1"] == "UH"  # local table, host route
    assert flags["10.1.0.0/16"] == "!"  # unreachable
    assert flags["10.2.0.0/16"] == "!"  # prohibit
    assert flags["10.9.9.9"] == "!H"  # what route -n prints for a reject host route
    # The kernel's /proc/net/route (what route -n reads) marks blackhole routes "U" and never sets
    # D/M on IPv4 routes, even with `proto redirect`.
    assert flags["10.3.0.0/16"] == "U"
    assert flags["10.5.0.0/16"] == "UG"
    assert flags["10.12.0.0/16"] == "UG"  # multipath: its first next hop
    assert routes[("main", "default", "inet6")].flags == "UG"
    assert S.route_flags({"dst": "10.0.0.0/8", "gateway": "10.0.0.1"}) == "UG"
    assert S.route_flags({"type": "unreachable", "dst": "default"}) == "!"
    assert S.route_flags(routes[("main", "10.9.9.9", "inet")]) == "!H"


def test_route_columns_and_ip_fields():
    routes = {(r.table, r.dst, r.family): r for r in S.parse_routes(ROUTES)}
    default = routes[("main", "default", "inet")]
    assert (default.destination, default.gateway, default.genmask, default.iface) == (
        "0.0.0.0", "203.0.113.1", "0.0.0.0", "eth0",
    )  # fmt: skip
    assert (default.metric, default.ref, default.use) == (0, 0, 0)
    assert (default.table, default.protocol, default.scope, default.type) == (
        "main",
        "boot",
        "global",
        "unicast",
    )
    bridge = routes[("main", "172.17.0.0/16", "inet")]
    assert (bridge.genmask, bridge.gateway, bridge.metric, bridge.prefsrc) == (
        "255.255.0.0",
        "0.0.0.0",
        5,
        "172.17.0.1",
    )
    assert bridge.route_flags == ("linkdown",)
    reject = routes[("main", "10.1.0.0/16", "inet")]
    assert (reject.gateway, reject.iface, reject.dev) == ("-", "-", None)
    assert routes[("main", "10.3.0.0/16", "inet")].iface == "*"
    assert routes[("main", "10.12.0.0/16", "inet")].via == "203.0.113.1"
    v6 = routes[("main", "fe80::/64", "inet6")]
    assert (v6.destination, v6.prefixlen, v6.metric) == ("fe80::", 64, 256)


def test_format_route_n():
    assert S.format_route_n(S.parse_routes(ROUTES)) == (
        "Kernel IP routing table\n"
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
        "0.0.0.0         203.0.113.1     0.0.0.0         UG    0      0        0 eth0\n"
        "10.1.0.0        -               255.255.0.0     !     0      -        0 -\n"
        "10.2.0.0        -               255.255.0.0     !     0      -        0 -\n"
        "10.3.0.0        0.0.0.0         255.255.0.0     U     0      0        0 *\n"
        "10.4.0.5        203.0.113.1     255.255.255.255 UGH   0      0        0 eth0\n"
        "10.5.0.0        203.0.113.1     255.255.0.0     UG    0      0        0 eth0\n"
        "10.9.9.9        -               255.255.255.255 !H    0      -        0 -\n"
        "10.12.0.0       203.0.113.1     255.255.0.0     UG    0      0        0 eth0\n"
        "172.17.0.0      0.0.0.0         255.255.0.0     U     5      0        0 docker0\n"
    )


NFT = """\
# Warning: table ip nat is managed by iptables-nft, do not touch!
table ip nat {
\tchain DOCKER {
\t\tiifname != "docker0" tcp dport 32768 counter packets 0 bytes 0 dnat to 172.17.0.2:80
\t}
}
table inet mine {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t}
}
table ip filter {
\tchain OUTPUT {
\t\ttype filter hook output priority filter; policy accept;
\t}
}
"""


def test_nft_keeps_only_tables_not_made_by_iptables():
    other, tables = S.parse_nft(NFT, iptables_tables=["filter"])
    assert [(t.family, t.name, t.iptables) for t in tables] == [
        ("ip", "nat", True),
        ("inet", "mine", False),
        ("ip", "filter", True),
    ]
    assert other.startswith("table inet mine {\n") and "table ip" not in other
    assert other.rstrip().endswith("}")


CONNTRACK = """\
tcp      6 431999 ESTABLISHED src=203.0.113.1 dst=203.0.113.2 sport=51234 dport=32768 \
src=172.17.0.2 dst=203.0.113.1 sport=80 dport=51234 [ASSURED] mark=0 use=1
ipv4     2 tcp      6 119 TIME_WAIT src=172.17.0.2 dst=198.51.100.80 sport=40068 dport=80 \
src=198.51.100.80 dst=203.0.113.2 sport=80 dport=40068 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=172.17.0.2 dst=198.51.100.53 sport=5353 dport=53 [UNREPLIED] \
src=198.51.100.53 dst=203.0.113.2 sport=53 dport=61000 mark=7 use=1 id=277548368
ipv4     2 tcp      6 117 TIME_WAIT src=203.0.113.2 dst=198.51.100.80 sport=45594 dport=80 \
src=198.51.100.80 dst=203.0.113.2 sport=80 dport=45594 [ASSURED] mark=0 use=1
icmp     1 29 src=203.0.113.2 dst=203.0.113.1 type=8 code=0 id=12 src=203.0.113.1 dst=203.0.113.2 type=0 code=0 \
id=12 mark=0 use=1
ipv4     2 tcp      6 10 SYN_SENT src=192.0.2.50 dst=203.0.113.2 sport=40000 dport=8080 \
src=172.17.0.3 dst=172.17.0.1 sport=80 dport=40000 mark=0 use=1
ipv6     10 icmpv6   58 28 src=::1 dst=fd00::1 type=128 code=0 id=3 [UNREPLIED] src=fd00::1 dst=::1 type=129 code=0 \
id=3 mark=0 use=2
conntrack v1.4.7 (conntrack-tools): 7 flow entries have been shown.
"""


def test_conntrack_entries_and_nat():
    entries = S.parse_conntrack(CONNTRACK)
    assert len(entries) == 7
    dnat = entries[0]
    assert (dnat.family, dnat.proto, dnat.proto_num, dnat.timeout, dnat.state) == (
        "ipv4", "tcp", 6, 431999, "ESTABLISHED",
    )  # fmt: skip
    assert (dnat.orig_src, dnat.orig_dst, dnat.orig_sport, dnat.orig_dport) == (
        "203.0.113.1", "203.0.113.2", 51234, 32768,
    )  # fmt: skip
    assert (dnat.reply_src, dnat.reply_dst, dnat.reply_sport, dnat.reply_dport) == (
        "172.17.0.2", "203.0.113.1", 80, 51234,
    )  # fmt: skip
    assert dnat.nat == "dnat" and dnat.flags == ("ASSURED",) and dnat.mark == 0 and dnat.use == 1
    masq = entries[1]
    assert masq.nat == "snat" and masq.zone == 0 and masq.use == 2
    udp = entries[2]
    assert (udp.proto, udp.state, udp.flags, udp.mark) == ("udp", None, ("UNREPLIED",), 7)
    assert udp.nat == "snat"  # masqueraded to another port
    assert entries[3].nat is None
    icmp = entries[4]
    assert (icmp.proto, icmp.orig_sport, icmp.reply_src, icmp.nat) == ("icmp", None, "203.0.113.1", None)
    assert entries[5].nat == "both"
    v6 = entries[6]
    assert (v6.family, v6.proto, v6.orig_dst, v6.reply_dst, v6.nat) == (
        "ipv6",
        "icmpv6",
        "fd00::1",
        "::1",
        None,
    )


def test_conntrack_nat_function():
    assert S.conntrack_nat(("1.1.1.1", "2.2.2.2", 1, 80), ("3.3.3.3", "1.1.1.1", 8080, 1)) == "dnat"
    assert S.conntrack_nat(("1.1.1.1", "2.2.2.2", 1, 80), ("2.2.2.2", "1.1.1.1", 80, 1)) is None


SS = """\
tcp   LISTEN 0      4096         0.0.0.0:8080       0.0.0.0:*    users:(("docker-proxy",pid=11,fd=4))
tcp   LISTEN 0      511             [::]:80            [::]:*    users:(("nginx",pid=7,fd=6),("nginx",pid=8,fd=6))
udp   UNCONN 0      0      127.0.0.53%lo:53         0.0.0.0:*
tcp   LISTEN 0      1                  *:5555             *:*    users:(("busybox",pid=21,fd=3))
"""


def test_sockets():
    socks = S.parse_sockets(SS)
    assert [(s.proto, s.state, s.address, s.port) for s in socks] == [
        ("tcp", "LISTEN", "0.0.0.0", 8080),
        ("tcp", "LISTEN", "::", 80),
        ("udp", "UNCONN", "127.0.0.53", 53),
        ("tcp", "LISTEN", "*", 5555),
    ]
    assert socks[0].processes == (S.SocketUser("docker-proxy", 11, 4),)
    assert [p.pid for p in socks[1].processes] == [7, 8]
    assert socks[2].interface == "lo" and socks[2].processes == ()
    assert socks[1].recv_q == 0 and socks[1].send_q == 511


def test_processes_without_the_snapshot_itself():
    marker = S.MARK_PREFIX + "abcd@@"
    text = f"""\
      1       0 4026532255 /usr/local/sbin/init
      7       1 4026532469 sleep 60
     30       0 4026532255 sh -c M={marker} ... {marker}
     31      30 4026532255 ps -e -o pid=,ppid=,netns=,args=
     32      31 4026532255 child of ps
     40       0 4026532469 [sh] <defunct>
     41       1 4026532255 [zombie] <defunct>
      9       1 - kthread
"""
    procs = S.parse_processes(text)
    assert [(p.pid, p.ppid, p.netns) for p in procs] == [(1, 0, 4026532255), (7, 1, 4026532469),
                                                          (41, 1, 4026532255), (9, 1, None)]  # fmt: skip
    assert procs[1].command == "sleep 60"
    assert [p.pid for p in S.parse_processes(text, netns=4026532469)] == [7]


def test_sysctls():
    text = """\
/proc/sys/net/ipv4/ip_forward:1
/proc/sys/net/ipv4/ip_local_port_range:32768\t60999
/proc/sys/net/bridge/bridge-nf-call-iptables:1
/proc/sys/net/netfilter/nf_conntrack_count:3
/proc/sys/net/ipv4/conf/all/rp_filter:2
/proc/sys/net/ipv4/conf/docker0/rp_filter:0
/proc/sys/net/ipv4/conf/eth0/route_localnet:1
/proc/sys/net/ipv6/conf/all/accept_ra:1
/proc/sys/net/ipv6/conf/all/disable_ipv6:1
/proc/sys/net/ipv6/conf/veth0/disable_ipv6:0
"""
    s = S.parse_sysctls(text)
    assert s.ip_forward == 1 and s.ip_local_port_range == (32768, 60999)
    assert s.bridge_nf_call_iptables == 1 and s.bridge_nf_call_ip6tables is None
    assert s.rp_filter == {"all": 2, "docker0": 0}
    assert s.route_localnet == {"eth0": 1}
    assert s.accept_ra == {"all": 1}
    assert s.disable_ipv6 == {"all": 1, "veth0": 0}
    assert s.conntrack_count == 3


def test_fdb_and_neighbours():
    fdb = S.parse_fdb(
        '[{"mac":"33:33:00:00:00:01","ifname":"docker0","flags":["self"],"state":"permanent"},'
        '{"mac":"02:42:ac:11:00:02","ifname":"veth1","master":"docker0","state":""},'
        '{"mac":"76:b2:09:49:ef:42","ifname":"veth1","vlan":1,"master":"docker0","state":"permanent"}]'
    )
    assert [(e.mac, e.ifname, e.master, e.vlan, e.permanent, e.is_self) for e in fdb] == [
        ("33:33:00:00:00:01", "docker0", None, None, True, True),
        ("02:42:ac:11:00:02", "veth1", "docker0", None, False, False),
        ("76:b2:09:49:ef:42", "veth1", "docker0", 1, True, False),
    ]
    neigh = S.parse_neighbours(
        '[{"dst":"203.0.113.1","dev":"eth0","lladdr":"7a:55:a3:e7:9d:27","state":["REACHABLE"]},'
        '{"dst":"172.17.0.9","dev":"docker0","state":["FAILED"]},'
        '{"dst":"fe80::1","dev":"eth0","lladdr":"7a:55:a3:e7:9d:27","router":null,"state":["STALE"]}]'
    )
    assert [(n.ip, n.mac, n.ifname, n.state, n.family) for n in neigh] == [
        ("203.0.113.1", "7a:55:a3:e7:9d:27", "eth0", "REACHABLE", "inet"),
        ("172.17.0.9", None, "docker0", "FAILED", "inet"),
        ("fe80::1", "7a:55:a3:e7:9d:27", "eth0", "STALE", "inet6"),
    ]


def test_collection_output_round_trip():
    marker = S.MARK_PREFIX + "0000@@"
    text = "\n".join(
        [
            f"{marker} ip",
            HOST_ADDR,
            ROUTES,
            "[]",
            '[{"nsid":0,"name":"host"},{"nsid":1}]',
            f"{marker} sysctl",
            "/proc/sys/net/ipv4/ip_forward:1",
            f"{marker} iptables",
            IPTABLES_SAVE,
            f"{marker} nft",
            NFT,
            f"{marker} conntrack",
            CONNTRACK,
            f"{marker} sockets",
            SS,
            f"{marker} self 30",
            f"{marker} processes",
            f"     30       0 4026532255 sh -c {marker}",
            "      1       0 4026532255 init",
            f"{marker} end",
        ]
    )
    parsed = S.parse_collection(text, marker)
    assert parsed.complete and parsed.netns_inode == 4026532255
    assert parsed.nsids == {0: "host", 1: ""}
    assert len(parsed.links) == 6 and len(parsed.routes) == 13 and parsed.neighbours == []
    assert parsed.sysctls.ip_forward == 1
    assert parsed.netfilter.tables["nat"]["DOCKER"].rules[0].target == "DNAT"
    assert [t.name for t in parsed.netfilter.nft_tables if not t.iptables] == ["mine"]
    assert len(parsed.conntrack) == 7 and len(parsed.sockets) == 4
    assert [p.pid for p in parsed.processes] == [1]
    snap = S.Snapshot(
        sandbox="x",
        taken_at="2026-01-01T00:00:00.000Z",
        duration_ms=1.0,
        namespaces=(S.Namespace("host", "host", parsed.netns_inode, ("web",)),),
        links={"host": tuple(parsed.links)},
        addresses={"host": tuple(parsed.addresses)},
        routes={"host": tuple(parsed.routes)},
        neighbours={"host": ()},
        fdb={"host": ()},
        sysctls={"host": parsed.sysctls},
        netfilter={"host": parsed.netfilter},
        conntrack={"host": tuple(parsed.conntrack)},
        sockets={"host": tuple(parsed.sockets)},
        processes={"host": tuple(parsed.processes)},
    )
    data = json.loads(json.dumps(snap.to_dict()))
    assert "docker" not in data
    assert data["namespaces"] == [
        {"name": "host", "kind": "host", "netns_inode": 4026532255, "containers": ["web"]}
    ]
    rule = data["netfilter"]["host"]["tables"]["nat"]["DOCKER"]["rules"][0]
    assert rule["target_options"] == [
        {"module": "DNAT", "option": "--to-destination", "negated": False, "value": "172.17.0.2:80"}
    ]
    assert data["conntrack"]["host"][0]["nat"] == "dnat"
    assert data["routes"]["host"][0]["flags"] == "UG"


def test_incomplete_output_is_flagged():
    marker = S.MARK_PREFIX + "0000@@"
    parsed = S.parse_collection(f"{marker} ip\n[]\n", marker)
    assert not parsed.complete and parsed.links == [] and parsed.sysctls.ip_forward is None


class _FakeSandbox:
    id = "fake"
    host_pid = keeper_pid = 999_999_999  # no such process: inodes are unknown (0)

    def nsenter_argv(self, ns: str, *, student: bool = False, pid: int = 0) -> list[str]:
        return ["enter", ns, str(pid)]


class _FakeEngine:
    def __init__(self, modes: dict[str, str]):
        from topology.docker.model import Container

        self.containers = {}
        for name, mode in modes.items():
            cid = name * 8
            if mode.startswith("container:"):
                mode = "container:" + mode.split(":", 1)[1] * 8
            self.containers[cid] = Container(id=cid, name=name, image="busybox", cmd=[], created="",
                                             network_mode=mode, hostname=name, status="running")  # fmt: skip
        self.containers["stopped1"] = Container(id="stopped1", name="stopped", image="busybox", cmd=[],
                                                created="", network_mode="default", hostname="s")  # fmt: skip
        self.networks = {}

    def host_pid(self, c) -> int:
        if c.status != "running":
            raise KeyError(c.id)
        return 999_999_998


def test_containers_sharing_a_namespace_are_collected_once():
    # Joiners first, to check that the order of the engine's dict does not matter.
    engine = _FakeEngine({"side": "container:web", "web": "default", "hostnet": "host", "router": "none"})
    targets, containers, _networks = _targets(_FakeSandbox(), engine)
    assert [(t.name, t.kind, t.containers) for t in targets] == [
        ("host", "host", ["hostnet"]),
        ("router", "outside", []),
        ("remote", "outside", []),
        ("client", "outside", []),
        ("web", "container", ["web", "side"]),
        ("container:router", "container", ["router"]),  # a container named like a sandbox namespace
    ]
    assert {c["name"]: c["namespace"] for c in containers} == {
        "side": "web", "web": "web", "hostnet": "host", "router": "container:router", "stopped": None,
    }  # fmt: skip
