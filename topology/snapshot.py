"""A sandbox's kernel state as typed, JSON-serialisable data, read from the kernel.

Nothing here is taken from a model of what should be there: every value comes from a tool that asks
the kernel (`ip`, `bridge`, `iptables-save`, `nft`, `ss`, `ps`) or from a kernel file (/proc/sys,
/proc/net/nf_conntrack), run inside the namespace it describes.

Collection runs ONE shell script per network namespace (see `collection_script`); the scripts of all
namespaces run concurrently and print their sections between marker lines. Parsing is done by pure
functions (`parse_links`, `parse_routes`, `route_flags`, `parse_iptables_save`, `parse_conntrack`, ...)
that take the tools' text, so they can be tested on literal inputs.

Namespaces: "host" (the student's Docker host; commands run as the student's shell would, so pids are
the student's), the outside world "router", "remote", "client", and one per container network
namespace, named after its container (containers that share a network namespace through
`--network host` or `--network container:<id>` are listed on the namespace they share, never collected
twice).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any

from topology.fdwait import readable

__all__ = [
    "Address",
    "Chain",
    "ConntrackEntry",
    "FdbEntry",
    "Link",
    "Match",
    "Namespace",
    "Neighbour",
    "Netfilter",
    "NftTable",
    "Process",
    "Route",
    "Rule",
    "Snapshot",
    "Socket",
    "SocketUser",
    "Sysctls",
    "collection_script",
    "conntrack_nat",
    "format_route_n",
    "parse_addresses",
    "parse_collection",
    "parse_conntrack",
    "parse_fdb",
    "parse_ip_batch",
    "parse_iptables_rule",
    "parse_iptables_save",
    "parse_links",
    "parse_neighbours",
    "parse_nft",
    "parse_processes",
    "parse_routes",
    "parse_sockets",
    "parse_sysctls",
    "resolve_veth_peers",
    "route_flags",
    "snapshot",
    "split_sections",
    "take",
]

OUTSIDE = ("router", "remote", "client")
# Namespaces bind-mounted in the keeper's /run/netns: `ip netns list-id` run in the keeper's mount
# namespace (router, remote, client scripts) names them, which pins down veth peers exactly.
KEEPER_NAMED = frozenset({"host", "remote", "client"})
MARK_PREFIX = "@@nslab-snapshot-"
# Change kinds after which an incremental snapshot leaves netfilter, conntrack, sockets and processes
# as last collected: no netlink change of these kinds touches them.
LEAN_KINDS = frozenset({"link", "address", "route", "neighbour"})
DEFAULT_TIMEOUT = 10.0


def _plain(obj: Any) -> Any:
    """JSON data (dicts, lists, str, int, float, bool, None) from dataclasses, tuples and dicts."""
    if isinstance(obj, (str, int, float)) or obj is None:
        return obj
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj)}
    return obj


class _Data:
    """Mixin: `to_dict()` for the snapshot's dataclasses: plain JSON data (tuples become lists)."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


# -- the data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Namespace(_Data):
    """A network namespace of the sandbox."""

    name: str  # host | router | remote | client | a container's name
    kind: str  # host | outside | container
    netns_inode: int  # the inode of its /proc/<pid>/ns/net (0 if it could not be read)
    containers: tuple[str, ...] = ()  # names of the containers using this network namespace


@dataclass(frozen=True)
class Link(_Data):
    """A network interface (`ip -d link`)."""

    name: str
    ifindex: int
    kind: str  # veth | bridge | loopback | ether | dummy | ... (linkinfo kind, else link type)
    master: str | None
    mac: str
    state: str  # administrative state: UP when the UP flag is set, else DOWN
    operstate: str  # the kernel's operational state: UP | DOWN | UNKNOWN | LOWERLAYERDOWN | ...
    mtu: int
    flags: tuple[str, ...]
    peer_ifindex: int | None = None  # veth: the peer's ifindex (in the peer's namespace)
    peer_namespace: str | None = None  # veth: the peer's namespace, when it could be resolved
    peer_name: str | None = None
    link_netnsid: int | None = None  # veth: the peer namespace's nsid as this namespace numbers it
    port_state: str | None = None  # bridge port: forwarding | disabled | learning | ...


@dataclass(frozen=True)
class Address(_Data):
    ifname: str
    family: str  # inet | inet6
    address: str
    prefixlen: int
    broadcast: str | None
    scope: str
    label: str | None = None


@dataclass(frozen=True)
class Route(_Data):
    """A route: the `route -n` columns, then the `ip route` fields."""

    destination: str  # network address ("0.0.0.0" for default)
    gateway: str  # "0.0.0.0" when none; "-" for reject routes, as route -n prints them
    genmask: str
    flags: str  # as route -n prints them: U, G, H, ! (see route_flags)
    metric: int
    ref: int
    use: int
    iface: str  # the device; "*" when none; "-" for reject routes, as route -n prints them
    family: str  # inet | inet6
    dst: str  # as ip route prints it: "default", "10.0.0.0/8", "10.0.0.1"
    prefixlen: int
    via: str | None  # the next hop (first one for multipath routes)
    dev: str | None
    table: str  # main | local | <number>
    protocol: str  # kernel | boot | static | dhcp | redirect | ...
    scope: str  # global | link | host | ...
    type: str  # unicast | local | broadcast | unreachable | prohibit | blackhole | throw | ...
    prefsrc: str | None
    route_flags: tuple[str, ...] = ()  # ip's next-hop flags: linkdown, onlink, dead, ...


@dataclass(frozen=True)
class FdbEntry(_Data):
    """A bridge forwarding database entry (`bridge fdb`)."""

    mac: str
    ifname: str
    master: str | None
    vlan: int | None
    state: str  # permanent | static | "" (learned) | ...
    flags: tuple[str, ...]
    permanent: bool
    is_self: bool  # the "self" flag: an entry of the device's own table, not its master's


@dataclass(frozen=True)
class Neighbour(_Data):
    ip: str
    mac: str | None
    ifname: str
    state: str  # REACHABLE | STALE | FAILED | PERMANENT | ... (several joined by ",")
    family: str


@dataclass(frozen=True)
class Sysctls(_Data):
    ip_forward: int | None
    ip_local_port_range: tuple[int, int] | None
    bridge_nf_call_iptables: int | None  # None when br_netfilter is not loaded
    bridge_nf_call_ip6tables: int | None
    rp_filter: dict[str, int]  # per interface, with "all" and "default"
    route_localnet: dict[str, int]
    accept_ra: dict[str, int]  # IPv6
    disable_ipv6: dict[str, int]  # with "all" and "default"
    conntrack_count: int | None = None


