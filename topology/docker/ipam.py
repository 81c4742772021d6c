"""Docker's default IPAM for bridge networks: pool choice per version, addresses, MAC addresses.

19.03 follows libnetwork `ipam/allocator.go` (rotating start index) and `network.go`
(`requestPoolHelper`: pools overlapping a host route are held, skipped and released);
28 follows `ipams/defaultipam` (lowest pool not overlapping an allocated pool, an on-link
route or a nameserver). IPv4 only.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterable

from topology.docker.model import VERSIONS, Network
from topology.errors import TopologyError, UnsupportedVersion

IPv4Net = ipaddress.IPv4Network


def _split(base: str, prefix: int) -> list[str]:
    return [str(n) for n in ipaddress.ip_network(base).subnets(new_prefix=prefix)]


# Docker's local-scope default pools, in order (31 of them).
DEFAULT_POOLS: tuple[str, ...] = tuple(
    ["172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"]
    + _split("172.20.0.0/14", 16)
    + _split("172.24.0.0/14", 16)
    + _split("172.28.0.0/14", 16)
    + _split("192.168.0.0/16", 20)
)

ERR_POOL_OVERLAP = "Pool overlaps with other one on this address space"
ERR_IN_USE = "Address already in use"
ERR_OUT_OF_RANGE = "requested address is out of range"
ERR_NO_IPS = "No available addresses on this pool"
ERR_POOLS_EXHAUSTED = {
    "19.03": "could not find an available, non-overlapping IPv4 address pool among the defaults "
    "to assign to the network",
    "28": "all predefined address pools have been fully subnetted",
}


class IpamError(TopologyError):
    """An IPAM request failed; str() is Docker's message, `kind` a stable tag."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # overlap | pools_exhausted | in_use | out_of_range | no_ips | gateway


def _check(version: str) -> None:
    if version not in VERSIONS:
        raise UnsupportedVersion(f"Docker version {version!r} is not emulated (choose one of {VERSIONS})")


def _overlaps(a: IPv4Net, b: IPv4Net) -> bool:
    return a.overlaps(b)


class Pool:
    """One allocated subnet: its gateway and the bitmap of used host ordinals."""

    def __init__(self, version: str, subnet: str) -> None:
        self.network = ipaddress.IPv4Network(subnet, strict=False)
        self.ip_range: IPv4Net | None = None  # --ip-range: where addresses not asked for come from
        self.gateway = ""
        self.refcount = 1
        size = self.network.num_addresses
        # 19.03 always reserves the network and broadcast ordinals; 28 spares /31 and /32.
        self._used: set[int] = set()
        if version == "19.03" or size > 2:
            self._used.add(0)
            self._used.add(size - 1)

    @property
    def subnet(self) -> str:
        """The subnet in canonical form, e.g. "172.18.0.0/16"."""
        return str(self.network)

    @property
    def prefixlen(self) -> int:
        """The prefix length."""
        return self.network.prefixlen

    def used(self) -> list[str]:
        """Allocated addresses (gateway and endpoints; not the reserved network/broadcast)."""
        size = self.network.num_addresses
        reserved = {0, size - 1} if size > 2 else set()
        return [str(self.network[o]) for o in sorted(self._used - reserved)]

    def _take(self, ip: str | None) -> str:
        size = self.network.num_addresses
        if len(self._used) >= size:
            raise IpamError(ERR_NO_IPS, "no_ips")
        if ip is None:  # the lowest free one, of the range if any (SetAnyInRange: from its first address)
            first, last = 0, size - 1
            if self.ip_range is not None:
                first = int(self.ip_range.network_address) - int(self.network.network_address)
                last = min(first + self.ip_range.num_addresses, size) - 1
            ordinal = next((o for o in range(max(first, 0), last + 1) if o not in self._used), None)
            if ordinal is None:
                raise IpamError(ERR_NO_IPS, "no_ips")
        else:
            addr = ipaddress.IPv4Address(ip)
            if addr not in self.network:
                raise IpamError(ERR_OUT_OF_RANGE, "out_of_range")
            ordinal = int(addr) - int(self.network.network_address)
            if ordinal in self._used:
                raise IpamError(ERR_IN_USE, "in_use")
        self._used.add(ordinal)
        return str(self.network[ordinal])

    def request_address(self, ip: str | None = None, *, network: str = "", network_id: str = "") -> str:
        """An endpoint address: `ip` if given (`--ip`), else the lowest free one."""
        if ip is not None and ipaddress.IPv4Address(ip) not in self.network:
            raise IpamError(
                f"Invalid address {ip}: It does not belong to any of this network's subnets", "out_of_range"
            )
        try:
            return self._take(ip)
        except IpamError as e:
            if e.kind == "no_ips" and ip is None:
                raise IpamError(
                    f"no available IPv4 addresses on this network's address pools: {network} ({network_id})",
                    "no_ips",
                ) from None
            raise

    def release_address(self, ip: str) -> None:
        """Give an address back; it is reused by the next request (lowest free first)."""
        addr = ipaddress.IPv4Address(ip)
        if addr not in self.network:
            raise IpamError(ERR_OUT_OF_RANGE, "out_of_range")
        self._used.discard(int(addr) - int(self.network.network_address))

    def _set_gateway(self, gateway: str | None) -> None:
        try:
            self.gateway = self._take(gateway)
        except IpamError as e:
            raise IpamError(f"failed to allocate gateway ({gateway or ''}): {e}", "gateway") from None


