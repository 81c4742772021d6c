"""Diagnosis of failed traffic: the route and the netfilter rules a packet meets, read from a snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from topology.checks.lookup import as_ip, as_net, route_net, sysctl_value
from topology.checks.messages import diagnosis
from topology.checks.rule_matching import (
    TERMINAL,
    MatchKey,
    chain_of,
    port_range,
    rule_spec,
    snapshot_rule_key,
)


def owner(snap: Mapping, ip: Any) -> str | None:
    """The namespace that holds address `ip` (None when none does)."""
    for ns, addrs in (snap.get("addresses") or {}).items():
        if any(as_ip(a.get("address", "")) == ip for a in addrs):
            return ns
    return None


def route_lookup(snap: Mapping, ns: str, ip: Any) -> Mapping | None:
    """The main-table route namespace `ns` uses to reach `ip` (longest prefix); None when there is none or
    the best one rejects the packet."""
    best, best_len = None, -1
    for r in (snap.get("routes") or {}).get(ns) or ():
        if r.get("table") != "main" or r.get("family") != "inet":
            continue
        net = route_net(r)
        if net is not None and ip in net and net.prefixlen > best_len:
            best, best_len = r, net.prefixlen
    if best is None or best.get("type") not in ("unicast", None):
        return None
    return best


def _source_ip(snap: Mapping, ns: str, dst: Any) -> Any:
    r = route_lookup(snap, ns, dst)
    if r is not None and r.get("prefsrc"):
        return as_ip(r["prefsrc"])
    addrs = [
        a
        for a in (snap.get("addresses") or {}).get(ns) or ()
        if a.get("family") == "inet" and a.get("scope") == "global"
    ]
    if r is not None:
        on = [a for a in addrs if a.get("ifname") == r.get("dev")]
        addrs = on or addrs
    return as_ip(addrs[0]["address"]) if addrs else None


def _side(snap: Mapping, ns: str | None) -> str | None:
    """ "host" for the Docker host and its containers; the namespace itself for the outside world."""
    if ns is None:
        return None
    kinds = {n.get("name"): n.get("kind") for n in snap.get("namespaces") or ()}
    return "host" if kinds.get(ns, "container") in ("host", "container") else ns


class _Packet:
    def __init__(
        self, src, dst, proto: str, dport: int | None, in_if: str | None, out_if: str | None, local: set
    ):
        self.src, self.dst, self.proto, self.dport = src, dst, proto, dport
        self.in_if, self.out_if, self.local = in_if, out_if, local


def _match_one(m: MatchKey, pkt: _Packet) -> bool | None:
    module, option, negated, value = m
    if option in ("-s", "-d"):
        ip = pkt.src if option == "-s" else pkt.dst
        nets = [as_net(v) for v in value.split(",")]
        if ip is None or any(n is None for n in nets):
            return None
        hit = any(ip in n for n in nets)
    elif option == "-p":
        hit = value == pkt.proto
    elif option in ("-i", "-o"):
        name = pkt.in_if if option == "-i" else pkt.out_if
        if name is None:
            return None
        hit = name.startswith(value[:-1]) if value.endswith("+") else name == value
    elif option in ("--dport", "--dports") and pkt.dport is not None:
        hit = False
        for part in value.split(","):
            rng = port_range(part)
            hit = hit or (rng is not None and rng[0] <= pkt.dport <= rng[1])
    elif option == "--ctstate":
        hit = "NEW" in value.split(",")
    elif option == "--dst-type":
        hit = ("LOCAL" in value.split(",")) == (pkt.dst in pkt.local)
    else:
        return None
    return hit != negated


def _rule_matches(rule: Mapping, pkt: _Packet) -> bool | None:
    unknown = False
    for m in snapshot_rule_key(rule)[0]:
        hit = _match_one(m, pkt)
        if hit is False:
            return False
        unknown = unknown or hit is None
    return None if unknown else True


def walk(
    snap: Mapping, ns: str, table: str, chain: str, pkt: _Packet, depth: int = 0
) -> tuple[str | None, Mapping | None]:
    """Where a NEW packet ends in a chain: (verdict, rule) — verdict ACCEPT, DROP, REJECT, DNAT, ...,
    "RETURN" (fell off a user chain), or None when a rule's match could not be decided."""
    c = chain_of(snap, ns, table, chain)
    if c is None or depth > 8:
        return None, None
    for r in c.get("rules") or ():
        hit = _rule_matches(r, pkt)
        if hit is False:
            continue
        target = r.get("target") or ""
        if hit is None and (target in TERMINAL or chain_of(snap, ns, table, target) is not None):
            return None, r
        if hit is None:
            continue
        if target in TERMINAL:
            return target, r
        if chain_of(snap, ns, table, target) is not None:
            verdict, rule = walk(snap, ns, table, target, pkt, depth + 1)
            if verdict != "RETURN":
                return verdict, rule
            if r.get("goto"):
                return "RETURN", r
    return (c.get("policy") or "RETURN"), None