@dataclass(frozen=True)
class Match(_Data):
    """One option of an iptables rule: `! -i docker0`, `-m conntrack --ctstate NEW`, `--to-destination x`."""

    module: str | None  # the -m module (or, for target options, the target); None for -s/-d/-i/-o/-p...
    option: str  # "-s", "--dport", ...; "" for a -m module given without options
    negated: bool
    value: str  # the value as given (several words joined by one space); "" for flags


@dataclass(frozen=True)
class Rule(_Data):
    chain: str
    number: int  # 1-based position in its chain
    packets: int
    bytes: int
    line: str  # the iptables-save line: "-A CHAIN ..."
    matches: tuple[Match, ...]
    target: str | None
    target_options: tuple[Match, ...]
    goto: bool = False  # -g instead of -j

    def match(self, option: str, module: str | None = None) -> Match | None:
        """The first match with this option (and module, when given)."""
        for m in self.matches:
            if m.option == option and (module is None or m.module == module):
                return m
        return None

    def target_option(self, option: str) -> str | None:
        for m in self.target_options:
            if m.option == option:
                return m.value
        return None


@dataclass(frozen=True)
class Chain(_Data):
    name: str
    policy: str | None  # None for user-defined chains
    packets: int  # the policy's counters
    bytes: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class NftTable(_Data):
    family: str
    name: str
    iptables: bool  # made by iptables-nft (its rules are in `tables`, or `tables6` for family ip6)


@dataclass(frozen=True)
class Netfilter(_Data):
    tables: dict[str, dict[str, Chain]]  # iptables-save: table -> chain -> Chain
    nft: str  # `nft list ruleset` text of the tables not made by iptables
    nft_tables: tuple[NftTable, ...]
    tables6: dict[str, dict[str, Chain]] = field(default_factory=dict)  # ip6tables-save, likewise


@dataclass(frozen=True)
class ConntrackEntry(_Data):
    family: str  # ipv4 | ipv6
    proto: str  # tcp | udp | icmp | ...
    proto_num: int
    timeout: int | None
    state: str | None  # TCP/SCTP/DCCP state; None for stateless protocols
    orig_src: str
    orig_dst: str
    orig_sport: int | None
    orig_dport: int | None
    reply_src: str
    reply_dst: str
    reply_sport: int | None
    reply_dport: int | None
    flags: tuple[str, ...]  # ASSURED, UNREPLIED, OFFLOAD, ...
    mark: int
    zone: int | None
    use: int | None
    nat: str | None  # "dnat" | "snat" | "both" | None, from comparing the two tuples


@dataclass(frozen=True)
class SocketUser(_Data):
    name: str
    pid: int
    fd: int


@dataclass(frozen=True)
class Socket(_Data):
    """A listening TCP or unconnected UDP socket (`ss -tulnp`)."""

    proto: str  # tcp | udp
    state: str  # LISTEN | UNCONN
    address: str  # "0.0.0.0", "::", "*", "127.0.0.1"
    port: int
    interface: str | None  # bound device ("127.0.0.53%lo")
    recv_q: int
    send_q: int
    processes: tuple[SocketUser, ...]


@dataclass(frozen=True)
class Process(_Data):
    pid: int  # as seen from the namespace's pid namespace (the student's for "host")
    ppid: int  # 0 when the parent is outside that pid namespace
    netns: int | None  # inode of its network namespace
    command: str


@dataclass(frozen=True)
class Snapshot(_Data):
    sandbox: str
    taken_at: str
    duration_ms: float
    namespaces: tuple[Namespace, ...]
    links: dict[str, tuple[Link, ...]]
    addresses: dict[str, tuple[Address, ...]]
    routes: dict[str, tuple[Route, ...]]
    neighbours: dict[str, tuple[Neighbour, ...]]
    fdb: dict[str, tuple[FdbEntry, ...]]
    sysctls: dict[str, Sysctls]
    netfilter: dict[str, Netfilter]
    conntrack: dict[str, tuple[ConntrackEntry, ...]]
    sockets: dict[str, tuple[Socket, ...]]
    processes: dict[str, tuple[Process, ...]]
    errors: dict[str, str] = field(default_factory=dict)
    docker: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = _plain(self)
        if d["docker"] is None:
            del d["docker"]
        return d


# -- parsing: ip, bridge ---------------------------------------------------------------------


def _json(data: str | list | None) -> list:
    if data is None:
        return []
    if isinstance(data, str):
        data = data.strip()
        return json.loads(data) if data else []
    return data


def parse_ip_batch(text: str) -> list[list]:
    """The JSON arrays that `ip -j -batch` prints one after the other."""
    decoder = json.JSONDecoder()
    out: list[list] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        try:
            value, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            nl = text.find("\n", i)  # an error message: skip the line
            i = n if nl < 0 else nl + 1
            continue
        out.append(value if isinstance(value, list) else [value])
    return out


def parse_links(data: str | list) -> list[Link]:
    """Links from `ip -j -d link` (or `ip -j -d addr`); veth peers are not resolved across namespaces."""
    entries = _json(data)
    by_name = {e.get("ifname"): e.get("ifindex") for e in entries}
    links = []
    for e in entries:
        info = e.get("linkinfo") or {}
        kind = info.get("info_kind") or e.get("link_type") or "unknown"
        flags = tuple(e.get("flags") or ())
        peer_ifindex = peer_name = None
        netnsid = e.get("link_netnsid")
        if kind == "veth":
            if "link_index" in e:
                peer_ifindex = e["link_index"]
            elif e.get("link") in by_name:  # the peer is in this namespace: ip names it
                peer_name = e["link"]
                peer_ifindex = by_name[peer_name]
            if netnsid is None and peer_ifindex is not None:
                peer_name = peer_name or next(
                    (x.get("ifname") for x in entries if x.get("ifindex") == peer_ifindex), None
                )
        links.append(
            Link(
                name=e.get("ifname", ""),
                ifindex=e.get("ifindex", 0),
                kind=kind,
                master=e.get("master"),
                mac=e.get("address", ""),
                state="UP" if "UP" in flags else "DOWN",
                operstate=e.get("operstate", "UNKNOWN"),
                mtu=e.get("mtu", 0),
                flags=flags,
                peer_ifindex=peer_ifindex,
                peer_name=peer_name,
                link_netnsid=netnsid,
                port_state=(info.get("info_slave_data") or {}).get("state"),
            )
        )
    return links


def parse_addresses(data: str | list) -> list[Address]:
    """Addresses from `ip -j addr`."""
    out = []
    for e in _json(data):
        for a in e.get("addr_info") or ():
            if "local" not in a:
                continue
            out.append(
                Address(
                    ifname=e.get("ifname", ""),
                    family=a.get("family", ""),
                    address=a["local"],
                    prefixlen=a.get("prefixlen", 0),
                    broadcast=a.get("broadcast"),
                    scope=a.get("scope", ""),
                    label=a.get("label"),
                )
            )
    return out