def _blocked(
    version: str, host_routes: Iterable[str | tuple[str, str]], nameservers: Iterable[str]
) -> list[IPv4Net]:
    """Host networks a default pool must not overlap: routes (19.03 any with a destination,
    28 on-link only) and IPv4 nameservers."""
    nets = [ipaddress.IPv4Network(f"{ns}/32") for ns in nameservers if ipaddress.ip_address(ns).version == 4]
    return _route_nets(version, host_routes) + nets


def _route_nets(version: str, host_routes: Iterable[str | tuple[str, str]]) -> list[IPv4Net]:
    nets = []
    for route in host_routes:
        dst, scope = (route, "link") if isinstance(route, str) else route
        if dst == "default":
            continue
        net = ipaddress.IPv4Network(dst, strict=False)
        if net.prefixlen == 0 or (version == "28" and scope != "link"):
            continue
        nets.append(net)
    return nets


class Ipam:
    """The daemon's IPv4 address space: allocated pools and, for 19.03, the rotating start index."""

    def __init__(self, version: str) -> None:
        _check(version)
        self.version = version
        self.pools: dict[str, Pool] = {}
        self.start_index = 0  # 19.03 predefinedStartIndices; reset by a daemon restart

    def _clashes(self, net: IPv4Net, extra: Iterable[IPv4Net] = ()) -> bool:
        return any(_overlaps(net, p.network) for p in self.pools.values()) or any(
            _overlaps(net, e) for e in extra
        )

    def _register(self, subnet: str) -> Pool:
        pool = Pool(self.version, subnet)
        self.pools[pool.subnet] = pool
        return pool

    def _next_predefined_1903(self, taken: list[IPv4Net]) -> str:
        n = len(DEFAULT_POOLS)
        start = self.start_index if self.start_index < n else 0
        rotated = DEFAULT_POOLS[start:] + DEFAULT_POOLS[:start]
        for i, subnet in enumerate(rotated):
            if not self._clashes(ipaddress.IPv4Network(subnet), taken):
                nxt = self.start_index + i + 1
                self.start_index = nxt if 0 <= nxt < n else 0
                return subnet
        raise IpamError(ERR_POOLS_EXHAUSTED["19.03"], "pools_exhausted")

    def allocate_pool(
        self,
        taken_subnets: Iterable[str] = (),
        host_routes: Iterable[str | tuple[str, str]] = (),
        nameservers: Iterable[str] = (),
        *,
        gateway: str | None = None,
    ) -> Pool:
        """A default-pool subnet for `docker network create` without `--subnet`, with its gateway.

        `host_routes` are main-table destinations ("10.0.0.0/8", taken as on-link) or
        (destination, scope) pairs; `taken_subnets` are extra subnets to treat as allocated.
        """
        taken = [ipaddress.IPv4Network(s, strict=False) for s in taken_subnets]
        blocked = _blocked(self.version, host_routes, nameservers)
        if self.version == "28":
            for subnet in DEFAULT_POOLS:
                if not self._clashes(ipaddress.IPv4Network(subnet), taken + blocked):
                    pool = self._register(subnet)
                    break
            else:
                raise IpamError(ERR_POOLS_EXHAUSTED["28"], "pools_exhausted")
        else:
            held: list[str] = []
            try:
                while True:
                    subnet = self._next_predefined_1903(taken)
                    pool = self._register(subnet)
                    if not any(_overlaps(pool.network, b) for b in blocked):
                        break
                    held.append(subnet)  # overlaps the host: keep it reserved while searching on
            finally:
                for subnet in held:
                    del self.pools[subnet]
        return self._with_gateway(pool, gateway)

    def _with_gateway(self, pool: Pool, gateway: str | None) -> Pool:
        try:
            pool._set_gateway(gateway)
        except IpamError:
            self.release_pool(pool.subnet)
            raise
        return pool

    def request_subnet(self, subnet: str, *, gateway: str | None = None, ip_range: str = "") -> Pool:
        """The pool for `--subnet` (no host-route check); overlap -> "Pool overlaps with ...".
        With `ip_range` (--ip-range) the gateway, unless given, and the addresses not asked for come
        from that sub-range, as libnetwork's sub-pools."""
        net = ipaddress.IPv4Network(subnet, strict=False)
        existing = self.pools.get(str(net))
        if existing is not None and self.version == "19.03":
            existing.refcount += 1  # 19.03 shares an identical pool; the bridge driver then refuses
            return existing
        if self._clashes(net):
            raise IpamError(ERR_POOL_OVERLAP, "overlap")
        pool = self._register(str(net))
        pool.ip_range = ipaddress.IPv4Network(ip_range, strict=False) if ip_range else None
        return self._with_gateway(pool, gateway)

    def default_bridge_pool(
        self,
        host_routes: Iterable[str | tuple[str, str]] = (),
        nameservers: Iterable[str] = (),
        *,
        bip: str | None = None,
    ) -> Pool:
        """docker0's pool: `bip` (--bip or docker0's address) else the first pool free on the host."""
        if bip is None:
            blocked = _blocked(self.version, host_routes, nameservers)
            free = [
                s for s in DEFAULT_POOLS if not any(_overlaps(ipaddress.IPv4Network(s), b) for b in blocked)
            ]
            if not free:
                raise IpamError(ERR_POOLS_EXHAUSTED[self.version], "pools_exhausted")
            return self.request_subnet(free[0])
        iface = ipaddress.IPv4Interface(bip)
        host_part = int(iface.ip) - int(iface.network.network_address)
        return self.request_subnet(str(iface.network), gateway=str(iface.ip) if host_part else None)

    def release_pool(self, subnet: str) -> None:
        """Release a pool (19.03 does not move the start index back)."""
        key = str(ipaddress.IPv4Network(subnet, strict=False))
        pool = self.pools.get(key)
        if pool is None:
            return
        pool.refcount -= 1
        if pool.refcount <= 0:
            del self.pools[key]

    def pool(self, subnet: str) -> Pool:
        """The allocated pool for a subnet (KeyError if none)."""
        return self.pools[str(ipaddress.IPv4Network(subnet, strict=False))]