def diagnose_traffic(snap: Mapping, src_ns: str, dst: str, proto: str, dport: int | None) -> list[dict]:
    """Diagnoses for traffic from namespace `src_ns` to address `dst` that did not get through:
    ip_forward_off, forward_drop_no_accept, rule_after_drop, no_route_back."""
    dst_ip = as_ip(dst)
    if dst_ip is None or dst_ip.version != 4 or src_ns not in (snap.get("links") or {}):
        return []
    src_ip = _source_ip(snap, src_ns, dst_ip)
    host_local = {as_ip(a.get("address", "")) for a in (snap.get("addresses") or {}).get("host") or ()}
    diags: list[dict] = []
    src_side = _side(snap, src_ns)
    real_dst = dst_ip
    dst_owner = owner(snap, dst_ip)
    host_route_in = route_lookup(snap, "host", src_ip) if src_ip is not None else None
    in_if = host_route_in.get("dev") if host_route_in else None
    if src_ns != "host" and dst_owner == "host":
        verdict, rule = walk(
            snap, "host", "nat", "PREROUTING", _Packet(src_ip, dst_ip, proto, dport, in_if, None, host_local)
        )
        if verdict == "DNAT" and rule is not None:
            to = next((v for o, _, v in snapshot_rule_key(rule)[2] if o == "--to-destination"), "")
            addr, _, port = to.partition(":")
            real_dst = as_ip(addr.split("-")[0]) or dst_ip
            if port and port.split("-")[0].isdigit():
                dport = int(port.split("-")[0])
            dst_owner = owner(snap, real_dst)
    dst_side = _side(snap, dst_owner)
    out_route = route_lookup(snap, "host", real_dst)
    out_if = out_route.get("dev") if out_route else None
    through_host = (
        src_ns != "host"
        and dst_owner not in ("host", src_ns)
        and "host" in (src_side, dst_side)
        and (src_side != dst_side or in_if != out_if)
    )
    routed = through_host and in_if != out_if
    bridged_nf = sysctl_value(snap, "host", "bridge_nf_call_iptables") == 1
    if routed and sysctl_value(snap, "host", "ip_forward") == 0:
        diags.append(diagnosis("ip_forward_off"))
    if through_host and (routed or bridged_nf):
        pkt = _Packet(src_ip, real_dst, proto, dport, in_if, out_if, host_local)
        verdict, rule = walk(snap, "host", "filter", "FORWARD", pkt)
        if verdict == "DROP" and rule is None:
            diags.append(diagnosis("forward_drop_no_accept", src=src_ip, dst=real_dst))
        elif verdict in ("DROP", "REJECT") and rule is not None:
            chain = chain_of(snap, "host", "filter", rule["chain"]) or {}
            for later in (chain.get("rules") or ())[rule["number"] :]:
                if later.get("target") == "ACCEPT" and _rule_matches(later, pkt):
                    diags.append(
                        diagnosis(
                            "rule_after_drop",
                            chain=rule["chain"],
                            number=rule["number"],
                            rule=rule_spec(rule),
                            after=later["number"],
                            after_rule=rule_spec(later),
                        )
                    )
                    break
    # no route back: the answering namespace, and the router when the traffic crosses it
    seen_src = src_ip
    if routed and out_if is not None and src_ip is not None:
        verdict, rule = walk(
            snap,
            "host",
            "nat",
            "POSTROUTING",
            _Packet(src_ip, real_dst, proto, dport, in_if, out_if, host_local),
        )
        if verdict == "MASQUERADE":
            seen_src = _source_ip(snap, "host", real_dst) or seen_src
        elif verdict == "SNAT" and rule is not None:
            to = next((v for o, _, v in snapshot_rule_key(rule)[2] if o == "--to-source"), "")
            seen_src = as_ip(to.split(":")[0].split("-")[0]) or seen_src
    if seen_src is not None and dst_owner is not None:
        answering = [dst_owner]
        if src_side != dst_side and "router" not in (src_ns, dst_owner):
            answering.append("router")
        for ns in answering:
            if route_lookup(snap, ns, seen_src) is None:
                diags.append(diagnosis("no_route_back", ns=ns, address=seen_src))
                break
    return [{"code": d["code"], "params": {k: str(v) for k, v in d["params"].items()}} for d in diags]
