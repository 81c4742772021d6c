"""Assembling a walk from the visits the monitors printed and what the namespaces say afterwards.

Each namespace's visits are split into the packet's (its source port, or echo request) and its
reply's. The namespaces crossed follow the links: the trace table's postrouting chain sees the
packet leave by `oif`; a veth leads to its peer's namespace, a bridge to the port whose namespace
saw the packet next. In each namespace the steps come in the order the kernel met them; NAT shows as
a change of the packet between two chains (the trace table's postrouting and forward/input chains
run after NAT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topology.trace.arm import TABLE, Probe
from topology.trace.lookup import Lookup
from topology.trace.messages import message
from topology.trace.model import Step, Walk
from topology.trace.nftrace import Visit

__all__ = ["Direction", "assemble", "direction_of", "path_of", "relevant", "route_queries"]

_HOOKS = {
    "PREROUTING": "prerouting",
    "INPUT": "input",
    "FORWARD": "forward",
    "OUTPUT": "output",
    "POSTROUTING": "postrouting",
}
_TCP_FLAGS = {"0x12": "SYN-ACK", "syn | ack": "SYN-ACK", "0x14": "RST", "rst | ack": "RST", "rst": "RST"}


_ERRORS = ("destination-unreachable", "time-exceeded")


def relevant(v: Visit, probe: Probe) -> bool:
    """The visit is of the probe's packet or its answer (an armed trace marks others too)."""
    p = v.packet
    if p.get("icmp type") in _ERRORS:
        return True
    if probe.proto == "icmp":
        return p.get("icmp id") == str(probe.mark)
    return str(probe.mark) in (p.get(f"{probe.proto} sport"), p.get(f"{probe.proto} dport"))


def direction_of(v: Visit, probe: Probe) -> str:
    """request or reply."""
    p = v.packet
    if probe.proto == "icmp":
        return "request" if p.get("icmp type") == "echo-request" else "reply"
    sport = p.get(f"{probe.proto} sport")
    return "request" if sport == str(probe.mark) and "icmp type" not in p else "reply"


def _tuple(p: dict[str, str]) -> dict:
    sport = p.get("tcp sport") or p.get("udp sport")
    dport = p.get("tcp dport") or p.get("udp dport")
    return {
        "src": p.get("ip saddr"),
        "dst": p.get("ip daddr"),
        "sport": int(sport) if sport else None,
        "dport": int(dport) if dport else None,
    }


@dataclass
class Direction:
    """The visits of one direction, per namespace, and the namespaces it crossed in order."""

    visits: dict[str, list[Visit]]
    path: list[str] = field(default_factory=list)


def _marker(visits: list[Visit], chain: str) -> Visit | None:
    return next((v for v in reversed(visits) if v.table == TABLE and v.chain == chain), None)


def _links(snapshot: dict, ns: str) -> dict[str, dict]:
    return {link["name"]: link for link in snapshot.get("links", {}).get(ns, [])}


def _next_hop(snapshot: dict, ns: str, oif: str, visits: dict[str, list[Visit]], seen: list[str]):
    """(next namespace, our port: the veth left by, its peer's name) after leaving `ns` by `oif`."""
    links = _links(snapshot, ns)
    link = links.get(oif)
    if link is None:
        return None
    if link["kind"] == "bridge":
        ports = [lk for lk in links.values() if lk.get("master") == oif and lk.get("peer_namespace")]
        for port in ports:
            if port["peer_namespace"] in visits and port["peer_namespace"] not in seen:
                return port["peer_namespace"], port["name"], port["peer_name"]
        return None
    if link.get("peer_namespace"):
        return link["peer_namespace"], oif, link.get("peer_name")
    return None


def path_of(snapshot: dict, visits: dict[str, list[Visit]], start: str | None) -> list[str]:
    """The namespaces one direction crossed, from `start`, following the links out of each."""
    path: list[str] = []
    ns = start
    while ns and ns not in path and len(path) < 12:
        path.append(ns)
        post = _marker(visits.get(ns, []), "postrouting")
        if post is None or "oif" not in post.packet:
            break
        hop = _next_hop(snapshot, ns, post.packet["oif"], visits, path)
        ns = hop[0] if hop else None
    return path