REJECT_TYPES = frozenset({"unreachable", "prohibit"})


def _route_family(r: Mapping) -> str:
    if "family" in r:
        return r["family"]
    if "pref" in r or ":" in str(r.get("dst", "")) or ":" in str(r.get("gateway", "")):
        return "inet6"
    return "inet"


def _route_prefix(r: Mapping, family: str) -> tuple[str, int]:
    """The destination's network address and prefix length."""
    bits = 128 if family == "inet6" else 32
    dst = str(r.get("dst", "default"))
    if dst == "default":
        return ("::" if family == "inet6" else "0.0.0.0"), 0
    if "/" in dst:
        addr, plen = dst.split("/", 1)
        return addr, int(plen)
    return dst, bits


def _first_hop(r: Mapping) -> tuple[str | None, str | None]:
    """(gateway, device) of a route; a multipath route's first next hop, as /proc/net/route shows it."""
    gw, dev = r.get("gateway"), r.get("dev")
    hops = r.get("nexthops") or ()
    if hops and not gw:
        gw = hops[0].get("gateway")
        dev = dev or hops[0].get("dev")
    return gw, dev


def route_flags(route: Mapping | Route) -> str:
    """The Flags column of `route -n` for a route (an `ip -j route` object or a Route).

    As the kernel computes them for /proc/net/route (fib_flag_trans) and net-tools prints them:
    "!" for reject routes (unreachable, prohibit) instead of "U", "U" for every other route, "G" when
    it has a gateway, "H" for a host route (/32, /128). The kernel marks blackhole and throw routes
    plain "U" (checked against `route -n`), and IPv4 routes never carry D/M there: redirects become
    next-hop exceptions, not routes, and a route added with `proto redirect` still shows "UG".
    """
    if isinstance(route, Route):
        rtype, gw, family, plen = route.type, route.via, route.family, route.prefixlen
    else:
        rtype = route.get("type", "unicast")
        family = _route_family(route)
        gw = _first_hop(route)[0]
        plen = _route_prefix(route, family)[1]
    flags = "!" if rtype in REJECT_TYPES else "U"
    if gw and rtype not in REJECT_TYPES:
        flags += "G"
    if plen == (128 if family == "inet6" else 32):
        flags += "H"
    return flags


def _netmask(family: str, plen: int) -> str:
    if family == "inet6":
        return str(ipaddress.IPv6Network(f"::/{plen}").netmask)
    return str(ipaddress.IPv4Network(f"0.0.0.0/{plen}").netmask)


def parse_routes(data: str | list) -> list[Route]:
    """Routes from `ip -j -d route show table all` (without -d, absent fields get ip's defaults)."""
    out = []
    for r in _json(data):
        family = _route_family(r)
        dest, plen = _route_prefix(r, family)
        gw, dev = _first_hop(r)
        rtype = r.get("type", "unicast")
        reject = rtype in REJECT_TYPES
        out.append(
            Route(
                destination=dest,
                gateway="-" if reject else (gw or ("::" if family == "inet6" else "0.0.0.0")),
                genmask=_netmask(family, plen),
                flags=route_flags(r),
                metric=int(r.get("metric", 0)),
                ref=0,
                use=0,
                iface="-" if reject else (dev or "*"),
                family=family,
                dst=str(r.get("dst", "default")),
                prefixlen=plen,
                via=gw,
                dev=dev,
                table=str(r.get("table", "main")),
                protocol=str(r.get("protocol", "boot")),
                scope=str(r.get("scope", "global")),
                type=rtype,
                prefsrc=r.get("prefsrc"),
                route_flags=tuple(r.get("flags") or ()),
            )
        )
    return out


def format_route_n(routes: Iterable[Route]) -> str:
    """`route -n`'s output for these routes: IPv4, main table, without broadcast/multicast routes."""
    lines = [
        "Kernel IP routing table",
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
    ]
    for r in routes:
        if r.family != "inet" or r.table != "main" or r.type in ("broadcast", "multicast"):
            continue
        ref = "-" if r.type in REJECT_TYPES else str(r.ref)
        lines.append(
            f"{r.destination:<15} {r.gateway:<15} {r.genmask:<15} {r.flags:<5} {r.metric:<6} {ref:<3} "
            f"{r.use:>6} {r.iface}"
        )
    return "\n".join(lines) + "\n"


def parse_neighbours(data: str | list) -> list[Neighbour]:
    """Neighbours from `ip -j neigh`."""
    out = []
    for n in _json(data):
        dst = n.get("dst", "")
        out.append(
            Neighbour(
                ip=dst,
                mac=n.get("lladdr"),
                ifname=n.get("dev", ""),
                state=",".join(n.get("state") or ()),
                family="inet6" if ":" in dst else "inet",
            )
        )
    return out


def parse_fdb(data: str | list) -> list[FdbEntry]:
    """Entries from `bridge -j fdb`."""
    out = []
    for e in _json(data):
        flags = tuple(e.get("flags") or ())
        state = e.get("state", "")
        out.append(
            FdbEntry(
                mac=e.get("mac", ""),
                ifname=e.get("ifname", ""),
                master=e.get("master"),
                vlan=e.get("vlan"),
                state=state,
                flags=flags,
                permanent=state == "permanent",
                is_self="self" in flags,
            )
        )
    return out


# -- parsing: sysctls ------------------------------------------------------------------------


def _int(s: str) -> int | None:
    try:
        return int(s)
    except ValueError:
        return None


def parse_sysctls(text: str) -> Sysctls:
    """Sysctls from `grep -H . <files>` lines "/proc/sys/<path>:<value>" (or "<path> <value>")."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        path, _, value = line.partition(":" if ":" in line else " ")
        if path.startswith("/proc/sys/"):
            values[path[len("/proc/sys/") :]] = value.strip()

    def per_iface(prefix: str, suffix: str) -> dict[str, int]:
        out = {}
        for key, value in values.items():
            if key.startswith(prefix) and key.endswith(suffix):
                iface = key[len(prefix) : -len(suffix)]
                if "/" not in iface and (v := _int(value)) is not None:
                    out[iface] = v
        return dict(sorted(out.items()))

    def one(key: str) -> int | None:
        return _int(values[key]) if key in values else None

    port_range = None
    parts = values.get("net/ipv4/ip_local_port_range", "").split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        port_range = (int(parts[0]), int(parts[1]))
    return Sysctls(
        ip_forward=one("net/ipv4/ip_forward"),
        ip_local_port_range=port_range,
        bridge_nf_call_iptables=one("net/bridge/bridge-nf-call-iptables"),
        bridge_nf_call_ip6tables=one("net/bridge/bridge-nf-call-ip6tables"),
        rp_filter=per_iface("net/ipv4/conf/", "/rp_filter"),
        route_localnet=per_iface("net/ipv4/conf/", "/route_localnet"),
        accept_ra=per_iface("net/ipv6/conf/", "/accept_ra"),
        disable_ipv6=per_iface("net/ipv6/conf/", "/disable_ipv6"),
        conntrack_count=one("net/netfilter/nf_conntrack_count"),
    )


# -- parsing: netfilter ----------------------------------------------------------------------


def _tokens(line: str) -> list[tuple[str, bool]]:
    """Split an iptables-save line into (token, was_quoted) the way iptables-save quotes."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        quoted = False
        while i < n and not line[i].isspace():
            c = line[i]
            if c == '"':
                quoted = True
                i += 1
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(line[i])
                    i += 1
                i += 1
            elif c == "\\" and i + 1 < n:
                buf.append(line[i + 1])
                i += 2
            else:
                buf.append(c)
                i += 1
        out.append(("".join(buf), quoted))
    return out


