"""iptables-save text as typed data: the one parser of netfilter rules (snapshots, Docker's programs).

`parse_iptables_save` reads `iptables-save [-c]` output into table -> chain -> `Chain`, each rule
parsed into its matches and target (`parse_iptables_rule`). `BUILTIN_CHAINS` lists every table's
built-in chains in the order iptables-nft-save prints them, `TABLE_ORDER` its order of tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from topology.plain import PlainData

__all__ = [
    "BUILTIN_CHAINS",
    "TABLE_ORDER",
    "Chain",
    "Match",
    "Rule",
    "parse_iptables_rule",
    "parse_iptables_save",
]

# Table order of iptables-nft-save; built-in chains per table in the order it prints them (the
# security table included: the kernel has it, though neither Docker nor the exercises use it).
TABLE_ORDER = ("mangle", "security", "raw", "filter", "nat")
BUILTIN_CHAINS = {
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
    "raw": ("PREROUTING", "OUTPUT"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}


@dataclass(frozen=True)
class Match(PlainData):
    """One option of an iptables rule: `! -i docker0`, `-m conntrack --ctstate NEW`, `--to-destination x`."""

    module: str | None  # the -m module (or, for target options, the target); None for -s/-d/-i/-o/-p...
    option: str  # "-s", "--dport", ...; "" for a -m module given without options
    negated: bool
    value: str  # the value as given (several words joined by one space); "" for flags


@dataclass(frozen=True)
class Rule(PlainData):
    """One rule of a chain, parsed from its iptables-save line."""

    chain: str
    number: int  # 1-based position in its chain
    packets: int
    bytes: int
    line: str  # the iptables-save line: "-A CHAIN ..."
    matches: tuple[Match, ...]
    target: str | None
    target_options: tuple[Match, ...]
    goto: bool = False  # -g instead of -j

    @classmethod
    def from_line(cls, line: str, number: int = 1, packets: int = 0, nbytes: int = 0) -> Rule:
        """The rule of an iptables-save line "-A CHAIN ..." (without its counters)."""
        chain, matches, target, topts, goto = parse_iptables_rule(line)
        return cls(chain, number, packets, nbytes, line, tuple(matches), target, tuple(topts), goto)

    @property
    def spec(self) -> str:
        """The rule without its leading "-A CHAIN", as `iptables -A CHAIN` takes it."""
        parts = self.line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    def match(self, option: str, module: str | None = None) -> Match | None:
        """The first match with this option (and module, when given)."""
        for m in self.matches:
            if m.option == option and (module is None or m.module == module):
                return m
        return None

    def target_option(self, option: str) -> str | None:
        """The value of one of the target's options (None when absent)."""
        for m in self.target_options:
            if m.option == option:
                return m.value
        return None


@dataclass(frozen=True)
class Chain(PlainData):
    """One chain of a table: its policy, its policy's counters and its rules in order."""

    name: str
    policy: str | None  # None for user-defined chains
    packets: int  # the policy's counters
    bytes: int
    rules: tuple[Rule, ...]


