"""What a walk reads after the capture, per namespace, in one command each: nft's rule handles (to
name a traced rule as iptables-save prints it), `iptables-save -c` (the rules and their counters now),
the forwarding and reverse-path sysctls, the listening sockets and the `ip route get` answers."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from topology.iptables_save import Chain, parse_iptables_save
from topology.snapshot.model import Socket, Sysctls
from topology.snapshot.sockets import parse_sockets
from topology.snapshot.sysctl import parse_sysctls

__all__ = ["Lookup", "lookup_script", "parse_lookup", "parse_handles"]

_MARK = "@@nslab-trace "
_TABLE = re.compile(r"^table (\S+) (\S+) \{")
_CHAIN = re.compile(r"^chain (\S+) \{")
_HOOK = re.compile(r"type \S+ hook (\S+)")
_HANDLE = re.compile(r"# handle (\d+)$")


@dataclass
class Lookup:
    """One namespace's answers: route per query, and nft's view of its chains."""

    routes: dict[str, str] = field(default_factory=dict)  # query (the `ip route get` arguments) -> answer
    # (family, table, chain, handle) -> the rule's position in its chain (1-based, as iptables-save orders)
    positions: dict[tuple[str, str, str, int], int] = field(default_factory=dict)
    hooks: dict[tuple[str, str, str], str] = field(default_factory=dict)  # base chain -> hook
    tables: dict[str, dict[str, Chain]] = field(default_factory=dict)  # iptables-save -c
    sysctls: Sysctls | None = None
    sockets: list[Socket] = field(default_factory=list)


_SECTIONS = {
    ":iptables": "iptables-save -c 2>/dev/null",
    ":sysctl": "grep -sH . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/rp_filter",
    ":sockets": "ss -H -tulnp 2>/dev/null",
}


def lookup_script(
    queries: list[str], *, rules: bool = True, sysctls: bool = True, sockets: bool = True
) -> str:
    """A shell script printing what is asked: the rules (nft's handles, iptables-save -c), the
    sysctls, the listening sockets, then each route query's answer."""
    wanted = {":iptables": rules, ":sysctl": sysctls, ":sockets": sockets}
    parts = ["nft -a list ruleset 2>/dev/null" if rules else "true"]
    parts += [
        f"echo {shlex.quote(_MARK + name)}; {command}" for name, command in _SECTIONS.items() if wanted[name]
    ]
    for q in queries:
        parts.append(f"echo {shlex.quote(_MARK + q)}; ip -o route get {q} 2>&1")
    return "; ".join(parts)


def parse_handles(text: str, into: Lookup) -> None:
    """Rule positions and base-chain hooks from `nft -a list ruleset`."""
    family = table = chain = None
    position = 0
    for raw in text.splitlines():
        line = raw.strip()
        if m := _TABLE.match(line):
            family, table, chain = m.group(1), m.group(2), None
        elif m := _CHAIN.match(line):
            chain, position = m.group(1), 0
        elif line == "}":
            chain = None
        elif chain and table and family:
            if m := _HOOK.search(line):
                into.hooks[(family, table, chain)] = m.group(1)
            elif m := _HANDLE.search(line):
                position += 1
                into.positions[(family, table, chain, int(m.group(1)))] = position


def parse_lookup(text: str) -> Lookup:
    """The Lookup of one namespace from `lookup_script`'s output."""
    found = Lookup()
    head, *answers = text.split(_MARK)
    parse_handles(head, found)
    for block in answers:
        query, _, answer = block.partition("\n")
        if query == ":iptables":
            found.tables = parse_iptables_save(answer)
            continue
        if query == ":sysctl":
            found.sysctls = parse_sysctls(answer)
            continue
        if query == ":sockets":
            found.sockets = parse_sockets(answer)
            continue
        route = " ".join(answer.replace("\\", " ").split())
        found.routes[query.strip()] = re.sub(r" (uid \d+ ?)?cache.*$", "", route)
    return found