CORE_OPTIONS = {
    "-s": "-s", "--source": "-s", "--src": "-s",
    "-d": "-d", "--destination": "-d", "--dst": "-d",
    "-i": "-i", "--in-interface": "-i",
    "-o": "-o", "--out-interface": "-o",
    "-p": "-p", "--protocol": "-p",
    "-f": "-f", "--fragment": "-f",
}  # fmt: skip


def _is_option(tok: str, quoted: bool) -> bool:
    return not quoted and tok.startswith("-") and len(tok) > 1 and not tok[1:].replace(".", "").isdigit()


def parse_iptables_rule(line: str) -> tuple[str, list[Match], str | None, list[Match], bool]:
    """Parse "-A CHAIN ..." into (chain, matches, target, target options, goto)."""
    toks = _tokens(line)
    chain = ""
    matches: list[Match] = []
    target: str | None = None
    target_opts: list[Match] = []
    goto = False
    module: str | None = None
    module_used = True
    negated = False
    i = 0
    if toks and toks[0][0] in ("-A", "--append", "-I", "--insert") and len(toks) > 1:
        chain = toks[1][0]
        i = 2
    while i < len(toks):
        tok, quoted = toks[i]
        if tok == "!" and not quoted:
            negated = True
            i += 1
            continue
        if tok in ("-m", "--match") and not quoted and i + 1 < len(toks):
            if not module_used and module is not None:
                matches.append(Match(module, "", False, ""))
            module, module_used = toks[i + 1][0], False
            i += 2
            continue
        if tok in ("-j", "--jump", "-g", "--goto") and not quoted and i + 1 < len(toks):
            if not module_used and module is not None:
                matches.append(Match(module, "", False, ""))
                module_used = True
            target, goto = toks[i + 1][0], tok in ("-g", "--goto")
            i += 2
            neg = False
            while i < len(toks):
                opt, oq = toks[i]
                if opt == "!" and not oq:
                    neg, i = True, i + 1
                    continue
                j = i + 1
                while j < len(toks) and not _is_option(*toks[j]) and toks[j] != ("!", False):
                    j += 1
                target_opts.append(Match(target, opt, neg, " ".join(t for t, _ in toks[i + 1 : j])))
                neg, i = False, j
            break
        j = i + 1
        while j < len(toks) and not _is_option(*toks[j]) and toks[j] != ("!", False):
            j += 1
        value = " ".join(t for t, _ in toks[i + 1 : j])
        if tok in CORE_OPTIONS:
            matches.append(Match(None, CORE_OPTIONS[tok], negated, value))
        else:
            matches.append(Match(module, tok, negated, value))
            module_used = True
        negated = False
        i = j
    if not module_used and module is not None:
        matches.append(Match(module, "", False, ""))
    return chain, matches, target, target_opts, goto


_COUNTERS = re.compile(r"^\[(\d+):(\d+)\]\s*")


def parse_iptables_save(text: str) -> dict[str, dict[str, Chain]]:
    """Tables, chains and rules (with counters when saved with -c) from iptables-save output."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    current: dict[str, dict[str, Any]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), {})
            continue
        if line == "COMMIT" or current is None:
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            name = parts[0]
            policy = parts[1] if len(parts) > 1 and parts[1] != "-" else None
            packets = nbytes = 0
            if len(parts) > 2 and (m := re.match(r"\[(\d+):(\d+)\]", parts[2])):
                packets, nbytes = int(m.group(1)), int(m.group(2))
            current[name] = {"policy": policy, "packets": packets, "bytes": nbytes, "rules": []}
            continue
        packets = nbytes = 0
        if m := _COUNTERS.match(line):
            packets, nbytes = int(m.group(1)), int(m.group(2))
            line = line[m.end() :]
        if not line.startswith(("-A ", "--append ")):
            continue
        chain, matches, target, topts, goto = parse_iptables_rule(line)
        c = current.setdefault(chain, {"policy": None, "packets": 0, "bytes": 0, "rules": []})
        c["rules"].append(
            Rule(
                chain=chain,
                number=len(c["rules"]) + 1,
                packets=packets,
                bytes=nbytes,
                line=line,
                matches=tuple(matches),
                target=target,
                target_options=tuple(topts),
                goto=goto,
            )
        )
    return {
        t: {
            name: Chain(
                name=name, policy=c["policy"], packets=c["packets"], bytes=c["bytes"], rules=tuple(c["rules"])
            )
            for name, c in chains.items()
        }
        for t, chains in tables.items()
    }


_NFT_WARNING = re.compile(r"^# Warning: table (\S+) (\S+) is managed by iptables-nft")
_NFT_TABLE = re.compile(r"^table (\S+) (\S+) \{")


def parse_nft(
    text: str, iptables_tables: Iterable[str] = (), ip6tables_tables: Iterable[str] = ()
) -> tuple[str, list[NftTable]]:
    """Split `nft list ruleset` output (with its warnings) into the text of the tables not made by
    iptables-nft (the tables iptables-save and ip6tables-save listed, and those nft warns about),
    and the list of all tables."""
    managed = {("ip", t) for t in iptables_tables} | {("ip6", t) for t in ip6tables_tables}
    blocks: list[tuple[str, str, list[str]]] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if m := _NFT_WARNING.match(line):
            managed.add((m.group(1), m.group(2)))
            continue
        if block is None:
            if m := _NFT_TABLE.match(line):
                block = [line]
                blocks.append((m.group(1), m.group(2), block))
            continue
        block.append(line)
        if line == "}":
            block = None
    tables = [NftTable(fam, name, (fam, name) in managed) for fam, name, _ in blocks]
    other = "\n".join("\n".join(lines) for fam, name, lines in blocks if (fam, name) not in managed)
    return (other + "\n" if other else ""), tables


# -- parsing: conntrack ----------------------------------------------------------------------


def conntrack_nat(
    orig: tuple[str, str, int | None, int | None], reply: tuple[str, str, int | None, int | None]
) -> str | None:
    """The nat kind, "dnat", "snat", "both" or None, from an entry's (src, dst, sport, dport) tuples."""
    o_src, o_dst, o_sport, o_dport = orig
    r_src, r_dst, r_sport, r_dport = reply
    dnat = r_src != o_dst or (o_dport is not None and r_sport is not None and r_sport != o_dport)
    snat = r_dst != o_src or (o_sport is not None and r_dport is not None and r_dport != o_sport)
    if dnat and snat:
        return "both"
    return "dnat" if dnat else "snat" if snat else None