def _tokens(line: str) -> list[tuple[str, bool]]:
    """Split an iptables-save line into (token, was_quoted) the way iptables-save quotes."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        quoted = False
        while i < n and not line[i].isspace():
            c = line[i]
            if c == '"':
                quoted = True
                i += 1
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(line[i])
                    i += 1
                i += 1
            elif c == "\\" and i + 1 < n:
                buf.append(line[i + 1])
                i += 2
            else:
                buf.append(c)
                i += 1
        out.append(("".join(buf), quoted))
    return out


CORE_OPTIONS = {
    "-s": "-s", "--source": "-s", "--src": "-s",
    "-d": "-d", "--destination": "-d", "--dst": "-d",
    "-i": "-i", "--in-interface": "-i",
    "-o": "-o", "--out-interface": "-o",
    "-p": "-p", "--protocol": "-p",
    "-f": "-f", "--fragment": "-f",
}  # fmt: skip


def _is_option(tok: str, quoted: bool) -> bool:
    return not quoted and tok.startswith("-") and len(tok) > 1 and not tok[1:].replace(".", "").isdigit()


def parse_iptables_rule(line: str) -> tuple[str, list[Match], str | None, list[Match], bool]:
    """Parse "-A CHAIN ..." into (chain, matches, target, target options, goto)."""
    toks = _tokens(line)
    chain = ""
    matches: list[Match] = []
    target: str | None = None
    target_opts: list[Match] = []
    goto = False
    module: str | None = None
    module_used = True
    negated = False
    i = 0
    if toks and toks[0][0] in ("-A", "--append", "-I", "--insert") and len(toks) > 1:
        chain = toks[1][0]
        i = 2
    while i < len(toks):
        tok, quoted = toks[i]
        if tok == "!" and not quoted:
            negated = True
            i += 1
            continue
        if tok in ("-m", "--match") and not quoted and i + 1 < len(toks):
            if not module_used and module is not None:
                matches.append(Match(module, "", False, ""))
            module, module_used = toks[i + 1][0], False
            i += 2
            continue
        if tok in ("-j", "--jump", "-g", "--goto") and not quoted and i + 1 < len(toks):
            if not module_used and module is not None:
                matches.append(Match(module, "", False, ""))
                module_used = True
            target, goto = toks[i + 1][0], tok in ("-g", "--goto")
            i += 2
            neg = False
            while i < len(toks):
                opt, oq = toks[i]
                if opt == "!" and not oq:
                    neg, i = True, i + 1
                    continue
                j = i + 1
                while j < len(toks) and not _is_option(*toks[j]) and toks[j] != ("!", False):
                    j += 1
                target_opts.append(Match(target, opt, neg, " ".join(t for t, _ in toks[i + 1 : j])))
                neg, i = False, j
            break
        j = i + 1
        while j < len(toks) and not _is_option(*toks[j]) and toks[j] != ("!", False):
            j += 1
        value = " ".join(t for t, _ in toks[i + 1 : j])
        if tok in CORE_OPTIONS:
            matches.append(Match(None, CORE_OPTIONS[tok], negated, value))
        else:
            matches.append(Match(module, tok, negated, value))
            module_used = True
        negated = False
        i = j
    if not module_used and module is not None:
        matches.append(Match(module, "", False, ""))
    return chain, matches, target, target_opts, goto


_COUNTERS = re.compile(r"^\[(\d+):(\d+)\]\s*")


def parse_iptables_save(text: str, *, strict: bool = False) -> dict[str, dict[str, Chain]]:
    """Tables, chains and rules (with counters when saved with -c) from iptables-save output.

    Lenient by default (a snapshot reads whatever the tools printed: other lines are skipped, a rule
    of an undeclared chain declares it); `strict` raises ValueError on any line iptables-save would
    not print and on a rule of an undeclared chain (Docker's programs must not act on garbage)."""
    tables: dict[str, dict[str, dict]] = {}
    current: dict[str, dict] | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        packets = nbytes = 0
        if m := _COUNTERS.match(line):
            packets, nbytes = int(m.group(1)), int(m.group(2))
            line = line[m.end() :]
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), {})
        elif line == "COMMIT":
            current = None
        elif current is not None and line.startswith(":"):
            parts = line[1:].split()
            policy = parts[1] if len(parts) > 1 and parts[1] != "-" else None
            if len(parts) > 2 and (m := _COUNTERS.match(parts[2])):
                packets, nbytes = int(m.group(1)), int(m.group(2))
            current[parts[0]] = {"policy": policy, "packets": packets, "bytes": nbytes, "rules": []}
        elif current is not None and line.startswith(("-A ", "--append ")):
            chain, matches, target, topts, goto = parse_iptables_rule(line)
            if chain not in current and strict:
                raise ValueError(f"line {lineno}: rule for undeclared chain {chain}")
            c = current.setdefault(chain, {"policy": None, "packets": 0, "bytes": 0, "rules": []})
            number = len(c["rules"]) + 1
            c["rules"].append(
                Rule(chain, number, packets, nbytes, line, tuple(matches), target, tuple(topts), goto)
            )
        elif strict:
            raise ValueError(f"line {lineno}: unexpected iptables-save line: {raw!r}")
    return {
        t: {
            name: Chain(
                name=name,
                policy=c["policy"],
                packets=c["packets"],
                bytes=c["bytes"],
                rules=tuple(c["rules"]),
            )
            for name, c in chains.items()
        }
        for t, chains in tables.items()
    }
