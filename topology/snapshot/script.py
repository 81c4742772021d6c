"""The collection script run in each namespace, and the parsing of its sectioned output."""

from __future__ import annotations

from dataclasses import dataclass

from topology.iptables_save import parse_iptables_save
from topology.snapshot.ip import (
    parse_addresses,
    parse_fdb,
    parse_ip_batch,
    parse_links,
    parse_neighbours,
    parse_routes,
)
from topology.snapshot.model import (
    Address,
    ConntrackEntry,
    FdbEntry,
    Link,
    Neighbour,
    Netfilter,
    Process,
    Route,
    Socket,
    Sysctls,
)
from topology.snapshot.netfilter import parse_conntrack, parse_nft
from topology.snapshot.processes import MARK_PREFIX, parse_processes
from topology.snapshot.sockets import parse_sockets
from topology.snapshot.sysctl import parse_sysctls
from topology.snapshot.values import int_or_none

_SYSCTL_FILES = (
    "/proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_local_port_range "
    "/proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables "
    "/proc/sys/net/netfilter/nf_conntrack_count "
    "/proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/route_localnet "
    "/proc/sys/net/ipv6/conf/*/accept_ra /proc/sys/net/ipv6/conf/*/disable_ipv6"
)


def collection_script(
    marker: str, *, fdb: bool = False, processes: bool = True, netfilter: bool = True, sockets: bool = True
) -> str:
    """The shell script that prints one namespace's state, section by section after "<marker> <name>"
    lines: one process per tool (the four ip queries share one), errors and noise dropped. Without
    `processes`, no `ps` (another namespace's script lists the same pid namespace); without
    `netfilter`, no nft, iptables and conntrack sections; without `sockets`, no `ss`."""
    ip_part = [
        f"M={marker}",
        'echo "$M ip"',
        "ip -d -j -force -batch - 2>/dev/null <<'EOF'",
        "addr show\nroute show table all\nneigh show\nnetns list-id\nEOF",
        'echo "$M sysctl"',
        f"grep -sH . {_SYSCTL_FILES}",  # one read() per file: sysctl files give nothing at offset > 0
    ]
    netfilter_part = [
        # nft first: iptables-save (of iptables-nft) prints only tables of the ip family, so when nft
        # lists none ("table ip NAME {" lines) it has nothing to print and does not run (likewise
        # ip6tables-save and the ip6 family).
        'N=$(nft list ruleset 2>&1; echo "@$?")',
        'echo "$M nft"',
        'printf "%s\\n" "${N%@*}"',
        'echo "$M iptables"',
        'case "${N##*@}:\n$N" in 0:*"\ntable ip "*|[!0]*) iptables-save -c 2>/dev/null ;; esac',
        'echo "$M ip6tables"',  # Docker 28 makes ip6tables chains too
        'case "${N##*@}:\n$N" in 0:*"\ntable ip6 "*|[!0]*) ip6tables-save -c 2>/dev/null ;; esac',
        'echo "$M conntrack"',
        # /proc/net/nf_conntrack belongs to the initial user namespace's root: conntrack(8) instead.
        '{ while IFS= read -r l; do printf "%s\\n" "$l"; done < /proc/net/nf_conntrack; } 2>/dev/null ||'
        # (dash reads byte by byte: only the count's first digit arrives, enough to tell 0.)
        ' { read -r n < /proc/sys/net/netfilter/nf_conntrack_count; [ "$n" = 0 ] ||'
        " conntrack -L -o extended; } 2>/dev/null",  # conntrack 1.4.7 dumps every family (AF_UNSPEC)
    ]
    lines = ip_part + (netfilter_part if netfilter else [])
    if sockets:
        lines += ['echo "$M sockets"', "ss -H -tulnp 2>/dev/null"]
    lines.append('echo "$M self $$"')
    if processes:
        lines += ['echo "$M processes"', "ps -e -o pid=,ppid=,netns=,args= 2>/dev/null"]
    if fdb:
        lines += ['echo "$M fdb"', "bridge -j fdb 2>/dev/null"]
    lines.append('echo "$M end"')
    return "\n".join(lines) + "\n"


def split_sections(text: str, marker: str) -> dict[str, str]:
    """The sections of a collection script's output; "self" holds the script's pid."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    prefix = marker + " "
    for line in text.splitlines():
        if line.startswith(prefix):
            name, _, arg = line[len(prefix) :].partition(" ")
            current = sections.setdefault(name, [])
            if arg:
                current.append(arg)
            continue
        if current is not None:
            current.append(line)
    return {k: "\n".join(v) + ("\n" if v else "") for k, v in sections.items()}


@dataclass
class _Parsed:
    links: list[Link]
    addresses: list[Address]
    routes: list[Route]
    neighbours: list[Neighbour]
    fdb: list[FdbEntry]
    sysctls: Sysctls
    netfilter: Netfilter
    conntrack: list[ConntrackEntry]
    sockets: list[Socket]
    processes: list[Process]
    nsids: dict[int, str]
    netns_inode: int
    complete: bool


def parse_collection(
    text: str, marker: str, *, own_netns_only: bool = False, inode: int = 0, processes: str | None = None
) -> _Parsed:
    """Parse one namespace's script output. `own_netns_only` keeps only the processes in the
    namespace's own network namespace (for views that show a whole sandbox); `inode` is that
    namespace's inode when the script's own process line does not tell it; `processes` is the `ps`
    output to use instead of the script's own (one of the same pid namespace)."""
    sec = split_sections(text, marker)
    if processes is not None:
        sec["processes"] = processes
    arrays = parse_ip_batch(sec.get("ip", ""))
    arrays += [[]] * (4 - len(arrays))
    addr_data, route_data, neigh_data, nsid_data = arrays[:4]
    all_procs = parse_processes(sec.get("processes", ""), exclude="")
    self_pid = int_or_none(sec.get("self", "").strip() or "x")
    inode = next((p.netns for p in all_procs if p.pid == self_pid and p.netns), None) or inode
    iptables = parse_iptables_save(sec.get("iptables", ""))
    ip6tables = parse_iptables_save(sec.get("ip6tables", ""))
    nft_text, nft_tables = parse_nft(sec.get("nft", ""), iptables, ip6tables)
    nsids = {e["nsid"]: e["name"] for e in nsid_data if isinstance(e, dict) and "nsid" in e and "name" in e}
    nsids.update(
        {e["nsid"]: "" for e in nsid_data if isinstance(e, dict) and "nsid" in e and "name" not in e}
    )
    return _Parsed(
        links=parse_links(addr_data),
        addresses=parse_addresses(addr_data),
        routes=parse_routes(route_data),
        neighbours=parse_neighbours(neigh_data),
        fdb=parse_fdb(sec.get("fdb", "")),
        sysctls=parse_sysctls(sec.get("sysctl", "")),
        netfilter=Netfilter(tables=iptables, nft=nft_text, nft_tables=tuple(nft_tables), tables6=ip6tables),
        conntrack=parse_conntrack(sec.get("conntrack", "")),
        sockets=parse_sockets(sec.get("sockets", "")),
        processes=parse_processes(
            sec.get("processes", ""), exclude=MARK_PREFIX, netns=inode if own_netns_only and inode else None
        ),
        nsids=nsids,
        netns_inode=inode,
        complete="end" in sec,
    )
