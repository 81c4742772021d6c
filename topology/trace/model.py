"""The walk of a packet as typed data: `Step`s in the order the packet met them, and the `Walk`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topology.plain import PlainData

__all__ = ["KINDS", "Step", "Walk"]

KINDS = ("route", "bridge", "veth", "netfilter", "nat", "deliver", "drop", "reply")


@dataclass(frozen=True)
class Step(PlainData):
    """One thing that happened to the packet (or its reply) in namespace `ns`.

    `message` is `{code, params}`: its English template is `topology.trace.messages.MESSAGES[code]`
    (the web translates it). Fields not about this kind of step are None."""

    ns: str
    kind: str  # one of KINDS
    message: dict[str, Any]
    direction: str = "request"  # request | reply
    packet: dict[str, Any] | None = None  # src, dst, sport, dport as the step saw them
    # netfilter
    family: str | None = None
    table: str | None = None
    chain: str | None = None
    hook: str | None = None
    rule: str | None = None  # as iptables-save prints it (nft's text for tables iptables did not make)
    verdict: str | None = None
    packets: int | None = None  # the rule's (or policy's) counters after the packet
    bytes: int | None = None
    # route
    route: str | None = None  # as `ip route get` says it
    # veth, bridge: the link crossed
    link: dict[str, Any] | None = None  # {from_ns, from_if, to_ns, to_if, bridge}
    # nat
    nat: dict[str, Any] | None = None  # {before: {src, dst, sport, dport}, after: {...}}
    # deliver
    process: str | None = None


@dataclass(frozen=True)
class Walk(PlainData):
    """A traced packet's walk: `verdict` is delivered or dropped; `reason` the code of why."""

    source: str
    destination: str
    proto: str
    port: int | None
    verdict: str  # delivered | dropped
    reason: str
    steps: tuple[Step, ...]
    path: tuple[str, ...] = field(default=())  # the namespaces the packet crossed, in order
    reply_path: tuple[str, ...] = field(default=())
    answered: bool = False  # the source got an answer (TCP connected, UDP or ICMP reply)