_TUPLE_KEYS = frozenset({"src", "dst", "sport", "dport", "type", "code", "id"})


def parse_conntrack(text: str) -> list[ConntrackEntry]:
    """Entries from `conntrack -L` (plain or `-o extended`) or /proc/net/nf_conntrack."""
    out = []
    for line in text.splitlines():
        toks = line.split()
        if len(toks) < 4 or "=" not in line:
            continue
        i = 0
        family = None
        if toks[0] in ("ipv4", "ipv6"):
            family, i = toks[0], 2
        if i + 1 >= len(toks) or not toks[i + 1].isdigit():
            continue
        proto, proto_num = toks[i], int(toks[i + 1])
        i += 2
        timeout = None
        if i < len(toks) and toks[i].isdigit():
            timeout, i = int(toks[i]), i + 1
        state = None
        if i < len(toks) and "=" not in toks[i] and not toks[i].startswith("["):
            state, i = toks[i], i + 1
        tuples: list[dict[str, str]] = [{}, {}]
        which = -1
        in_tuple = False
        flags: list[str] = []
        extra: dict[str, str] = {}
        for tok in toks[i:]:
            if tok.startswith("[") and tok.endswith("]"):
                flags.append(tok[1:-1])
                continue
            key, eq, value = tok.partition("=")
            if not eq:
                continue
            if key == "src" and which < 1:
                which += 1
                in_tuple = True
            if in_tuple and key in _TUPLE_KEYS:
                tuples[which].setdefault(key, value)
            else:
                in_tuple = False
                extra.setdefault(key, value)
        o, r = tuples

        def port(t: dict[str, str], k: str) -> int | None:
            return int(t[k]) if t.get(k, "").isdigit() else None

        orig = (o.get("src", ""), o.get("dst", ""), port(o, "sport"), port(o, "dport"))
        reply = (r.get("src", ""), r.get("dst", ""), port(r, "sport"), port(r, "dport"))
        out.append(
            ConntrackEntry(
                family=family or ("ipv6" if ":" in orig[0] else "ipv4"),
                proto=proto,
                proto_num=proto_num,
                timeout=timeout,
                state=state,
                orig_src=orig[0],
                orig_dst=orig[1],
                orig_sport=orig[2],
                orig_dport=orig[3],
                reply_src=reply[0],
                reply_dst=reply[1],
                reply_sport=reply[2],
                reply_dport=reply[3],
                flags=tuple(flags),
                mark=_int(extra.get("mark", "0")) or 0,
                zone=_int(extra["zone"]) if "zone" in extra else None,
                use=_int(extra["use"]) if "use" in extra else None,
                nat=conntrack_nat(orig, reply) if r else None,
            )
        )
    return out


# -- parsing: sockets and processes ----------------------------------------------------------

_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)')


def _split_address(local: str) -> tuple[str, int, str | None]:
    addr, _, port = local.rpartition(":")
    iface = None
    if "%" in addr:
        addr, iface = addr.split("%", 1)
        iface = iface.rstrip("]")
    addr = addr.strip("[]")
    return addr, (int(port) if port.isdigit() else 0), iface


