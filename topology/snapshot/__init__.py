"""A sandbox's kernel state as typed, JSON-serialisable data, read from the kernel.

Nothing here is taken from a model of what should be there: every value comes from a tool that asks
the kernel (`ip`, `bridge`, `iptables-save`, `nft`, `ss`, `ps`) or from a kernel file (/proc/sys,
/proc/net/nf_conntrack), run inside the namespace it describes.

Collection runs ONE shell script per network namespace (see `collection_script`); the scripts of all
namespaces run concurrently and print their sections between marker lines. Parsing is done by pure
functions (`parse_links`, `parse_routes`, `route_flags`, `parse_iptables_save`, `parse_conntrack`, ...)
that take the tools' text, so they can be tested on literal inputs.

Modules: `model` (the dataclasses), `ip`, `sysctl`, `netfilter` (nft, conntrack), `sockets`,
`processes` (the parsers), `veth` (peers across namespaces), `script` (what runs in a namespace and
its output), `collect` (`take`, `snapshot`). iptables-save is parsed by `topology.iptables_save`.

Namespaces: "host" (the student's Docker host; commands run as the student's shell would, so pids are
the student's), the outside world "router", "remote", "client", and one per container network
namespace, named after its container (containers that share a network namespace through
`--network host` or `--network container:<id>` are listed on the namespace they share, never collected
twice).
"""

from topology.iptables_save import Chain, Match, Rule, parse_iptables_rule, parse_iptables_save
from topology.snapshot.collect import snapshot, take
from topology.snapshot.ip import (
    format_route_n,
    parse_addresses,
    parse_fdb,
    parse_ip_batch,
    parse_links,
    parse_neighbours,
    parse_routes,
    route_flags,
)
from topology.snapshot.model import (
    Address,
    ConntrackEntry,
    FdbEntry,
    Link,
    Namespace,
    Neighbour,
    Netfilter,
    NftTable,
    Process,
    Route,
    Snapshot,
    Socket,
    SocketUser,
    Sysctls,
)
from topology.snapshot.netfilter import conntrack_nat, parse_conntrack, parse_nft
from topology.snapshot.processes import MARK_PREFIX, parse_processes
from topology.snapshot.script import collection_script, parse_collection, split_sections
from topology.snapshot.sockets import parse_sockets
from topology.snapshot.sysctl import parse_sysctls
from topology.snapshot.veth import resolve_veth_peers

__all__ = [
    "Address",
    "Chain",
    "ConntrackEntry",
    "FdbEntry",
    "Link",
    "MARK_PREFIX",
    "Match",
    "Namespace",
    "Neighbour",
    "Netfilter",
    "NftTable",
    "Process",
    "Route",
    "Rule",
    "Snapshot",
    "Socket",
    "SocketUser",
    "Sysctls",
    "collection_script",
    "conntrack_nat",
    "format_route_n",
    "parse_addresses",
    "parse_collection",
    "parse_conntrack",
    "parse_fdb",
    "parse_ip_batch",
    "parse_iptables_rule",
    "parse_iptables_save",
    "parse_links",
    "parse_neighbours",
    "parse_nft",
    "parse_processes",
    "parse_routes",
    "parse_sockets",
    "parse_sysctls",
    "resolve_veth_peers",
    "route_flags",
    "snapshot",
    "split_sections",
    "take",
]
