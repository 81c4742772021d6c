"""Packet walk: a real packet followed through routing, bridges, veths and netfilter (issue 14).

`trace(access, source, dst, port, proto)` sends one packet from namespace `source` with a trace armed
in every namespace of the sandbox (`arm`: a table of its own, `inet nslab_trace`, removed right
after), reads `nft monitor` there (`capture`, parsed by `nftrace`), asks the namespaces for their
routes and rule handles (`lookup`) and assembles the `Walk` (`walk`): typed `Step`s whose messages
(`messages`) explain themselves.

Both Docker versions' labs program iptables-nft (the sandbox's /usr has iptables 1.8.9 nf_tables):
every rule the student or Docker made is an nf_tables rule and shows in the trace.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

from topology.trace.arm import TABLE, Probe
from topology.trace.capture import TraceAccess, TraceError, capture
from topology.trace.lookup import Lookup, lookup_script, parse_lookup
from topology.trace.messages import MESSAGES, text
from topology.trace.model import KINDS, Step, Walk
from topology.trace.nftrace import parse_visits
from topology.trace.walk import Direction, assemble, direction_of, path_of, relevant, route_queries

__all__ = ["KINDS", "MESSAGES", "TABLE", "Step", "TraceAccess", "TraceError", "Walk", "text", "trace"]

PROTOS = ("tcp", "udp", "icmp")
TIMEOUT = 1.0  # seconds the sender waits for an answer


def trace(
    access: TraceAccess,
    source: str,
    dst: str,
    port: int | None = None,
    proto: str = "tcp",
    timeout: float = TIMEOUT,
    *,
    armed_for: float = 0.0,
) -> Walk:
    """Send one packet from namespace `source` to `dst` (`port` for tcp and udp) and walk it; with
    `armed_for` (seconds), send nothing and walk the first such packet the student makes there."""
    if proto not in PROTOS:
        raise TraceError(f"protocol {proto!r}: choose one of {', '.join(PROTOS)}")
    if proto != "icmp" and not port:
        raise TraceError(f"a {proto} trace needs a port")
    # The daemon's last snapshot: the namespaces and their links (what changes during a walk, the
    # counters, sysctls and sockets, is read afresh afterwards: `lookup`).
    before = access.snapshot_of([])
    namespaces = [n["name"] for n in before.get("namespaces", [])]
    if source not in namespaces:
        raise TraceError(f"no namespace or running container {source!r}")
    ident = 40000 + secrets.randbelow(20000)
    probe = Probe(proto, dst, port if proto != "icmp" else None, None if armed_for else ident, ident)
    captured = capture(access, namespaces, source, probe, timeout, armed_for=armed_for)
    probe = captured.probe
    request, reply = Direction({}), Direction({})
    for ns, out in captured.monitors.items():
        for v in parse_visits(out):
            if not relevant(v, probe):
                continue
            (request if direction_of(v, probe) == "request" else reply).visits.setdefault(ns, []).append(v)
    request.path = path_of(before, request.visits, source)
    reply.path = path_of(before, reply.visits, _reply_start(reply))
    queries = route_queries(request, source)
    involved = sorted(set(request.path) | set(reply.path))
    with ThreadPoolExecutor(max_workers=len(involved) + 1) as pool:
        after = pool.submit(access.snapshot_of, involved)  # their counters, conntrack, sockets now
        answers = {
            ns: pool.submit(
                access.run, ns, ["sh", "-c", lookup_script([queries[ns]] if ns in queries else [])]
            )
            for ns in involved
        }
        lookups: dict[str, Lookup] = {ns: parse_lookup(f.result()[1]) for ns, f in answers.items()}
        snapshot = after.result()
    return assemble(snapshot, request, reply, lookups, probe, source, captured.exit, captured.error)


def _lookup(ns: str, request: Direction, reply: Direction, queries: dict[str, str]) -> str:
    """What to read in `ns` after the walk: rules where a chain saw the packet, sysctls on its way,
    the sockets where it ends."""
    visits = request.visits.get(ns, []) + reply.visits.get(ns, [])
    return lookup_script(
        [queries[ns]] if ns in queries else [],
        rules=any(v.table != TABLE for v in visits),
        sysctls=ns in request.path,
        sockets=bool(request.path) and ns == request.path[-1],
    )


def _reply_start(reply: Direction) -> str | None:
    """The namespace that sent the reply (its output chain saw it first)."""
    for ns, visits in reply.visits.items():
        if any(v.table == TABLE and v.chain == "output" for v in visits):
            return ns
    return None
