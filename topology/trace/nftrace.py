"""Parsing of `nft -a monitor` text (nft 1.0.6 prints no JSON for traces): trace lines grouped into
the visits of one packet to one base chain (`Visit`), and the ruleset events the capture waits on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from topology.plain import PlainData
from topology.snapshot.netfilter import TRACE_TABLE

__all__ = ["Hit", "Visit", "parse_visits", "packet_fields"]

_TRACE = re.compile(r"^trace id (\w+) (\w+) (\S+) (\S+) (packet|rule|policy|verdict|unknown rule)\b:? ?(.*)$")
_HANDLE_VERDICT = re.compile(r"^(.*?)\s*(?:# handle (\d+))?\s*\(verdict ([^)]*)\)\s*$")
_UNKNOWN = re.compile(r"^handle (\d+) \(verdict ([^)]*)\)")
# The packet fields a walk uses; nft prints `name value` pairs (interface names quoted).
_FIELD = re.compile(
    r"(?:^| )(iif|oif|ip saddr|ip daddr|ip id|ip protocol|tcp sport|tcp dport|udp sport|udp dport"
    r"|icmp type|icmp id|tcp flags ==) (\"[^\"]*\"|\S+)"
)


@dataclass(frozen=True)
class Hit(PlainData):
    """A rule of a chain the packet matched (nft prints only those), with its verdict."""

    chain: str
    handle: int | None
    text: str  # the rule as nft prints it ("" when nft did not know it)
    verdict: str  # continue | accept | drop | return | jump CHAIN | goto CHAIN | ...


@dataclass(frozen=True)
class Visit(PlainData):
    """One packet's pass through one base chain: the packet as the chain saw it, the rules it
    matched (in the chains it jumped to as well) and how it left (`verdict`: the last rule's
    accept/drop, or the base chain's policy)."""

    trace_id: str
    family: str
    table: str
    chain: str  # the base chain
    packet: dict[str, str]
    hits: tuple[Hit, ...] = ()
    verdict: str = ""
    policy: bool = False  # the verdict is the base chain's policy
    index: int = 0  # its order in the namespace's output


@dataclass
class _Open:
    trace_id: str
    family: str
    table: str
    chain: str
    packet: dict[str, str]
    index: int
    hits: list[Hit] = field(default_factory=list)
    verdict: str = ""
    policy: bool = False


def packet_fields(text: str) -> dict[str, str]:
    """The fields of a trace's `packet:` line that a walk uses (quotes removed)."""
    return {m.group(1).removesuffix(" =="): m.group(2).strip('"') for m in _FIELD.finditer(text)}


def parse_visits(text: str) -> list[Visit]:
    """Every visit of a traced packet to a base chain, in the order nft printed them.

    A `packet:` line opens a visit of (trace id, table, base chain); rule lines of any chain of that
    table (jumps included) add hits; a final verdict (accept, drop, a queue) or the policy ends it."""
    visits: list[_Open] = []
    current: dict[tuple[str, str, str], _Open] = {}
    for line in text.splitlines():
        m = _TRACE.match(line.strip())
        if not m:
            continue
        tid, family, table, chain, what, rest = m.groups()
        if table.startswith(TRACE_TABLE):
            table = TRACE_TABLE  # each trace's own table (nslab_trace_<mark>) is "the trace table"
        key = (tid, family, table)
        if what == "packet":
            visit = _Open(tid, family, table, chain, packet_fields(rest), len(visits))
            visits.append(visit)
            current[key] = visit
            continue
        visit = current.get(key)
        if visit is None:
            continue
        if what == "policy":
            visit.verdict, visit.policy = rest.strip().split(" ")[0], True
            current.pop(key, None)
        elif what == "unknown rule":
            u = _UNKNOWN.match(rest)
            if u:
                visit.hits.append(Hit(chain, int(u.group(1)), "", u.group(2)))
        elif what in ("rule", "verdict"):
            r = _HANDLE_VERDICT.match(rest)
            if not r:
                continue
            text_, handle, verdict = r.groups()
            if what == "rule":
                visit.hits.append(Hit(chain, int(handle) if handle else None, text_.strip(), verdict))
            if verdict.split(" ")[0] in ("accept", "drop", "reject", "queue", "stolen"):
                visit.verdict = verdict
                current.pop(key, None)
    return [
        Visit(v.trace_id, v.family, v.table, v.chain, v.packet, tuple(v.hits), v.verdict, v.policy, v.index)
        for v in visits
    ]
