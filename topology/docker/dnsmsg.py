"""DNS messages as Docker's embedded DNS server reads and answers them, and its name lookup rules.

Pure functions: `parse` a query, `answer` it from a `Directory` of the networks a container is on
(libnetwork's sandbox.ResolveName/ResolveIP, moby 19.03 and 28), or build Docker's empty and
failure replies. What the directory does not know is forwarded upstream by the server.
"""

from __future__ import annotations

import ipaddress
import random
import struct
from dataclasses import dataclass, field

TYPE_A, TYPE_PTR, TYPE_MX, TYPE_AAAA = 1, 12, 15, 28
RCODE_SERVFAIL, RCODE_REFUSED = 2, 5
TTL = 600  # libnetwork's respTTL
PTR_SUFFIX = ".in-addr.arpa"


class BadMessage(ValueError):
    """Not a DNS query the server can read."""


@dataclass(frozen=True)
class Query:
    """A query's header fields and its (first) question."""

    data: bytes
    id: int
    flags: int
    name: str  # as asked, without the trailing dot
    qtype: int
    question_end: int  # offset just past the question


def parse(data: bytes) -> Query:
    """Read a query's header and question."""
    if len(data) < 12:
        raise BadMessage("short message")
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if flags & 0x8000 or qdcount < 1:
        raise BadMessage("not a query")
    labels, off = [], 12
    while True:
        if off >= len(data):
            raise BadMessage("truncated name")
        length = data[off]
        if length == 0:
            off += 1
            break
        if length > 63 or off + 1 + length > len(data):
            raise BadMessage("bad label")
        labels.append(data[off + 1 : off + 1 + length].decode("ascii", "replace"))
        off += 1 + length
    if off + 4 > len(data):
        raise BadMessage("truncated question")
    (qtype,) = struct.unpack("!H", data[off : off + 2])
    return Query(data, qid, flags, ".".join(labels), qtype, off + 4)


def _header(q: Query, *, rcode: int = 0, answers: int = 0) -> bytes:
    """miekg/dns SetReply plus libnetwork's RecursionAvailable: opcode, RD and CD kept."""
    flags = 0x8000 | (q.flags & 0x7910) | 0x0080 | rcode
    return struct.pack("!HHHHHH", q.id, flags, 1, answers, 0, 0)


def empty_reply(q: Query) -> bytes:
    """NOERROR without answers (a known name without this type of record)."""
    return _header(q) + q.data[12 : q.question_end]


def error_reply(q: Query, rcode: int) -> bytes:
    """A reply without answers and with `rcode`: 28's SERVFAIL when no upstream server answered,
    REFUSED past its limit of concurrent forwarded queries."""
    return _header(q, rcode=rcode) + q.data[12 : q.question_end]


def _name_bytes(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def _reply(q: Query, records: list[tuple[int, bytes]]) -> bytes:
    out = _header(q, answers=len(records)) + q.data[12 : q.question_end]
    for rtype, rdata in records:  # each owner name points at the question's (offset 12)
        out += struct.pack("!HHHIH", 0xC00C, rtype, 1, TTL, len(rdata)) + rdata
    return out


@dataclass
class Directory:
    """What one container's resolver knows: its networks' names, in the order it joined them.

    `networks` maps a network name to {lowercase name: [addresses]} (container names, network
    aliases, short ids); `reverse` maps an address to its PTR name (`name.network`); `links` the
    container's own `--link` aliases on user networks (alias -> container name).
    """

    networks: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    reverse: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> list[str] | None:
        """sandbox.ResolveName's IPv4 answer: `name`, or `name` on network `suffix` for each dot."""
        name = name.rstrip(".").lower()
        tries = [(name, "")]
        rest = name
        while "." in rest:
            cut = rest.rindex(".")
            tries.append((name[:cut], name[cut + 1 :]))
            rest = rest[:cut]
        for req, network in tries:
            for alias in (True, False):
                for net, names in self.networks.items():
                    if network and network != net:
                        continue
                    if alias:
                        if req not in self.links:
                            continue
                        found = names.get(self.links[req].lower())
                    elif req in self.links:
                        continue
                    else:
                        found = names.get(req)
                    if found:
                        return list(dict.fromkeys(found))
        return None


def answer(q: Query, directory: Directory) -> bytes | None:
    """The embedded server's own reply to `q`, or None when it is to be forwarded upstream."""
    if q.qtype in (TYPE_A, TYPE_AAAA, TYPE_MX):
        found = directory.lookup(q.name)
        if not found:
            return None
        if q.qtype != TYPE_A:  # known, without IPv6 (no IPv6 networks here) or MX: empty NOERROR
            return empty_reply(q)
        random.shuffle(found)
        return _reply(q, [(TYPE_A, ipaddress.IPv4Address(ip).packed) for ip in found])
    if q.qtype == TYPE_PTR and q.name.lower().endswith(PTR_SUFFIX):
        reversed_ip = q.name[: -len(PTR_SUFFIX)]
        ip = ".".join(reversed(reversed_ip.split(".")))
        host = directory.reverse.get(ip)
        return _reply(q, [(TYPE_PTR, _name_bytes(host))]) if host else None
    return None
