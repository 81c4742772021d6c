"""Parsing of `ss -H -tulnp`: listening TCP and unconnected UDP sockets with their processes."""

from __future__ import annotations

import re

from topology.snapshot.model import Socket, SocketUser

_USER = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=(\d+)\)')


def _split_address(local: str) -> tuple[str, int, str | None]:
    addr, _, port = local.rpartition(":")
    iface = None
    if "%" in addr:
        addr, iface = addr.split("%", 1)
        iface = iface.rstrip("]")
    addr = addr.strip("[]")
    return addr, (int(port) if port.isdigit() else 0), iface


def parse_sockets(text: str) -> list[Socket]:
    """Sockets from `ss -H -tulnp`."""
    out = []
    for line in text.splitlines():
        parts = line.split(None, 6)
        if len(parts) < 6 or parts[0] not in ("tcp", "udp"):
            continue
        addr, port, iface = _split_address(parts[4])
        users = tuple(
            SocketUser(n, int(p), int(f)) for n, p, f in _USER.findall(parts[6] if len(parts) > 6 else "")
        )
        out.append(
            Socket(
                proto=parts[0],
                state=parts[1],
                address=addr,
                port=port,
                interface=iface,
                recv_q=int(parts[2]) if parts[2].isdigit() else 0,
                send_q=int(parts[3]) if parts[3].isdigit() else 0,
                processes=users,
            )
        )
    return out
