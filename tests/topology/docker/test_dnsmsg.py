"""The embedded DNS server's messages and lookup rules (libnetwork's resolver and sandbox.ResolveName)."""

from __future__ import annotations

import struct
import threading

import pytest

from tests.polling import wait_for
from topology.docker import dnsmsg, etcfiles, resolver
from topology.docker.model import Container, Endpoint, Network


def query(name: str, qtype: int, qid: int = 0x1234, flags: int = 0x0100) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


def answers(reply: bytes) -> tuple[int, int, list[bytes]]:
    """(flags, answer count, the answers' rdata) of a reply to one of `query`'s messages."""
    flags, _qd, ancount = struct.unpack("!HHH", reply[2:8])
    off = reply.index(b"\0", 12) + 5
    rdatas = []
    for _ in range(ancount):
        pointer, _type, _cls, ttl, length = struct.unpack("!HHHIH", reply[off : off + 12])
        assert pointer == 0xC00C and ttl == dnsmsg.TTL
        rdatas.append(reply[off + 12 : off + 12 + length])
        off += 12 + length
    assert off == len(reply)
    return flags, ancount, rdatas


DIRECTORY = dnsmsg.Directory(
    networks={
        "front": {"web": ["172.18.0.2"], "www": ["172.18.0.2", "172.18.0.3"], "0123456789ab": ["172.18.0.2"]},
        "back": {"db": ["172.19.0.2"], "web": ["172.19.0.3"]},
    },
    reverse={"172.18.0.2": "web.front", "172.19.0.2": "db.back"},
    links={"database": "db"},
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web", {"172.18.0.2"}),  # the first network that knows it
        ("WEB.", {"172.18.0.2"}),  # case-insensitive, trailing dot
        ("web.back", {"172.19.0.3"}),  # name.network
        ("www", {"172.18.0.2", "172.18.0.3"}),  # an alias several containers share
        ("0123456789ab", {"172.18.0.2"}),  # the short id
        ("database", {"172.19.0.2"}),  # a --link alias on a user network
        ("example.test", None),  # forwarded
        ("db.front", None),
    ],
)
def test_lookup(name, expected):
    found = DIRECTORY.lookup(name)
    assert (set(found) if found else None) == expected


def test_a_answer_echoes_the_question_with_recursion_available():
    reply = dnsmsg.answer(dnsmsg.parse(query("web", dnsmsg.TYPE_A)), DIRECTORY)
    flags, count, rdatas = answers(reply)
    assert reply[:2] == b"\x12\x34" and flags == 0x8180  # QR, RD kept, RA; not authoritative
    assert count == 1 and rdatas == [bytes([172, 18, 0, 2])]


def test_known_name_without_ipv6_gets_an_empty_answer_not_a_forward():
    reply = dnsmsg.answer(dnsmsg.parse(query("web", dnsmsg.TYPE_AAAA)), DIRECTORY)
    assert answers(reply)[:2] == (0x8180, 0)
    assert dnsmsg.answer(dnsmsg.parse(query("example.test", dnsmsg.TYPE_AAAA)), DIRECTORY) is None


def test_ptr_names_container_dot_network():
    reply = dnsmsg.answer(dnsmsg.parse(query("2.0.18.172.in-addr.arpa", dnsmsg.TYPE_PTR)), DIRECTORY)
    assert answers(reply)[2] == [b"\x03web\x05front\x00"]
    outside = dnsmsg.parse(query("80.100.51.198.in-addr.arpa", dnsmsg.TYPE_PTR))
    assert dnsmsg.answer(outside, DIRECTORY) is None


def test_failure_is_servfail_for_the_same_question():
    q = dnsmsg.parse(query("example.test", dnsmsg.TYPE_A, qid=7))
    reply = dnsmsg.error_reply(q, dnsmsg.RCODE_SERVFAIL)
    assert reply[:2] == b"\x00\x07" and reply[3] & 0xF == dnsmsg.RCODE_SERVFAIL and reply[12:] == q.data[12:]


@pytest.mark.parametrize("data", [b"", b"\x00" * 11, query("a", 1, flags=0x8100), query("a", 1)[:-3]])
def test_unreadable_messages(data):
    with pytest.raises(dnsmsg.BadMessage):
        dnsmsg.parse(data)