def route_queries(d: Direction, source: str) -> dict[str, str]:
    """The `ip route get` arguments of each namespace of the request's path."""
    queries = {}
    for ns in d.path:
        vs = d.visits.get(ns, [])
        if not vs:
            continue
        if ns == source:
            queries[ns] = str(vs[0].packet.get("ip daddr"))
            continue
        arrival = vs[0].packet
        later = next((v for v in vs if v.chain in ("forward", "input", "FORWARD", "INPUT")), vs[-1])
        if "iif" in arrival:
            queries[ns] = (
                f"{later.packet.get('ip daddr')} from {arrival.get('ip saddr')} iif {arrival['iif']}"
            )
    return queries


class _Builder:
    def __init__(self, snapshot: dict, lookups: dict[str, Lookup], probe: Probe):
        self.snapshot, self.lookups, self.probe = snapshot, lookups, probe
        self.steps: list[Step] = []

    def add(self, ns: str, kind: str, code: str, direction: str, **fields) -> Step:
        params = fields.pop("params", {})
        step = Step(ns=ns, kind=kind, message=message(code, ns=ns, **params), direction=direction, **fields)
        self.steps.append(step)
        return step

    def lookup(self, ns: str) -> Lookup:
        return self.lookups.get(ns) or Lookup()

    def chain_of(self, ns: str, v: Visit, chain: str):
        """The iptables chain (iptables-save -c, after the packet) of a visit's table, or None."""
        if v.family != "ip":
            return None
        return self.lookup(ns).tables.get(v.table, {}).get(chain)

    def rule_of(self, ns: str, v: Visit, chain: str, handle: int | None, nft_text: str):
        """(rule text as iptables-save prints it, packets, bytes) of a traced rule."""
        pos = self.lookup(ns).positions.get((v.family, v.table, chain, handle or -1))
        found = self.chain_of(ns, v, chain)
        if found is not None and pos and pos <= len(found.rules):
            r = found.rules[pos - 1]
            return r.line, r.packets, r.bytes
        return nft_text or None, None, None

    def hook_of(self, ns: str, v: Visit) -> str:
        hook = self.lookups.get(ns, Lookup()).hooks.get((v.family, v.table, v.chain))
        return hook or _HOOKS.get(v.chain, v.chain.lower())

    def netfilter(self, ns: str, v: Visit, direction: str) -> Step | None:
        """Steps of one visit; the drop step when it dropped the packet."""
        hook = self.hook_of(ns, v)
        base = {"family": v.family, "table": v.table, "hook": hook, "packet": _tuple(v.packet)}
        for hit in v.hits:
            rule, packets, nbytes = self.rule_of(ns, v, hit.chain, hit.handle, hit.text)
            params = {
                "table": v.table,
                "chain": hit.chain,
                "hook": hook,
                "rule": rule,
                "verdict": hit.verdict,
                "packets": packets,
            }
            self.add(
                ns,
                "netfilter",
                "netfilter.rule",
                direction,
                chain=hit.chain,
                rule=rule,
                verdict=hit.verdict,
                packets=packets,
                bytes=nbytes,
                params=params,
                **base,
            )
            if hit.verdict == "drop":
                return self.add(
                    ns,
                    "drop",
                    "drop.rule",
                    direction,
                    chain=hit.chain,
                    rule=rule,
                    verdict="drop",
                    params=params,
                    **base,
                )
        if v.policy:
            chain = self.chain_of(ns, v, v.chain)
            params = {"table": v.table, "chain": v.chain, "hook": hook, "verdict": v.verdict.upper()}
            self.add(
                ns,
                "netfilter",
                "netfilter.policy",
                direction,
                chain=v.chain,
                verdict=v.verdict,
                packets=chain.packets if chain else None,
                bytes=chain.bytes if chain else None,
                params=params,
                **base,
            )
            if v.verdict == "drop":
                return self.add(
                    ns, "drop", "drop.policy", direction, chain=v.chain, verdict="drop", params=params, **base
                )
        return None

    def nat(self, ns: str, before: dict, after: dict, direction: str) -> None:
        if before == after:
            return

        def show(t: dict, keys) -> str:
            addr, port = t[keys[0]], t[keys[1]]
            return f"{addr}:{port}" if port is not None else str(addr)

        if direction == "reply":
            code, keys = "nat.reverse", None
        elif (before["dst"], before["dport"]) != (after["dst"], after["dport"]):
            code, keys = "nat.dnat", ("dst", "dport")
        else:
            code, keys = "nat.snat", ("src", "sport")
        if keys is None:
            b = f"{show(before, ('src', 'sport'))} > {show(before, ('dst', 'dport'))}"
            a = f"{show(after, ('src', 'sport'))} > {show(after, ('dst', 'dport'))}"
        else:
            b, a = show(before, keys), show(after, keys)
        self.add(
            ns,
            "nat",
            code,
            direction,
            nat={"before": before, "after": after},
            packet=after,
            params={"before": b, "after": a},
        )

    def route(self, ns: str, query: str | None, direction: str, first: bool) -> Step | None:
        """The routing decision of `ns`; a drop step when there is no way on."""
        if not query:
            return None
        answer = self.lookups.get(ns, Lookup()).routes.get(query, "")
        dst = query.split(" ")[0]
        if answer.startswith("RTNETLINK") or not answer:
            error = answer.removeprefix("RTNETLINK answers: ") or "no answer"
            iif = query.split(" iif ")[-1] if " iif " in query else ""
            sysctls = self.lookup(ns).sysctls
            rp_filter = sysctls.rp_filter if sysctls else {}
            rp = max(rp_filter.get("all", 0), rp_filter.get(iif, 0))
            if not first and sysctls is not None and sysctls.ip_forward == 0:
                return self.add(ns, "drop", "drop.ip_forward", direction, route=answer, params={"dst": dst})
            if "cross-device" in error and rp:
                return self.add(
                    ns,
                    "drop",
                    "drop.rp_filter",
                    direction,
                    route=answer,
                    params={"src": query.split(" from ")[-1].split(" ")[0], "iif": iif},
                )
            return self.add(
                ns, "drop", "drop.no_route", direction, route=answer, params={"dst": dst, "error": error}
            )
        dev = answer.split(" dev ")[1].split(" ")[0] if " dev " in answer else ""
        code = "route.local" if answer.startswith("local ") else "route.out" if first else "route.forward"
        self.add(ns, "route", code, direction, route=answer, params={"dst": dst, "dev": dev, "route": answer})
        return None

    def link(self, prev: str, ns: str, visits: list[Visit], prev_visits: list[Visit], direction: str) -> None:
        post = _marker(prev_visits, "postrouting")
        oif = post.packet.get("oif", "") if post else ""
        hop = _next_hop(self.snapshot, prev, oif, {ns: visits}, [])
        if hop is None:
            return
        _, out_if, peer_if = hop
        links = _links(self.snapshot, prev)
        if links.get(oif, {}).get("kind") == "bridge":
            self.add(
                prev,
                "bridge",
                "bridge.out",
                direction,
                link={"from_ns": prev, "from_if": out_if, "to_ns": ns, "to_if": peer_if, "bridge": oif},
                params={"bridge": oif, "from_if": out_if, "to_ns": ns},
            )
        self.add(
            ns,
            "veth",
            "veth",
            direction,
            link={"from_ns": prev, "from_if": out_if, "to_ns": ns, "to_if": peer_if, "bridge": None},
            params={"from_ns": prev, "from_if": out_if, "to_ns": ns, "to_if": peer_if},
        )
        master = _links(self.snapshot, ns).get(peer_if or "", {}).get("master")
        if master:
            self.add(
                ns,
                "bridge",
                "bridge.in",
                direction,
                link={"from_ns": prev, "from_if": out_if, "to_ns": ns, "to_if": peer_if, "bridge": master},
                params={"bridge": master, "to_if": peer_if},
            )

    def walk_direction(
        self, d: Direction, direction: str, queries: dict[str, str], source: str | None
    ) -> tuple[str, Step | None]:
        """Steps of one direction; (the last namespace, the drop step if it was dropped)."""
        prev = None
        last = None
        for ns in d.path:
            vs = d.visits.get(ns, [])
            if prev is not None:
                self.link(prev, ns, vs, d.visits.get(prev, []), direction)
            routed = False
            if ns == source:
                if dropped := self.route(ns, queries.get(ns), direction, True):
                    return ns, dropped
                routed = True
            packet = _tuple(vs[0].packet) if vs else None
            for v in vs:
                now = _tuple(v.packet)
                if packet is not None:
                    self.nat(ns, packet, now, direction)
                packet = now
                if not routed and direction == "request" and self.hook_of(ns, v) in ("input", "forward"):
                    routed = True
                    if dropped := self.route(ns, queries.get(ns), direction, False):
                        return ns, dropped
                if v.table == TABLE:
                    continue
                if dropped := self.netfilter(ns, v, direction):
                    return ns, dropped
            last_hop = not routed and direction == "request" and ns == d.path[-1] and ns != source
            if last_hop and (dropped := self.route(ns, queries.get(ns), direction, False)):
                return ns, dropped
            prev, last = ns, ns
        return last or "", None

    def deliver(self, ns: str, visits: list[Visit]) -> Step:
        """Where the packet ends in `ns`: a listening socket, the kernel (echo), or nothing."""
        v = _marker(visits, "input")
        t = _tuple(v.packet) if v else {}
        if self.probe.proto == "icmp":
            return self.add(ns, "deliver", "deliver.kernel", "request", packet=t, params={})
        port = t.get("dport")
        for sock in self.lookup(ns).sockets:
            if (
                sock.proto == self.probe.proto
                and sock.port == port
                and sock.address in ("*", "0.0.0.0", "::", t.get("dst"))
            ):
                process = sock.processes[0].name if sock.processes else "a socket"
                return self.add(
                    ns,
                    "deliver",
                    "deliver.socket",
                    "request",
                    packet=t,
                    process=process,
                    params={"process": process, "proto": self.probe.proto, "port": port},
                )
        return self.add(
            ns, "drop", "deliver.none", "request", packet=t, params={"proto": self.probe.proto, "port": port}
        )


