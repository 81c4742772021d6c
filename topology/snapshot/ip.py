"""Parsing of `ip -j` and `bridge -j` output: links, addresses, routes, neighbours, fdb; `route -n`."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping

from topology.snapshot.model import Address, FdbEntry, Link, Neighbour, Route
from topology.snapshot.values import json_list


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
    entries = json_list(data)
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
    for e in json_list(data):
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
    for r in json_list(data):
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
    for n in json_list(data):
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
    for e in json_list(data):
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
