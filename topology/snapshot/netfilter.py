"""Parsing of `nft list ruleset` (the tables not made by iptables) and of the conntrack table."""

from __future__ import annotations

import re
from collections.abc import Iterable

from topology.snapshot.model import ConntrackEntry, NftTable
from topology.snapshot.values import int_or_none

# The prefix of the packet walk's own tables (topology.trace.arm: inet nslab_trace_<mark>), there only
# while a trace is armed: left out of snapshots, so that no graph, panel or check shows or counts one.
TRACE_TABLE = "nslab_trace"
_NFT_WARNING = re.compile(r"^# Warning: table (\S+) (\S+) is managed by iptables-nft")
_NFT_TABLE = re.compile(r"^table (\S+) (\S+) \{")


def parse_nft(
    text: str, iptables_tables: Iterable[str] = (), ip6tables_tables: Iterable[str] = ()
) -> tuple[str, list[NftTable]]:
    """Split `nft list ruleset` output (with its warnings) into the text of the tables not made by
    iptables-nft (the tables iptables-save and ip6tables-save listed, and those nft warns about),
    and the list of all tables (but the packet walk's `inet nslab_trace_*`)."""
    managed = {("ip", t) for t in iptables_tables} | {("ip6", t) for t in ip6tables_tables}
    blocks: list[tuple[str, str, list[str]]] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if m := _NFT_WARNING.match(line):
            managed.add((m.group(1), m.group(2)))
            continue
        if block is None:
            if m := _NFT_TABLE.match(line):
                block = [line]
                blocks.append((m.group(1), m.group(2), block))
            continue
        block.append(line)
        if line == "}":
            block = None
    blocks = [b for b in blocks if not (b[0] == "inet" and b[1].startswith(TRACE_TABLE))]
    tables = [NftTable(fam, name, (fam, name) in managed) for fam, name, _ in blocks]
    other = "\n".join("\n".join(lines) for fam, name, lines in blocks if (fam, name) not in managed)
    return (other + "\n" if other else ""), tables


def conntrack_nat(
    orig: tuple[str, str, int | None, int | None], reply: tuple[str, str, int | None, int | None]
) -> str | None:
    """The nat kind, "dnat", "snat", "both" or None, from an entry's (src, dst, sport, dport) tuples."""
    o_src, o_dst, o_sport, o_dport = orig
    r_src, r_dst, r_sport, r_dport = reply
    dnat = r_src != o_dst or (o_dport is not None and r_sport is not None and r_sport != o_dport)
    snat = r_dst != o_src or (o_sport is not None and r_dport is not None and r_dport != o_sport)
    if dnat and snat:
        return "both"
    return "dnat" if dnat else "snat" if snat else None


_TUPLE_KEYS = frozenset({"src", "dst", "sport", "dport", "type", "code", "id"})


def parse_conntrack(text: str) -> list[ConntrackEntry]:
    """Entries from `conntrack -L` (plain or `-o extended`) or /proc/net/nf_conntrack."""
    out = []
    for line in text.splitlines():
        toks = line.split()
        if len(toks) < 4 or "=" not in line:
            continue
        i = 0
        family = None
        if toks[0] in ("ipv4", "ipv6"):
            family, i = toks[0], 2
        if i + 1 >= len(toks) or not toks[i + 1].isdigit():
            continue
        proto, proto_num = toks[i], int(toks[i + 1])
        i += 2
        timeout = None
        if i < len(toks) and toks[i].isdigit():
            timeout, i = int(toks[i]), i + 1
        state = None
        if i < len(toks) and "=" not in toks[i] and not toks[i].startswith("["):
            state, i = toks[i], i + 1
        tuples: list[dict[str, str]] = [{}, {}]
        which = -1
        in_tuple = False
        flags: list[str] = []
        extra: dict[str, str] = {}
        for tok in toks[i:]:
            if tok.startswith("[") and tok.endswith("]"):
                flags.append(tok[1:-1])
                continue
            key, eq, value = tok.partition("=")
            if not eq:
                continue
            if key == "src" and which < 1:
                which += 1
                in_tuple = True
            if in_tuple and key in _TUPLE_KEYS:
                tuples[which].setdefault(key, value)
            else:
                in_tuple = False
                extra.setdefault(key, value)
        o, r = tuples

        def port(t: dict[str, str], k: str) -> int | None:
            return int(t[k]) if t.get(k, "").isdigit() else None

        orig = (o.get("src", ""), o.get("dst", ""), port(o, "sport"), port(o, "dport"))
        reply = (r.get("src", ""), r.get("dst", ""), port(r, "sport"), port(r, "dport"))
        out.append(
            ConntrackEntry(
                family=family or ("ipv6" if ":" in orig[0] else "ipv4"),
                proto=proto,
                proto_num=proto_num,
                timeout=timeout,
                state=state,
                orig_src=orig[0],
                orig_dst=orig[1],
                orig_sport=orig[2],
                orig_dport=orig[3],
                reply_src=reply[0],
                reply_dst=reply[1],
                reply_sport=reply[2],
                reply_dport=reply[3],
                flags=tuple(flags),
                mark=int_or_none(extra.get("mark", "0")) or 0,
                zone=int_or_none(extra["zone"]) if "zone" in extra else None,
                use=int_or_none(extra["use"]) if "use" in extra else None,
                nat=conntrack_nat(orig, reply) if r else None,
            )
        )
    return out