def _answer(v: Visit) -> str:
    p = v.packet
    if "icmp type" in p:
        return f"ICMP {p['icmp type']}"
    return _TCP_FLAGS.get(p.get("tcp flags", ""), "UDP" if "udp sport" in p else p.get("tcp flags", ""))


def assemble(
    snapshot: dict,
    request: Direction,
    reply: Direction,
    lookups: dict[str, Lookup],
    probe: Probe,
    source: str,
    exit_code: int | None,
    error: str,
) -> Walk:
    """The walk of a captured packet and its reply."""
    b = _Builder(snapshot, lookups, probe)
    queries = route_queries(request, source)
    if exit_code == 3 and not request.visits.get(source):
        b.add(source, "drop", "drop.not_sent", "request", params={"error": error})
        last, dropped = source, b.steps[-1]
    else:
        last, dropped = b.walk_direction(request, "request", queries, source)
    verdict, reason = "dropped", ""
    if dropped is not None:
        reason = dropped.message["code"]
    elif _marker(request.visits.get(last, []), "input") is not None:
        final = b.deliver(last, request.visits.get(last, []))
        reason = final.message["code"]
        verdict = "delivered" if final.kind == "deliver" else "dropped"
    else:
        b.add(last, "drop", "drop.lost", "request", params={})
        reason = "drop.lost"
    if reply.path:
        first = next(
            (v for v in reply.visits.get(reply.path[0], []) if v.table == TABLE and v.chain == "output"), None
        )
        answer = _answer(first) if first else ""
        code = "reply.refused" if answer == "RST" or "unreachable" in answer else "reply.answer"
        b.add(
            reply.path[0],
            "reply",
            code,
            "reply",
            packet=_tuple(first.packet) if first else None,
            params={"answer": answer, "dst": _tuple(first.packet)["dst"] if first else ""},
        )
        b.walk_direction(reply, "reply", {}, None)
    elif verdict == "delivered":
        b.add(source, "reply", "reply.none", "reply", params={})
    return Walk(
        source=source,
        destination=probe.dst,
        proto=probe.proto,
        port=probe.dport,
        verdict=verdict,
        reason=reason,
        steps=tuple(b.steps),
        path=tuple(request.path),
        reply_path=tuple(reply.path),
        answered=exit_code == 0,
    )
