"""Netfilter rules compared by meaning (`rule_key`, `covers`), and found in a snapshot (`find_rule`)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from topology.checks.lookup import as_net
from topology.iptables_save import BUILTIN_CHAINS, parse_iptables_rule

_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "58": "ipv6-icmp"}
_SERVICES = {"http": "80", "https": "443", "ssh": "22", "domain": "53", "www": "80"}
_ICMP_TYPES = {
    "any": "any",
    "echo-reply": "0",
    "pong": "0",
    "destination-unreachable": "3",
    "echo-request": "8",
    "ping": "8",
    "time-exceeded": "11",
    "port-unreachable": "3/3",
    "host-unreachable": "3/1",
}
_OPTION_ALIASES = {
    "--destination-port": "--dport",
    "--source-port": "--sport",
    "--destination-ports": "--dports",
    "--source-ports": "--sports",
    "--state": "--ctstate",
}
_PORT_OPTIONS = frozenset({"--dport", "--sport", "--tcp-flags", "--syn", "--tcp-option"})
_ADDRESS_OPTIONS = frozenset({"-s", "-d", "--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"})
_IGNORED_MODULES = frozenset({"comment"})
TERMINAL = frozenset(
    {"ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"}
)

MatchKey = tuple[str, str, bool, str]  # (module or "", option, negated, value)
RuleKey = tuple[frozenset, str, frozenset, bool]  # (matches, target, target options, goto)


def _addr_value(v: str) -> str:
    parts = []
    for x in v.split(","):
        n = as_net(x.strip())
        parts.append(str(n) if n is not None else x.strip())
    return ",".join(sorted(parts))


def _port_value(v: str) -> str:
    def one(p: str) -> str:
        lo, sep, hi = p.partition(":")
        lo, hi = _SERVICES.get(lo, lo), _SERVICES.get(hi, hi)
        if sep and lo == hi:
            return lo
        return f"{lo}{sep}{hi}"

    return ",".join(sorted((one(p.strip()) for p in v.split(",")), key=lambda s: (len(s), s)))


def _match_key(module: str | None, option: str, negated: bool, value: str, proto: str) -> MatchKey | None:
    module = module or ""
    if module == "state":
        module = "conntrack"
    option = _OPTION_ALIASES.get(option, option)
    if module in _IGNORED_MODULES and option != "--comment":
        module = ""  # the parser credits options to the last -m; a comment takes only --comment
    if module in _IGNORED_MODULES or not option:
        return None  # a bare `-m tcp`: implied by -p; comments carry no meaning
    if option == "-p":
        value = _PROTOCOLS.get(value.lower(), value.lower())
        if value == "all" and not negated:
            return None
    elif option in _ADDRESS_OPTIONS:
        value = _addr_value(value)
    elif option in ("--dport", "--sport", "--dports", "--sports", "--ports"):
        value = _port_value(value)
    elif option in ("--ctstate", "--ctstatus", "--dst-type", "--src-type"):
        value = ",".join(sorted(s.strip().upper() for s in value.split(",")))
    elif option == "--icmp-type":
        value = _ICMP_TYPES.get(value, value)
    if option in _PORT_OPTIONS:
        module = proto or module  # `-p tcp --dport 80` means `-p tcp -m tcp --dport 80`
    if option == "--icmp-type" and not module:
        module = "icmp"
    return (module, option, negated, value)


def _target_options(target: str | None, opts: Iterable) -> frozenset:
    out = set()
    for m in opts:
        option, value = _field(m, "option"), str(_field(m, "value"))
        if option == "--to":
            option = {"DNAT": "--to-destination", "SNAT": "--to-source"}.get(target or "", option)
        if option in ("--to-destination", "--to-source"):
            value = ",".join(sorted(value.split(",")))
        out.add((option, bool(_field(m, "negated")), value))
    if target == "REJECT" and not any(o == "--reject-with" for o, _, _ in out):
        out.add(("--reject-with", False, "icmp-port-unreachable"))
    return frozenset(out)


def _field(m: Any, name: str) -> Any:
    return m.get(name) if isinstance(m, Mapping) else getattr(m, name)


def rule_key(
    matches: Iterable, target: str | None, target_options: Iterable = (), goto: bool = False
) -> RuleKey:
    """A rule's meaning as a comparable value (see the module's docstring)."""
    matches = list(matches)
    proto = next(
        (str(_field(m, "value")).lower() for m in matches if _field(m, "option") in ("-p", "--protocol")), ""
    )
    proto = _PROTOCOLS.get(proto, proto)
    keys = set()
    for m in matches:
        k = _match_key(
            _field(m, "module"),
            _field(m, "option"),
            bool(_field(m, "negated")),
            str(_field(m, "value")),
            proto,
        )
        if k is not None:
            keys.add(k)
    return frozenset(keys), str(target or ""), _target_options(target, target_options), bool(goto)


def spec_key(spec: str) -> RuleKey | None:
    """The meaning of a rule written as in a check (`-p tcp --dport 80 -j ACCEPT`); None if unreadable."""
    spec = spec.strip()
    if not spec:
        return None
    try:
        words = shlex.split(spec)  # the shell's quoting, as the student would type the rule
        line = " ".join(f'"{w}"' if not w or any(c.isspace() for c in w) else w for w in words)
        _, matches, target, topts, goto = parse_iptables_rule(line)
    except (ValueError, IndexError):
        return None
    return rule_key(matches, target, topts, goto)


def snapshot_rule_key(rule: Mapping) -> RuleKey:
    return rule_key(
        rule.get("matches") or (),
        rule.get("target"),
        rule.get("target_options") or (),
        bool(rule.get("goto")),
    )


def port_range(value: str) -> tuple[int, int] | None:
    """The (first, last) ports of a port or a range `a:b`; None for a list."""
    if "," in value:
        return None
    lo, sep, hi = value.partition(":")
    try:
        return (int(lo or 0), int(hi or 65535)) if sep else (int(lo), int(lo))
    except ValueError:
        return None


def _implied(m: MatchKey, by: frozenset) -> bool:
    """True when every packet that matches all of `by` also matches `m`."""
    if m in by:
        return True
    module, option, negated, value = m
    for om, oo, on, ov in by:
        if oo != option or om != module or on:
            continue
        if option in _ADDRESS_OPTIONS:
            a, b = as_net(value), as_net(ov)
            if a is None or b is None or a.version != b.version:
                continue
            if (not negated and b.subnet_of(a)) or (negated and not a.overlaps(b)):
                return True
        elif option in ("-i", "-o"):
            if not negated and value.endswith("+") and ov.startswith(value[:-1]):
                return True
            if negated and not value.endswith("+") and not ov.endswith("+") and ov != value:
                return True
        elif option in ("--dport", "--sport") and not negated:
            a, b = port_range(value), port_range(ov)
            if a and b and a[0] <= b[0] and b[1] <= a[1]:
                return True
        elif option == "--ctstate" and not negated and set(ov.split(",")) <= set(value.split(",")):
            return True
    return False


def covers(earlier: RuleKey, later: RuleKey) -> bool:
    """True when `earlier` provably matches every packet `later` matches."""
    return all(_implied(m, later[0]) for m in earlier[0])


def blocked_by(rules: list[Mapping], index: int) -> Mapping | None:
    """The earlier rule of the chain that takes all of rule `index`'s packets elsewhere, if any."""
    key = snapshot_rule_key(rules[index])
    for r in rules[:index]:
        if r.get("goto") or r.get("target") not in TERMINAL:
            continue
        rk = snapshot_rule_key(r)
        if (rk[1], rk[2]) == (key[1], key[2]) and not key[3]:
            continue  # same verdict: the later rule's outcome happens anyway
        if covers(rk, key):
            return r
    return None


def chain_of(snap: Mapping, ns: str, table: str, chain: str) -> Mapping | None:
    """A chain of a namespace's table; a built-in chain of a table never used there is empty (ACCEPT)."""
    nf = (snap.get("netfilter") or {}).get(ns)
    if nf is None:
        return None
    tables = nf.get("tables") or {}
    if table not in tables and chain in BUILTIN_CHAINS.get(table, ()):
        return {"name": chain, "policy": "ACCEPT", "packets": 0, "bytes": 0, "rules": []}
    return tables.get(table, {}).get(chain)


def find_rule(snap: Mapping, ns: str, table: str, chain: str, spec: str) -> tuple[int, Mapping] | None:
    """The first rule of a chain that means the same as `spec`, with its index."""
    key = spec_key(spec)
    c = chain_of(snap, ns, table, chain)
    if key is None or c is None:
        return None
    for i, r in enumerate(c.get("rules") or ()):
        if snapshot_rule_key(r) == key:
            return i, r
    return None


def rule_spec(rule: Mapping) -> str:
    """A snapshot rule's line without its leading "-A CHAIN"."""
    line = str(rule.get("line", ""))
    return line.split(" ", 2)[2] if line.startswith("-A ") and line.count(" ") >= 2 else line
