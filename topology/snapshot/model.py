"""The snapshot's typed data: one frozen dataclass per kind of kernel state, JSON-serialisable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from topology.iptables_save import Chain
from topology.plain import PlainData, plain


@dataclass(frozen=True)
class Namespace(PlainData):
    """A network namespace of the sandbox."""

    name: str  # host | router | remote | client | a container's name
    kind: str  # host | outside | container
    netns_inode: int  # the inode of its /proc/<pid>/ns/net (0 if it could not be read)
    containers: tuple[str, ...] = ()  # names of the containers using this network namespace


@dataclass(frozen=True)
class Link(PlainData):
    """A network interface (`ip -d link`)."""

    name: str
    ifindex: int
    kind: str  # veth | bridge | loopback | ether | dummy | ... (linkinfo kind, else link type)
    master: str | None
    mac: str
    state: str  # administrative state: UP when the UP flag is set, else DOWN
    operstate: str  # the kernel's operational state: UP | DOWN | UNKNOWN | LOWERLAYERDOWN | ...
    mtu: int
    flags: tuple[str, ...]
    peer_ifindex: int | None = None  # veth: the peer's ifindex (in the peer's namespace)
    peer_namespace: str | None = None  # veth: the peer's namespace, when it could be resolved
    peer_name: str | None = None
    link_netnsid: int | None = None  # veth: the peer namespace's nsid as this namespace numbers it
    port_state: str | None = None  # bridge port: forwarding | disabled | learning | ...


@dataclass(frozen=True)
class Address(PlainData):
    ifname: str
    family: str  # inet | inet6
    address: str
    prefixlen: int
    broadcast: str | None
    scope: str
    label: str | None = None


@dataclass(frozen=True)
class Route(PlainData):
    """A route: the `route -n` columns, then the `ip route` fields."""

    destination: str  # network address ("0.0.0.0" for default)
    gateway: str  # "0.0.0.0" when none; "-" for reject routes, as route -n prints them
    genmask: str
    flags: str  # as route -n prints them: U, G, H, ! (see route_flags)
    metric: int
    ref: int
    use: int
    iface: str  # the device; "*" when none; "-" for reject routes, as route -n prints them
    family: str  # inet | inet6
    dst: str  # as ip route prints it: "default", "10.0.0.0/8", "10.0.0.1"
    prefixlen: int
    via: str | None  # the next hop (first one for multipath routes)
    dev: str | None
    table: str  # main | local | <number>
    protocol: str  # kernel | boot | static | dhcp | redirect | ...
    scope: str  # global | link | host | ...
    type: str  # unicast | local | broadcast | unreachable | prohibit | blackhole | throw | ...
    prefsrc: str | None
    route_flags: tuple[str, ...] = ()  # ip's next-hop flags: linkdown, onlink, dead, ...


@dataclass(frozen=True)
class FdbEntry(PlainData):
    """A bridge forwarding database entry (`bridge fdb`)."""

    mac: str
    ifname: str
    master: str | None
    vlan: int | None
    state: str  # permanent | static | "" (learned) | ...
    flags: tuple[str, ...]
    permanent: bool
    is_self: bool  # the "self" flag: an entry of the device's own table, not its master's


@dataclass(frozen=True)
class Neighbour(PlainData):
    ip: str
    mac: str | None
    ifname: str
    state: str  # REACHABLE | STALE | FAILED | PERMANENT | ... (several joined by ",")
    family: str


@dataclass(frozen=True)
class Sysctls(PlainData):
    ip_forward: int | None
    ip_local_port_range: tuple[int, int] | None
    bridge_nf_call_iptables: int | None  # None when br_netfilter is not loaded
    bridge_nf_call_ip6tables: int | None
    rp_filter: dict[str, int]  # per interface, with "all" and "default"
    route_localnet: dict[str, int]
    accept_ra: dict[str, int]  # IPv6
    disable_ipv6: dict[str, int]  # with "all" and "default"
    conntrack_count: int | None = None


@dataclass(frozen=True)
class NftTable(PlainData):
    family: str
    name: str
    iptables: bool  # made by iptables-nft (its rules are in `tables`, or `tables6` for family ip6)


@dataclass(frozen=True)
class Netfilter(PlainData):
    tables: dict[str, dict[str, Chain]]  # iptables-save: table -> chain -> Chain
    nft: str  # `nft list ruleset` text of the tables not made by iptables
    nft_tables: tuple[NftTable, ...]
    tables6: dict[str, dict[str, Chain]] = field(default_factory=dict)  # ip6tables-save, likewise


@dataclass(frozen=True)
class ConntrackEntry(PlainData):
    family: str  # ipv4 | ipv6
    proto: str  # tcp | udp | icmp | ...
    proto_num: int
    timeout: int | None
    state: str | None  # TCP/SCTP/DCCP state; None for stateless protocols
    orig_src: str
    orig_dst: str
    orig_sport: int | None
    orig_dport: int | None
    reply_src: str
    reply_dst: str
    reply_sport: int | None
    reply_dport: int | None
    flags: tuple[str, ...]  # ASSURED, UNREPLIED, OFFLOAD, ...
    mark: int
    zone: int | None
    use: int | None
    nat: str | None  # "dnat" | "snat" | "both" | None, from comparing the two tuples


@dataclass(frozen=True)
class SocketUser(PlainData):
    name: str
    pid: int
    fd: int


@dataclass(frozen=True)
class Socket(PlainData):
    """A listening TCP or unconnected UDP socket (`ss -tulnp`)."""

    proto: str  # tcp | udp
    state: str  # LISTEN | UNCONN
    address: str  # "0.0.0.0", "::", "*", "127.0.0.1"
    port: int
    interface: str | None  # bound device ("127.0.0.53%lo")
    recv_q: int
    send_q: int
    processes: tuple[SocketUser, ...]


@dataclass(frozen=True)
class Process(PlainData):
    pid: int  # as seen from the namespace's pid namespace (the student's for "host")
    ppid: int  # 0 when the parent is outside that pid namespace
    netns: int | None  # inode of its network namespace
    command: str


@dataclass(frozen=True)
class Snapshot(PlainData):
    sandbox: str
    taken_at: str
    duration_ms: float
    namespaces: tuple[Namespace, ...]
    links: dict[str, tuple[Link, ...]]
    addresses: dict[str, tuple[Address, ...]]
    routes: dict[str, tuple[Route, ...]]
    neighbours: dict[str, tuple[Neighbour, ...]]
    fdb: dict[str, tuple[FdbEntry, ...]]
    sysctls: dict[str, Sysctls]
    netfilter: dict[str, Netfilter]
    conntrack: dict[str, tuple[ConntrackEntry, ...]]
    sockets: dict[str, tuple[Socket, ...]]
    processes: dict[str, tuple[Process, ...]]
    errors: dict[str, str] = field(default_factory=dict)
    docker: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = plain(self)
        if d["docker"] is None:
            del d["docker"]
        return d
