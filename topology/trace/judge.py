"""The `trace` exercise check: a walked packet judged against what the exercise expects of it.

Arguments (docs/exercises.md): `from`, `to`, `port`, `proto` (tcp, udp or icmp) say the packet;
`verdict` (delivered, the default, or dropped), `dnat_to` / `snat_to` ("ADDR" or "ADDR:PORT" the
packet is translated to), `accepted_in` (a chain where a rule accepts it), `dropped_in` (the chain
whose rule or policy drops it) and `reason` (the walk's reason code, e.g. drop.ip_forward) what
must happen to it. The first expectation not met is the result.
"""

from __future__ import annotations

from collections.abc import Mapping

from topology.checks.messages import result
from topology.trace.messages import verdict_message
from topology.trace.model import Walk

__all__ = ["judge"]


def _last(walk: Walk) -> dict | str:
    """The walk's last step, a message the page translates (its English: `topology.trace.text`)."""
    return walk.steps[-1].message if walk.steps else "-"


def _nat(walk: Walk, code: str, side: str, want: str) -> bool:
    addr, _, port = want.partition(":")
    for s in walk.steps:
        if s.kind == "nat" and s.direction == "request" and s.message["code"] == code:
            after = s.nat["after"]
            if after[side] == addr and (
                not port or str(after["dport" if side == "dst" else "sport"]) == port
            ):
                return True
    return False


def judge(walk: Walk, args: Mapping) -> dict:
    """The check result of a walk (see the module's docstring)."""
    p = {"from": walk.source, "to": walk.destination, "proto": walk.proto, "port": walk.port or "-"}
    want = str(args.get("verdict") or "delivered")
    if walk.verdict != want:
        return result(
            "trace",
            False,
            "trace.verdict",
            actual=verdict_message(walk.verdict),
            expected=verdict_message(want),
            last=_last(walk),
            **p,
        )
    if args.get("reason") and walk.reason != str(args["reason"]):
        return result(
            "trace",
            False,
            "trace.reason",
            actual=walk.reason,
            expected=str(args["reason"]),
            last=_last(walk),
            **p,
        )
    if args.get("dnat_to") and not _nat(walk, "nat.dnat", "dst", str(args["dnat_to"])):
        return result("trace", False, "trace.no_dnat", expected=str(args["dnat_to"]), **p)
    if args.get("snat_to") and not _nat(walk, "nat.snat", "src", str(args["snat_to"])):
        return result("trace", False, "trace.no_snat", expected=str(args["snat_to"]), **p)
    chain = args.get("accepted_in")
    if chain and not any(
        s.kind == "netfilter" and s.direction == "request" and s.chain == chain and s.verdict == "accept"
        for s in walk.steps
    ):
        return result("trace", False, "trace.not_accepted_in", chain=str(chain), **p)
    if chain := args.get("dropped_in"):
        last = walk.steps[-1] if walk.steps else None
        if last is None or last.kind != "drop" or last.chain != chain:
            return result("trace", False, "trace.not_dropped_in", chain=str(chain), last=_last(walk), **p)
    return result("trace", True, "trace.ok", verdict=verdict_message(walk.verdict), last=_last(walk), **p)