def _container(name: str, cid: str, ip: str, network: str, aliases=(), hostname="") -> Container:
    c = Container(cid, name, "busybox", ["sh"], "", network, hostname or cid[:12], status="running")
    c.endpoints = [
        Endpoint(network, ip, 16, "172.18.0.1", "02:42:ac:12:00:02", "eth0", "veth1", list(aliases))
    ]
    return c


def test_directories_per_version():
    nets = {n: Network(n, n, "bridge", "") for n in ("bridge", "lab")}
    a = _container("a", "a" * 64, "172.18.0.2", "lab", aliases=["db"], hostname="box")
    b = _container("b", "b" * 64, "172.17.0.2", "bridge")
    old = resolver.directories("19.03", [a, b], nets)
    assert old[a.id].networks == {
        "lab": {"a": ["172.18.0.2"], "db": ["172.18.0.2"], "a" * 12: ["172.18.0.2"]}
    }
    assert old[a.id].reverse == {"172.18.0.2": "a.lab"}
    assert old[b.id].networks == {}  # the default bridge has no service records
    new = resolver.directories("28", [a, b], nets)
    assert new[a.id].lookup("box") == ["172.18.0.2"]  # 28's DNSNames include the hostname
    assert old[a.id].lookup("box") is None


def test_container_nat_rules_as_moby_leaves_them():
    assert resolver.nat_rules(45678, 34567) == (
        "*nat\n:DOCKER_OUTPUT - [0:0]\n:DOCKER_POSTROUTING - [0:0]\n"
        "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT\n"
        "-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING\n"
        "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 "
        "-j DNAT --to-destination 127.0.0.11:34567\n"
        "-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 "
        "-j DNAT --to-destination 127.0.0.11:45678\n"
        "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport 34567 -j SNAT --to-source :53\n"
        "-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport 45678 -j SNAT --to-source :53\n"
        "COMMIT\n"
    )


HOST = "nameserver 198.51.100.53\n"
HEADER = (
    "# Generated by Docker Engine.\n"
    "# This file can be edited; Docker Engine will not make further changes once it\n"
    "# has been modified.\n\n"
)


@pytest.mark.parametrize(
    ("version", "embedded", "host_mode", "expected"),
    [
        ("19.03", True, False, "nameserver 127.0.0.11\noptions ndots:0\n"),  # resolvconf.Build
        ("19.03", False, False, HOST),  # FilterResolvDNS: nothing local to drop
        # moby 28 internal/resolvconf goldens (TestRCTransformForIntNS, ...ForLegacyNw) with the header
        (
            "28",
            True,
            False,
            HEADER + "nameserver 127.0.0.11\noptions ndots:0\n\n"
            "# Based on host file: '/etc/resolv.conf' (internal resolver)\n"
            "# ExtServers: [host(198.51.100.53)]\n# Overrides: []\n# Option ndots from: internal\n",
        ),
        (
            "28",
            False,
            False,
            HEADER + HOST + "\n# Based on host file: '/etc/resolv.conf' (legacy)\n# Overrides: []\n",
        ),
        ("28", False, True, HEADER + HOST + "\n# Based on host file: '/etc/resolv.conf'\n# Overrides: []\n"),
    ],
)
def test_resolv_conf(version, embedded, host_mode, expected):
    assert etcfiles.resolv_conf(version, HOST, embedded=embedded, host_mode=host_mode) == expected


def test_hosts_with_links_before_the_own_line():
    text = etcfiles.hosts(
        "19.03",
        extra=[("172.17.0.2", etcfiles.link_names("db", "0123456789ab", "web"))],
        own=["172.17.0.3"],
        hostname="fedcba987654",
    )
    assert text.splitlines()[-2:] == ["172.17.0.2\tdb 0123456789ab web", "172.17.0.3\tfedcba987654"]
    assert etcfiles.link_names("web", "0123456789ab", "web") == "web 0123456789ab"  # alias == name: once


def test_forwarding_threads_are_bounded():
    server = resolver.EmbeddedDns.__new__(resolver.EmbeddedDns)  # no sandbox: only its thread slots
    server.slots = threading.BoundedSemaphore(2)
    release, refused = threading.Event(), []
    for n in range(3):
        server._in_thread(release.wait, refused=lambda n=n: refused.append(n))
    assert refused == [2]  # the third found no slot
    release.set()
    assert wait_for(lambda: server.slots.acquire(blocking=False))  # slots come back
