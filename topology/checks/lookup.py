"""Helpers over a snapshot dict shared by the check kinds: arguments, namespaces, containers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from topology.checks.messages import diagnosis, result


def ns_arg(args: Mapping) -> str:
    """The namespace a check's arguments name (the Docker host by default)."""
    return str(args.get("ns") or "host")


def wants_present(args: Mapping) -> bool:
    """Whether the check wants the thing present (`present: false` wants it absent)."""
    return bool(args.get("present", True))


def missing_ns(kind: str, snap: Mapping, ns: str) -> dict | None:
    """The failed result when the snapshot could not read namespace `ns`, else None."""
    if ns not in snap.get("links", {}):
        return result(kind, False, "snapshot.missing", ns=ns)
    return None


def _containers(snap: Mapping) -> list[dict]:
    return list((snap.get("docker") or {}).get("containers") or [])


def find_container(snap: Mapping, ref: str) -> dict | None:
    cs = _containers(snap)
    for c in cs:
        if c.get("name") == ref or c.get("id") == ref:
            return c
    found = [c for c in cs if ref and str(c.get("id", "")).startswith(ref)]
    return found[0] if len(found) == 1 else None


def as_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `value` (a prefix length, zone or brackets dropped), or None."""
    try:
        return ipaddress.ip_address(str(value).split("/")[0].split("%")[0].strip("[]"))
    except ValueError:
        return None


def as_net(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network in `value` ("default" is 0.0.0.0/0), or None."""
    try:
        return ipaddress.ip_network("0.0.0.0/0" if value == "default" else str(value), strict=False)
    except ValueError:
        return None


def as_bool(v: Any) -> bool:
    """A check argument as a bool ("yes", "on", "1", "true" are true)."""
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on")
    return bool(v)


def _other_namespaces(snap: Mapping, section: str, ns: str, pred: Callable[[dict], bool]) -> list[str]:
    return [n for n, items in (snap.get(section) or {}).items() if n != ns and any(pred(x) for x in items)]


def wrong_ns(snap: Mapping, section: str, ns: str, what: dict, pred: Callable[[dict], bool]) -> list[dict]:
    """A `wrong_namespace` diagnosis when what was looked for (a `part.*` message) is in other namespaces."""
    found = _other_namespaces(snap, section, ns, pred)
    return [diagnosis("wrong_namespace", what=what, found=found, expected=ns)] if found else []


def route_net(r: Mapping):
    """A snapshot route's destination network."""
    return as_net(f"{r.get('destination')}/{r.get('prefixlen')}")


def sysctl_value(snap: Mapping, ns: str, name: str) -> Any:
    """The value of `ip_forward`, `rp_filter.eth0`, ... in a namespace; None when unknown."""
    values = (snap.get("sysctls") or {}).get(ns) or {}
    key, _, sub = name.partition(".")
    value = values.get(key)
    if sub:
        return value.get(sub) if isinstance(value, dict) else None
    return value