def bridge_conflict_message(new_id: str, new_bridge: str, old_id: str, old_bridge: str) -> str:
    """19.03 bridge driver's refusal of a second network on an identical subnet."""
    return (
        f"cannot create network {new_id} ({new_bridge}): conflicts with network {old_id} ({old_bridge}): "
        "networks have overlapping IPv4"
    )


def _random_laa(rng: random.Random | None) -> bytes:
    rng = rng or random.SystemRandom()
    b = bytearray(rng.getrandbits(8) for _ in range(6))
    b[0] = (b[0] & 0xFE) | 0x02  # unicast, locally administered
    return bytes(b)


def _fmt(mac: bytes) -> str:
    return ":".join(f"{x:02x}" for x in mac)


def mac_for(version: str, ip: str, rng: random.Random | None = None) -> str:
    """Container MAC: 19.03 02:42 + the IPv4 bytes; 28 random locally administered unicast."""
    _check(version)
    if version == "19.03":
        return _fmt(b"\x02\x42" + ipaddress.IPv4Address(ip).packed)
    return _fmt(_random_laa(rng))


def bridge_mac(version: str, rng: random.Random | None = None) -> str:
    """Bridge MAC set at creation: 19.03 02:42 + 4 random bytes; 28 random locally administered unicast."""
    _check(version)
    if version == "19.03":
        rng = rng or random.SystemRandom()
        return _fmt(b"\x02\x42" + bytes(rng.getrandbits(8) for _ in range(4)))
    return _fmt(_random_laa(rng))


ON_USER_NETWORKS_ONLY = "user specified IP address is supported on user defined networks only"
USER_SUBNETS_ONLY = (
    "user specified IP address is supported only when connecting to networks with user configured subnets"
)
ALIASES_ON_USER_NETWORKS_ONLY = (
    "network-scoped alias is supported only for containers in user defined networks"
)


def static_address_error(
    version: str, ip: str, mode: str, net: Network | None, *, aliases: bool = False
) -> str:
    """Why the daemon refuses `--ip` (or, `aliases`, network-scoped aliases) on network `mode` (""
    when it accepts them): 19.03's validateNetworkingConfig (at start and connect: the first failed
    check), 28's validateEndpointSettings (at create and connect: every failed check, as its
    multierror joins them; a predefined network has no static subnet, as on a daemon that created
    docker0 itself)."""
    if not (ip or aliases) or mode.startswith("container:"):
        return ""
    predefined = mode in ("default", "bridge", "host", "none")
    user_subnet = net.subnet if net is not None and net.user_subnet else ""
    if version == "19.03":
        if predefined:
            return ON_USER_NETWORKS_ONLY if ip else ALIASES_ON_USER_NETWORKS_ONLY
        return USER_SUBNETS_ONLY if ip and net is not None and not user_subnet else ""
    errs = [ON_USER_NETWORKS_ONLY] if predefined and ip else []
    if predefined and aliases:
        errs.append(ALIASES_ON_USER_NETWORKS_ONLY)
    if ip:
        errs += _address_errors(ip, net is not None or predefined, user_subnet)
    if not errs:
        return ""
    return "invalid endpoint settings:\n" + (errs[0] if len(errs) == 1 else "* " + "\n* ".join(errs))


def _address_errors(ip: str, checked: bool, user_subnet: str) -> list[str]:
    """28's checks of a static IPv4 address: valid, and (`checked`: the network is known) in the
    network's own subnet."""
    errs = []
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:
        address = None
    if address is None or address.is_unspecified:
        errs.append(f"invalid IPv4 address: {ip}")
    if checked:
        if not user_subnet:
            errs.append(USER_SUBNETS_ONLY)
        elif address is None or address not in ipaddress.ip_network(user_subnet):
            errs.append(f"no configured subnet or ip-range contain the IP address {ip}")
    return errs
