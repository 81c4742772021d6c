"""The English templates of every step's message (the web translates them with gettext), and the
words for a walk's verdict. A `trace` check's result carries them as messages in its parameters
(`{code, params}`), so that a page renders them in its reader's language."""

from __future__ import annotations

from typing import Any

from topology.checks.messages import MESSAGES as CHECK_MESSAGES
from topology.checks.messages import gettext_noop

__all__ = ["MESSAGES", "message", "text", "verdict_message"]

MESSAGES: dict[str, str] = {
    "route.out": gettext_noop("{ns} routes the packet for {dst} out of {dev}: {route}"),
    "route.local": gettext_noop(
        "In {ns}, {dst} is a local address: the packet goes up to its own stack ({route})."
    ),
    "route.forward": gettext_noop("{ns} forwards the packet (ip_forward is 1) out of {dev}: {route}"),
    "veth": gettext_noop(
        "It leaves {from_ns} through {from_if} and comes out of the other end of the veth pair, "
        "{to_if} in {to_ns}."
    ),
    "bridge.in": gettext_noop(
        "{to_if} is a port of bridge {bridge}: the packet enters {ns} through {bridge}."
    ),
    "bridge.out": gettext_noop("Bridge {bridge} in {ns} forwards it out of its port {from_if} to {to_ns}."),
    "netfilter.rule": gettext_noop(
        "{table} {chain} ({hook} hook) in {ns}: the rule {rule} matches; verdict {verdict} "
        "(its counter: {packets} packets)."
    ),
    "netfilter.policy": gettext_noop(
        "{table} {chain} ({hook} hook) in {ns}: no rule decides; the chain's policy {verdict} applies."
    ),
    "nat.dnat": gettext_noop(
        "DNAT in {ns}: the destination {before} becomes {after}; conntrack remembers it for the reply."
    ),
    "nat.snat": gettext_noop(
        "Source NAT in {ns}: the source {before} becomes {after}; conntrack remembers it for the reply."
    ),
    "nat.reverse": gettext_noop(
        "Conntrack in {ns} undoes the translation on the reply: {before} becomes {after}."
    ),
    "deliver.socket": gettext_noop("Delivered in {ns}: {process} listens on {proto} port {port}."),
    "deliver.none": gettext_noop(
        "The packet reaches {ns}, but nothing listens on {proto} port {port} there: the kernel refuses it."
    ),
    "deliver.kernel": gettext_noop("The echo request reaches {ns}; its kernel answers it."),
    "drop.rule": gettext_noop("Dropped in {ns} by the rule {rule} of {table} {chain}."),
    "drop.policy": gettext_noop(
        "Dropped in {ns}: no rule of {table} {chain} accepts the packet, and the chain's policy is {verdict}."
    ),
    "drop.ip_forward": gettext_noop(
        "Dropped in {ns}: the packet for {dst} must be forwarded, but net.ipv4.ip_forward is 0."
    ),
    "drop.rp_filter": gettext_noop(
        "Dropped in {ns}: the reverse-path filter (rp_filter) refuses source {src} on {iif}."
    ),
    "drop.no_route": gettext_noop("Dropped in {ns}: no route to {dst} ({error})."),
    "drop.lost": gettext_noop("The packet was last seen in {ns} and went no further."),
    "drop.not_sent": gettext_noop("{ns} could not send the packet: {error}."),
    "reply.answer": gettext_noop("{ns} answers ({answer}); the reply goes back to {dst}."),
    "reply.refused": gettext_noop("{ns} answers with {answer}: the connection is refused."),
    "reply.none": gettext_noop("No answer came back to {ns}."),
    # a walk's verdict, as a word inside a check's message
    "verdict.delivered": gettext_noop("delivered"),
    "verdict.dropped": gettext_noop("dropped"),
}


def message(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "params": params}


def verdict_message(verdict: str) -> dict[str, Any]:
    """A walk's verdict (delivered, dropped) as a message."""
    return message(f"verdict.{verdict}")


def text(msg: dict[str, Any]) -> str:
    """A step's or a trace check's message in English (a parameter may itself be a message)."""
    params = {k: text(v) if _is_message(v) else v for k, v in msg["params"].items()}
    return (MESSAGES.get(msg["code"]) or CHECK_MESSAGES[msg["code"]]).format(**params)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and value.keys() == {"code", "params"}
