"""Docker's host-port allocator and the order in which port bindings are processed.

19.03 follows libnetwork `portallocator` (one map per host-IP string, no conflict between
0.0.0.0 and a specific address: that clash only shows when docker-proxy binds) and
go-connections `nat.SortPortMap`; 28 follows its `portallocator` (0.0.0.0/:: conflict with
every address of their family; several host IPs can share one port) and `cmpPortBinding`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from topology.docker.model import PROTOCOLS, VERSIONS, ExposedPort, PortBinding
from topology.errors import TopologyError, UnsupportedVersion

DEFAULT_PORT_RANGE = "32768\t60999"  # Linux default net.ipv4.ip_local_port_range
FALLBACK_RANGE = (49153, 65535)  # used when the range cannot be read
_PROTO_NUM = {"tcp": 6, "udp": 17, "sctp": 132}


class PortError(TopologyError):
    """A port request failed; str() is Docker's message."""


def _check(version: str) -> None:
    if version not in VERSIONS:
        raise UnsupportedVersion(f"Docker version {version!r} is not emulated (choose one of {VERSIONS})")


def parse_port_range(text: str | None) -> tuple[int, int]:
    """Read `ip_local_port_range` text ("32768\\t60999"); fall back to 49153-65535 if unreadable."""
    m = re.match(r"\s*(-?\d+)\s+(-?\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else FALLBACK_RANGE


def already_allocated(host_ip: str, port: int) -> str:
    """The allocator's conflict message."""
    return f"Bind for {host_ip}:{port} failed: port is already allocated"


class _PortMap:
    def __init__(self) -> None:
        self.ports: set[int] = set()
        self.last: dict[tuple[int, int], int] = {}  # range -> last port handed out


class PortAllocator:
    """Host ports in use, per (host IP, protocol), with the sequential "last port" search."""

    def __init__(self, version: str, ip_local_port_range: str | None = DEFAULT_PORT_RANGE) -> None:
        _check(version)
        self.version = version
        self.begin, self.end = parse_port_range(ip_local_port_range)
        self._maps: dict[tuple[str, str], _PortMap] = {}

    def _map(self, ip: str, proto: str) -> _PortMap:
        return self._maps.setdefault((ip, proto), _PortMap())

    def _range(self, pm: _PortMap, start: int, end: int) -> tuple[int, int]:
        key = (self.begin, self.end) if start == 0 and end == 0 else (start, end)
        pm.last.setdefault(key, key[1])  # a new range starts just after its end, i.e. at its start
        return key

    def request(
        self, host_ips: str | Sequence[str], proto: str, port: int = 0, port_end: int | None = None
    ) -> int:
        """Allocate `port` (or the next free one in `port`-`port_end`, or in the dynamic range if 0).

        Several host IPs (28 only, e.g. ["0.0.0.0", "::"]) get the same port.
        """
        ips = [_norm(ip) for ip in ([host_ips] if isinstance(host_ips, str) else host_ips)]
        end = port if port_end is None else port_end
        if proto not in PROTOCOLS:
            raise PortError("unknown protocol")
        if self.version == "19.03":
            if len(ips) != 1:
                raise ValueError("19.03 allocates one host IP per request")
            refs = [(ips[0], self._map(ips[0], proto), True)]
        else:
            if (port or end) and (not port or not end or end < port):
                raise PortError(f"invalid port range: {port}-{end}")
            if not ips:
                raise PortError("no IP addresses specified")
            refs = self._refs_28(ips, proto)
        if port > 0 and port == end:
            for ip, pm, _ in refs:
                if port in pm.ports:
                    raise PortError(already_allocated(ip, port))
            for _, pm, alloc in refs:
                if alloc:
                    pm.ports.add(port)
            return port
        keys = [self._range(pm, port, end) for _, pm, _ in refs]
        first, (lo, hi) = refs[0][1], keys[0]
        candidate = first.last[keys[0]]
        for _ in range(max(hi - lo + 1, 0)):
            candidate = lo if candidate + 1 > hi else candidate + 1
            if any(candidate in pm.ports for _, pm, _ in refs):
                continue
            for (_, pm, alloc), key in zip(refs, keys, strict=True):
                if alloc:
                    pm.ports.add(candidate)
                    pm.last[key] = candidate
            return candidate
        raise PortError("all ports are allocated")

    def _refs_28(self, ips: list[str], proto: str) -> list[tuple[str, _PortMap, bool]]:
        refs = {ip: (ip, self._map(ip, proto), True) for ip in ips}
        for unspec in ("0.0.0.0", "::"):
            fam = ipaddress.ip_address(unspec).version
            if unspec in refs:  # the port must be free for every address of the family
                others = sorted(ip for ip, p in self._maps if p == proto and _fam(ip) == fam)
                for ip in others:
                    refs.setdefault(ip, (ip, self._map(ip, proto), False))
            elif any(_fam(ip) == fam for ip in ips):  # ... or free on the unspecified address
                refs[unspec] = (unspec, self._map(unspec, proto), False)
        return list(refs.values())

    def release(self, host_ips: str | Sequence[str], proto: str, port: int) -> None:
        """Free a port; the "last port" pointer is kept (the next dynamic port does not go back)."""
        for ip in [host_ips] if isinstance(host_ips, str) else host_ips:
            pm = self._maps.get((_norm(ip), proto))
            if pm:
                pm.ports.discard(port)

    def allocated(self, host_ip: str, proto: str) -> list[int]:
        """Ports held for exactly this host IP and protocol."""
        pm = self._maps.get((_norm(host_ip), proto))
        return sorted(pm.ports) if pm else []


def _norm(ip: str) -> str:
    addr = ipaddress.ip_address(ip or "0.0.0.0")
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return str(addr)


def _fam(ip: str) -> int:
    return ipaddress.ip_address(ip).version


def sort_bindings(
    version: str, bindings: Iterable[PortBinding], *, exposed: Iterable[ExposedPort] = ()
) -> list[PortBinding]:
    """The order in which the daemon processes a container's bindings.

    19.03: go-connections `SortPortMap`, a non-transitive comparison run through Go 1.13's
    `sort.Sort`, so the input order matters: Docker feeds it the exposed ports in Go map order.
    `exposed` lists the container's exposed ports (published or not) in the order to emulate;
    ports only in `bindings` follow in binding order; exposed-only ports are sorted along but not
    returned. 28: `cmpPortBinding`, with host_port_end normalised.
    """
    _check(version)
    items = list(bindings)
    if version == "28":
        norm = [replace(b, host_port_end=b.host_port_end or b.host_port) for b in items]
        return sorted(norm, key=_key_28)
    return _sort_1903(items, [(e.port, e.proto) for e in exposed])


def _key_28(b: PortBinding) -> tuple:
    is_range = b.host_port == 0 or b.host_port != b.host_port_end
    if b.host_ip:
        addr = ipaddress.ip_address(_norm(b.host_ip))
        ip_key = (addr.max_prefixlen, int(addr))
    else:
        ip_key = (0, 0)  # an unset netip.Addr sorts first
    return (is_range, b.container_port, _PROTO_NUM.get(b.proto, 0), b.host_port, b.host_port_end, ip_key)


def _sort_1903(items: list[PortBinding], exposed: list[tuple[int, str]]) -> list[PortBinding]:
    by_port: dict[tuple[int, str], list[PortBinding]] = {}
    for b in items:
        by_port.setdefault((b.container_port, b.proto), []).append(b)
    ports = list(dict.fromkeys([*exposed, *by_port]))
    entries: list[tuple[tuple[int, str], PortBinding | None]] = [
        (p, b) for p in ports for b in (by_port.get(p) or [None])
    ]

    def less(i: int, j: int) -> bool:
        (pi, proto_i), bi = entries[i]
        (pj, _), bj = entries[j]
        hpi, hpj = (bi.host_port if bi else 0), (bj.host_port if bj else 0)
        return hpi > hpj or pi > pj or (pi == pj and proto_i.lower() == "tcp")

    _go_small_sort(entries, less)
    order: dict[tuple[int, str], list[PortBinding]] = {}
    for p, b in entries:
        order.setdefault(p, [])
        if b is not None:
            order[p].append(b)
    return [b for bs in order.values() for b in bs]


def _go_small_sort(data: list, less) -> None:
    """Go 1.13 sort.Sort for n <= 12 (a gap-6 ShellSort pass, then insertion sort).

    Longer inputs (rare: more than 12 port entries) get the same passes, not Go's quicksort.
    """

    def swap(i: int, j: int) -> None:
        data[i], data[j] = data[j], data[i]

    n = len(data)
    if n < 2:
        return
    for i in range(6, n):
        if less(i, i - 6):
            swap(i, i - 6)
    for i in range(1, n):
        j = i
        while j > 0 and less(j, j - 1):
            swap(j, j - 1)
            j -= 1