def parse_sockets(text: str) -> list[Socket]:
    """Sockets from `ss -H -tulnp`."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 6)
        if len(parts) < 6 or parts[0] not in ("tcp", "udp"):
            continue
        addr, port, iface = _split_address(parts[4])
        users = tuple(
            SocketUser(n, int(p), int(f)) for n, p, f in _USER.findall(parts[6] if len(parts) > 6 else "")
        )
        out.append(
            Socket(
                proto=parts[0],
                state=parts[1],
                address=addr,
                port=port,
                interface=iface,
                recv_q=int(parts[2]) if parts[2].isdigit() else 0,
                send_q=int(parts[3]) if parts[3].isdigit() else 0,
                processes=users,
            )
        )
    return out


def parse_processes(text: str, *, exclude: str = MARK_PREFIX, netns: int | None = None) -> list[Process]:
    """Processes from `ps -e -o pid=,ppid=,netns=,args=`, without the processes whose command line
    contains `exclude` (the snapshot's own scripts) and their descendants; only those in network
    namespace `netns` when given."""
    procs = []
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[0].isdigit():
            continue
        procs.append(
            Process(
                pid=int(parts[0]),
                ppid=int(parts[1]) if parts[1].isdigit() else 0,
                netns=int(parts[2]) if parts[2].isdigit() else None,
                command=parts[3] if len(parts) > 3 else "",
            )
        )
    # The snapshot's own scripts, and zombies whose parent is outside the view (an nsenter that
    # has not reaped its child yet): both are the collection's, not the sandbox's.
    dropped = {
        p.pid
        for p in procs
        if (exclude and exclude in p.command) or (p.ppid == 0 and p.command.endswith("<defunct>"))
    }
    grew = bool(dropped)
    while grew:
        more = {p.pid for p in procs if p.ppid in dropped and p.pid not in dropped}
        dropped |= more
        grew = bool(more)
    return [p for p in procs if p.pid not in dropped and (netns is None or p.netns == netns)]


# -- veth peers across namespaces ------------------------------------------------------------


def resolve_veth_peers(
    links: Mapping[str, list[Link]],
    nsid_names: Mapping[str, Mapping[int, str] | None] | None = None,
    named: frozenset[str] = KEEPER_NAMED,
) -> dict[str, list[Link]]:
    """Fill in peer_namespace/peer_name of veths whose peer is in another namespace.

    A veth knows its peer's ifindex and the peer namespace's nsid (as its own namespace numbers
    it). Ifindexes repeat across namespaces, so a peer is the interface, in another namespace, that
    has the peer ifindex AND whose own peer ifindex is this one; remaining ties are settled by:
    the nsid names `ip netns list-id` gives where they are authoritative (`nsid_names[ns]`, a dict
    of every nsid of `ns`, named when the namespace is one of `named`), each interface having one
    peer, and one nsid meaning one namespace. Peers still ambiguous stay None.
    """
    nsid_names = nsid_names or {}
    Key = tuple[str, int]
    ends: dict[Key, Link] = {}
    for ns, ls in links.items():
        for link in ls:
            if link.kind == "veth" and link.link_netnsid is not None and link.peer_ifindex is not None:
                ends[(ns, link.ifindex)] = link

    def allowed(key: Key, other_ns: str) -> bool:
        names = nsid_names.get(key[0])
        if names is None:
            return True
        name = names.get(ends[key].link_netnsid)  # type: ignore[arg-type]
        return name == other_ns if name else other_ns not in named

    cands: dict[Key, set[Key]] = {}
    for key, link in ends.items():
        cands[key] = {
            other
            for other, ol in ends.items()
            if other[0] != key[0]
            and ol.ifindex == link.peer_ifindex
            and ol.peer_ifindex == link.ifindex
            and allowed(key, other[0])
            and allowed(other, key[0])
        }
    peer_of: dict[Key, Key] = {}
    changed = True
    while changed:
        changed = False
        # One nsid is one namespace, different nsids are different namespaces.
        known: dict[tuple[str, int], str] = {}
        for key, other in peer_of.items():
            known[(key[0], ends[key].link_netnsid)] = other[0]  # type: ignore[index]
        for key, cs in cands.items():
            if key in peer_of:
                continue
            nsid = ends[key].link_netnsid
            target = known.get((key[0], nsid))  # type: ignore[arg-type]
            others = {ns for (n, i), ns in known.items() if n == key[0] and i != nsid}
            keep = {c for c in cs if (target is None or c[0] == target) and c[0] not in others}
            keep = {c for c in keep if c not in peer_of and key in cands.get(c, ())}
            if keep != cs:
                cands[key] = keep
                changed = True
        for key, cs in cands.items():
            if key not in peer_of and len(cs) == 1:
                other = next(iter(cs))
                if other not in peer_of and key in cands[other]:
                    peer_of[key], peer_of[other] = other, key
                    cands[other] = {key}
                    changed = True
    out: dict[str, list[Link]] = {}
    for ns, ls in links.items():
        res = []
        for link in ls:
            other = peer_of.get((ns, link.ifindex))
            if other is not None and ends.get((ns, link.ifindex)) is link:
                link = replace(link, peer_namespace=other[0], peer_name=ends[other].name)
            elif link.kind == "veth" and link.link_netnsid is None and link.peer_ifindex is not None:
                link = replace(link, peer_namespace=ns)
            res.append(link)
        out[ns] = res
    return out


# -- collection ------------------------------------------------------------------------------

_SYSCTL_FILES = (
    "/proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_local_port_range "
    "/proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables "
    "/proc/sys/net/netfilter/nf_conntrack_count "
    "/proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/route_localnet "
    "/proc/sys/net/ipv6/conf/*/accept_ra /proc/sys/net/ipv6/conf/*/disable_ipv6"
)


def collection_script(
    marker: str, *, fdb: bool = False, processes: bool = True, netfilter: bool = True, sockets: bool = True
) -> str:
    """The shell script that prints one namespace's state, section by section after "<marker> <name>"
    lines: one process per tool (the four ip queries share one), errors and noise dropped. Without
    `processes`, no `ps` (another namespace's script lists the same pid namespace); without
    `netfilter`, no nft, iptables and conntrack sections; without `sockets`, no `ss`."""
    ip_part = [
        f"M={marker}",
        'echo "$M ip"',
        "ip -d -j -force -batch - 2>/dev/null <<'EOF'",
        "addr show\nroute show table all\nneigh show\nnetns list-id\nEOF",
        'echo "$M sysctl"',
        f"grep -sH . {_SYSCTL_FILES}",  # one read() per file: sysctl files give nothing at offset > 0
    ]
    netfilter_part = [
        # nft first: iptables-save (of iptables-nft) prints only tables of the ip family, so when nft
        # lists none ("table ip NAME {" lines) it has nothing to print and does not run (likewise
        # ip6tables-save and the ip6 family).
        'N=$(nft list ruleset 2>&1; echo "@$?")',
        'echo "$M nft"',
        'printf "%s\\n" "${N%@*}"',
        'echo "$M iptables"',
        'case "${N##*@}:\n$N" in 0:*"\ntable ip "*|[!0]*) iptables-save -c 2>/dev/null ;; esac',
        'echo "$M ip6tables"',  # Docker 28 makes ip6tables chains too
        'case "${N##*@}:\n$N" in 0:*"\ntable ip6 "*|[!0]*) ip6tables-save -c 2>/dev/null ;; esac',
        'echo "$M conntrack"',
        # /proc/net/nf_conntrack belongs to the initial user namespace's root: conntrack(8) instead.
        '{ while IFS= read -r l; do printf "%s\\n" "$l"; done < /proc/net/nf_conntrack; } 2>/dev/null ||'
        # (dash reads byte by byte: only the count's first digit arrives, enough to tell 0.)
        ' { read -r n < /proc/sys/net/netfilter/nf_conntrack_count; [ "$n" = 0 ] ||'
        " conntrack -L -o extended; } 2>/dev/null",  # conntrack 1.4.7 dumps every family (AF_UNSPEC)
    ]
    lines = ip_part + (netfilter_part if netfilter else [])
    if sockets:
        lines += ['echo "$M sockets"', "ss -H -tulnp 2>/dev/null"]
    lines.append('echo "$M self $$"')
    if processes:
        lines += ['echo "$M processes"', "ps -e -o pid=,ppid=,netns=,args= 2>/dev/null"]
    if fdb:
        lines += ['echo "$M fdb"', "bridge -j fdb 2>/dev/null"]
    lines.append('echo "$M end"')
    return "\n".join(lines) + "\n"


def split_sections(text: str, marker: str) -> dict[str, str]:
    """The sections of a collection script's output; "self" holds the script's pid."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    prefix = marker + " "
    for line in text.splitlines():
        if line.startswith(prefix):
            name, _, arg = line[len(prefix) :].partition(" ")
            current = sections.setdefault(name, [])
            if arg:
                current.append(arg)
            continue
        if current is not None:
            current.append(line)
    return {k: "\n".join(v) + ("\n" if v else "") for k, v in sections.items()}


@dataclass
class _Parsed:
    links: list[Link]
    addresses: list[Address]
    routes: list[Route]
    neighbours: list[Neighbour]
    fdb: list[FdbEntry]
    sysctls: Sysctls
    netfilter: Netfilter
    conntrack: list[ConntrackEntry]
    sockets: list[Socket]
    processes: list[Process]
    nsids: dict[int, str]
    netns_inode: int
    complete: bool


def parse_collection(
    text: str, marker: str, *, own_netns_only: bool = False, inode: int = 0, processes: str | None = None
) -> _Parsed:
    """Parse one namespace's script output. `own_netns_only` keeps only the processes in the
    namespace's own network namespace (for views that show a whole sandbox); `inode` is that
    namespace's inode when the script's own process line does not tell it; `processes` is the `ps`
    output to use instead of the script's own (one of the same pid namespace)."""
    sec = split_sections(text, marker)
    if processes is not None:
        sec["processes"] = processes
    arrays = parse_ip_batch(sec.get("ip", ""))
    arrays += [[]] * (4 - len(arrays))
    addr_data, route_data, neigh_data, nsid_data = arrays[:4]
    all_procs = parse_processes(sec.get("processes", ""), exclude="")
    self_pid = _int(sec.get("self", "").strip() or "x")
    inode = next((p.netns for p in all_procs if p.pid == self_pid and p.netns), None) or inode
    iptables = parse_iptables_save(sec.get("iptables", ""))
    ip6tables = parse_iptables_save(sec.get("ip6tables", ""))
    nft_text, nft_tables = parse_nft(sec.get("nft", ""), iptables, ip6tables)
    nsids = {e["nsid"]: e["name"] for e in nsid_data if isinstance(e, dict) and "nsid" in e and "name" in e}
    nsids.update(
        {e["nsid"]: "" for e in nsid_data if isinstance(e, dict) and "nsid" in e and "name" not in e}
    )
    return _Parsed(
        links=parse_links(addr_data),
        addresses=parse_addresses(addr_data),
        routes=parse_routes(route_data),
        neighbours=parse_neighbours(neigh_data),
        fdb=parse_fdb(sec.get("fdb", "")),
        sysctls=parse_sysctls(sec.get("sysctl", "")),
        netfilter=Netfilter(tables=iptables, nft=nft_text, nft_tables=tuple(nft_tables), tables6=ip6tables),
        conntrack=parse_conntrack(sec.get("conntrack", "")),
        sockets=parse_sockets(sec.get("sockets", "")),
        processes=parse_processes(
            sec.get("processes", ""), exclude=MARK_PREFIX, netns=inode if own_netns_only and inode else None
        ),
        nsids=nsids,
        netns_inode=inode,
        complete="end" in sec,
    )


@dataclass
class _Target:
    name: str
    kind: str
    argv: list[str]
    containers: list[str]
    inode: int = 0


def _ns_inode(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return 0


def _targets(sb, engine) -> tuple[list[_Target], list[dict[str, Any]], list[dict[str, Any]]]:
    """The namespaces to collect, and the engine's containers and networks as plain data."""
    host = _Target(
        "host", "host", sb.nsenter_argv("host", student=True), [], _ns_inode(f"/proc/{sb.host_pid}/ns/net")
    )
    keeper = f"/proc/{sb.keeper_pid}"
    targets = [host] + [
        _Target(ns, "outside", sb.nsenter_argv(ns), [],
                _ns_inode(f"{keeper}/ns/net" if ns == "router" else f"{keeper}/root/run/netns/{ns}"))
        for ns in OUTSIDE
    ]  # fmt: skip
    containers: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    if engine is None:
        return targets, containers, networks
    # The engine's lock for a consistent model, unless a long operation holds it: the kernel state
    # is what the snapshot is about, and it must not wait for a `docker run`.
    lock = getattr(engine, "lock", None)
    if lock is not None and not lock.acquire(timeout=0.05):
        lock = None
    try:
        cs = list(engine.containers.values())
        networks = [asdict(n) for n in engine.networks.values()]
        pids: dict[str, int] = {}
        for c in cs:
            if c.status == "running":
                try:
                    pids[c.id] = engine.host_pid(c)
                except (KeyError, AttributeError):
                    pass
        containers = [asdict(c) for c in cs]
    finally:
        if lock is not None:
            lock.release()
    by_id = {c.id: c for c in cs}
    inodes = {cid: _ns_inode(f"/proc/{pid}/ns/net") for cid, pid in pids.items()}
    taken = {"host", *OUTSIDE}
    group_of: dict[str, _Target] = {}  # container id -> target
    by_inode: dict[int, _Target] = {host.inode: host} if host.inode else {}

    def place(c) -> _Target | None:
        if c.id in group_of:
            return group_of[c.id]
        ino = inodes.get(c.id, 0)
        t = by_inode.get(ino) if ino else None
        mode = c.network_mode
        if t is None and (not ino or mode == "host" or mode.startswith("container:")):
            if mode == "host":
                t = host
            elif (
                mode.startswith("container:")
                and (other := by_id.get(mode.split(":", 1)[1])) is not None
                and other.id != c.id
                and other.id in pids
            ):
                t = place(other)
        if t is None and c.id in pids:
            name = c.name if c.name not in taken else f"container:{c.name}"
            taken.add(name)
            t = _Target(name, "container", sb.nsenter_argv(name, pid=pids[c.id]), [], ino)
            targets.append(t)
            if ino:
                by_inode[ino] = t
        if t is not None:
            group_of[c.id] = t
            t.containers.append(c.name)
        return t

    # Containers with a network namespace of their own first, so that joiners find it.
    for c in sorted((c for c in cs if c.id in pids), key=lambda c: c.network_mode.startswith("container:")):
        place(c)
    for d in containers:
        t = group_of.get(d["id"])
        d["namespace"] = t.name if t is not None else None
    return targets, containers, networks


def _read_fd(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _launcher(targets: list[_Target], fds: list[tuple[int, int]], marker: str, scripts: list[int]) -> str:
    """Shell text that starts every namespace's script in the background and waits for them.

    One process is forked from Python; the launcher shell forks the rest. Each script's output goes
    to its own memfd, reopened through /proc/self/fd (dash redirects only fds 0-9). The scripts are
    the launcher's arguments: target i runs "${scripts[i]}"."""
    lines = []
    for t, (out, err), index in zip(targets, fds, scripts, strict=True):
        argv = " ".join(shlex.quote(a) for a in t.argv)
        script = f'"${index}"'
        lines.append(
            f"{argv} sh -c {script} {marker} </dev/null >/proc/self/fd/{out} 2>/proc/self/fd/{err} &"
        )
    lines.append("wait")
    return "\n".join(lines) + "\n"


def _wait(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait for `proc` without Popen.wait's polling sleeps; kill its process group on timeout."""
    try:
        fd = os.pidfd_open(proc.pid)
    except OSError:
        fd = -1
    try:
        if fd >= 0 and not readable([fd], max(0.0, timeout)):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False
        return True
    finally:
        if fd >= 0:
            os.close(fd)


@dataclass
class _Cached:
    inode: int  # the namespace's inode as _targets saw it when it was collected
    parsed: _Parsed
    at: float  # time.monotonic() of the collection


def _to_collect(
    targets: list[_Target], namespaces: Iterable[str] | None, cache: dict[str, _Cached] | None
) -> list[_Target]:
    """The targets an (incremental) snapshot must collect; the others come from `cache`."""
    if namespaces is None or cache is None:
        return list(targets)
    wanted = set(namespaces)
    if wanted - {t.name for t in targets}:  # a name this snapshot does not know: collect all
        return list(targets)
    return [
        t
        for t in targets
        if t.name in wanted or (entry := cache.get(t.name)) is None or not t.inode or entry.inode != t.inode
    ]


def take(
    sb,
    engine=None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    namespaces: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    cache: dict[str, _Cached] | None = None,
) -> Snapshot:
    """Read the sandbox's kernel state: one script per network namespace, all run concurrently.

    `cache` is a dict the caller keeps per sandbox (the daemon does); every complete collection of a
    namespace is stored there. With `namespaces` (names, as the event stream reports them) the
    snapshot is incremental: it collects those namespaces, plus any the cache lacks or whose network
    namespace changed (a new container, say), and takes the others from the cache, as they were when
    last collected. With `kinds` too (the change kinds the event stream reported) and none of them
    "netfilter" (only link, address, route, neighbour), the named namespaces that are cached are
    collected without their netfilter, conntrack, sockets and processes sections (no such change
    touches them), which stay as last collected. What
    changes without a netlink/nf_tables event (netfilter counters, conntrack, sockets, processes) is
    therefore only fresh for what was collected; a snapshot without `namespaces` (what grading takes)
    collects everything. The Docker model is always current.
    """
    started = time.monotonic()
    taken_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    marker = f"{MARK_PREFIX}{secrets.token_hex(4)}@@"
    all_targets, containers, networks = _targets(sb, engine)
    targets = _to_collect(all_targets, namespaces, cache)
    # The outside namespaces share the keeper's pid namespace: one `ps` (router's) lists their
    # processes, each keeps those of its own network namespace (known by inode).
    lean = set()  # collected without netfilter, conntrack, sockets and processes
    if namespaces is not None and kinds is not None and cache is not None and set(kinds) <= LEAN_KINDS:
        lean = {
            t.name for t in targets if (e := cache.get(t.name)) is not None and t.inode and e.inode == t.inode
        }
    collected = {t.name: t for t in targets}
    no_ps = frozenset(
        ns
        for ns in ("remote", "client")
        if "router" in collected and "router" not in lean and ns in collected and collected[ns].inode
    )
    variants: dict[tuple[bool, bool, bool], int] = {}
    scripts = [
        variants.setdefault(
            (t.kind == "host", t.name not in no_ps and t.name not in lean, t.name not in lean),
            len(variants) + 1,
        )
        for t in targets
    ]
    fds = [
        (
            os.memfd_create("nslab-snapshot-out", os.MFD_CLOEXEC),
            os.memfd_create("nslab-snapshot-err", os.MFD_CLOEXEC),
        )
        for _ in targets
    ]
    results: dict[str, _Parsed] = {}
    errors: dict[str, str] = {}
    try:
        launch_error = ""
        finished = False
        if not targets:  # everything comes from the cache
            finished = True
        else:
            try:
                proc = sb.popen(
                    [
                        "sh",
                        "-c",
                        _launcher(targets, fds, marker, scripts),
                        "nslab-snapshot",
                        *(
                            collection_script(marker, fdb=fdb, processes=ps, netfilter=full, sockets=full)
                            for fdb, ps, full in variants
                        ),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    pass_fds=[fd for pair in fds for fd in pair],
                    start_new_session=True,
                )
            except OSError as exc:
                launch_error = f"could not start: {exc}"
            else:
                finished = _wait(proc, started + timeout - time.monotonic())
                launch_error = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
                if proc.stderr:
                    proc.stderr.close()
        texts = [_read_fd(out) for out, _err in fds]
        shared_ps = None
        if no_ps:
            router = next(i for i, t in enumerate(targets) if t.name == "router")
            shared_ps = split_sections(texts[router], marker).get("processes", "")
        for t, text, (_out, err) in zip(targets, texts, fds, strict=True):
            seen = t.inode
            parsed = parse_collection(
                text,
                marker,
                own_netns_only=t.kind == "outside",
                inode=t.inode,
                processes=shared_ps if t.name in no_ps else None,
            )
            if not parsed.complete:
                errors[t.name] = (
                    _read_fd(err).strip()[-2000:]
                    or launch_error[-2000:]
                    or (f"timed out after {timeout} s" if not finished else "no output")
                )
            elif cache is not None:
                if t.name in lean:
                    old = cache[t.name].parsed
                    parsed = replace(
                        parsed,
                        netfilter=old.netfilter,
                        conntrack=old.conntrack,
                        sockets=old.sockets,
                        processes=old.processes,
                    )
                cache[t.name] = _Cached(seen, parsed, started)
            results[t.name] = parsed
            t.inode = parsed.netns_inode or t.inode
    finally:
        for pair in fds:
            for fd in pair:
                os.close(fd)
    for t in all_targets:
        if t.name not in results:  # not collected: as last collected
            entry = cache[t.name]
            results[t.name] = entry.parsed
            t.inode = entry.parsed.netns_inode or t.inode
    if cache is not None:
        for name in set(cache) - {t.name for t in all_targets}:
            cache.pop(name, None)
    targets = all_targets
    names = [t.name for t in targets]
    links = resolve_veth_peers(
        {n: results[n].links for n in names},
        {
            t.name: results[t.name].nsids if t.kind == "outside" and t.name not in errors else None
            for t in targets
        },
    )
    namespaces = tuple(Namespace(t.name, t.kind, t.inode, tuple(t.containers)) for t in targets)
    docker = {"containers": containers, "networks": networks} if engine is not None else None
    return Snapshot(
        sandbox=sb.id,
        taken_at=taken_at,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        namespaces=namespaces,
        links={n: tuple(links[n]) for n in names},
        addresses={n: tuple(results[n].addresses) for n in names},
        routes={n: tuple(results[n].routes) for n in names},
        neighbours={n: tuple(results[n].neighbours) for n in names},
        fdb={n: tuple(results[n].fdb) for n in names},
        sysctls={n: results[n].sysctls for n in names},
        netfilter={n: results[n].netfilter for n in names},
        conntrack={n: tuple(results[n].conntrack) for n in names},
        sockets={n: tuple(results[n].sockets) for n in names},
        processes={n: tuple(results[n].processes) for n in names},
        errors=errors,
        docker=docker,
    )


def snapshot(
    sb,
    engine=None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    namespaces: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    cache: dict | None = None,
) -> dict[str, Any]:
    """The sandbox's kernel state as plain JSON-serialisable data (see `take` for the typed form).

    {"sandbox", "taken_at", "duration_ms", "namespaces": [...], then per namespace name: "links",
    "addresses", "routes", "neighbours", "fdb", "sysctls", "netfilter", "conntrack", "sockets",
    "processes"; "errors" (namespace -> message) and, with an engine, "docker": {"containers",
    "networks"}}.
    """
    return take(sb, engine, timeout=timeout, namespaces=namespaces, kinds=kinds, cache=cache).to_dict()
