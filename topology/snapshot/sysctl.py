"""Parsing of the sysctl files a collection script prints (`grep -H . <files>`)."""

from __future__ import annotations

from topology.snapshot.model import Sysctls
from topology.snapshot.values import int_or_none


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
                if "/" not in iface and (v := int_or_none(value)) is not None:
                    out[iface] = v
        return dict(sorted(out.items()))

    def one(key: str) -> int | None:
        return int_or_none(values[key]) if key in values else None

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
