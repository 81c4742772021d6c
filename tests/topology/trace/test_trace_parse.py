"""The packet walk's parsers on real output (captured from a 19.03 lab by topology.trace.capture):
`nft -a monitor` traces (nft 1.0.6), `nft -a list ruleset` handles and `ip -o route get`."""

from __future__ import annotations

from pathlib import Path

from topology.trace.arm import Probe, arm_script
from topology.trace.lookup import parse_lookup
from topology.trace.nftrace import parse_visits
from topology.trace.walk import direction_of

DATA = Path(__file__).parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_masquerade_visits_of_the_docker_host():
    visits = parse_visits(read("masquerade-host.txt"))
    chains = [(v.table, v.chain, v.verdict) for v in visits]
    assert chains == [
        ("nslab_trace", "prerouting", "accept"),
        ("nat", "PREROUTING", "accept"),
        ("filter", "FORWARD", "accept"),
        ("nslab_trace", "forward", "accept"),
        ("nat", "POSTROUTING", "accept"),
        ("nslab_trace", "postrouting", "accept"),
        # the SYN-ACK: filter FORWARD's conntrack rule accepts it, no NAT chain (conntrack undoes it)
        ("nslab_trace", "prerouting", "accept"),
        ("filter", "FORWARD", "accept"),
        ("nslab_trace", "forward", "accept"),
        ("nslab_trace", "postrouting", "accept"),
    ]
    forward = next(v for v in visits if v.chain == "FORWARD")
    assert [(h.chain, h.verdict) for h in forward.hits] == [
        ("FORWARD", "jump DOCKER-USER"),
        ("DOCKER-USER", "return"),
        ("FORWARD", "jump DOCKER-ISOLATION-STAGE-1"),
        ("DOCKER-ISOLATION-STAGE-1", "jump DOCKER-ISOLATION-STAGE-2"),
        ("DOCKER-ISOLATION-STAGE-2", "return"),
        ("DOCKER-ISOLATION-STAGE-1", "return"),
        ("FORWARD", "accept"),
    ]
    assert (
        forward.hits[-1].text == 'iifname "docker0" oifname != "docker0" counter packets 18 bytes 1008 accept'
    )
    post = next(v for v in visits if v.table == "nslab_trace" and v.chain == "postrouting")
    assert post.packet["oif"] == "eth0"
    assert post.packet["ip saddr"] == "203.0.113.2"  # after MASQUERADE (the chain runs at priority 600)
    nat = next(v for v in visits if v.chain == "POSTROUTING")
    assert nat.packet["ip saddr"].startswith("172.17.0.")
    assert "masquerade" in nat.hits[0].text and nat.hits[0].handle is not None


def test_directions_split_request_and_reply():
    visits = parse_visits(read("masquerade-host.txt"))
    mark = int(visits[0].packet["tcp sport"])
    probe = Probe("tcp", "198.51.100.80", 80, mark)
    directions = [direction_of(v, probe) for v in visits]
    assert directions[0] == "request" and "reply" in directions
    reply = next(v for v, d in zip(visits, directions, strict=True) if d == "reply")
    assert reply.packet["tcp flags"] == "0x12" and reply.packet["iif"] == "eth0"


def test_isolation_drop_ends_the_visit_with_the_rule():
    visits = parse_visits(read("isolation-host.txt"))
    forward = next(v for v in visits if v.chain == "FORWARD")
    assert forward.verdict == "drop" and not forward.policy
    last = forward.hits[-1]
    assert (last.chain, last.verdict) == ("DOCKER-ISOLATION-STAGE-2", "drop")
    assert last.text.startswith('oifname "br-') and last.handle == 34


def test_dnat_changes_the_destination_between_prerouting_and_forward():
    visits = parse_visits(read("dnat-host.txt"))
    pre = next(v for v in visits if v.chain == "PREROUTING")
    fwd = next(v for v in visits if v.chain == "FORWARD")
    assert (pre.packet["ip daddr"], pre.packet["tcp dport"]) == ("203.0.113.2", "8080")
    assert (fwd.packet["ip daddr"], fwd.packet["tcp dport"]) == ("172.17.0.2", "80")
    assert [h.chain for h in pre.hits] == ["PREROUTING", "DOCKER"]
    assert "dnat to 172.17.0.2:80" in pre.hits[-1].text


def test_trace_table_of_outside_namespaces_only_has_markers():
    visits = parse_visits(read("masquerade-router.txt"))
    assert {v.table for v in visits} == {"nslab_trace"}
    assert {v.chain for v in visits} >= {"prerouting", "forward", "postrouting"}


def test_lookup_positions_hooks_and_routes():
    found = parse_lookup(read("lookup-host.txt"))
    assert found.hooks[("ip", "filter", "FORWARD")] == "forward"
    assert found.hooks[("ip", "nat", "POSTROUTING")] == "postrouting"
    assert found.positions[("ip", "filter", "DOCKER-ISOLATION-STAGE-2", 34)] == 1
    assert found.positions[("ip", "filter", "DOCKER-ISOLATION-STAGE-2", 17)] == 3
    assert found.routes["198.51.100.80 from 172.17.0.3 iif docker0"] == (
        "198.51.100.80 from 172.17.0.3 via 203.0.113.1 dev eth0"
    )
    stage2 = found.tables["filter"]["DOCKER-ISOLATION-STAGE-2"]
    assert stage2.rules[0].line.startswith("-A DOCKER-ISOLATION-STAGE-2 -o br-")
    assert stage2.rules[0].packets >= 1  # the traced packets it dropped
    assert found.tables["filter"]["FORWARD"].policy == "DROP"
    assert found.sysctls.ip_forward == 1 and found.sysctls.rp_filter["all"] == 0
    assert [(s.port, s.processes[0].name) for s in found.sockets] == [(8080, "docker-proxy")]


def test_lookup_of_a_container_reads_its_sockets_only():
    found = parse_lookup(read("lookup-web.txt"))
    (sock,) = found.sockets
    assert (sock.proto, sock.port, sock.processes[0].name) == ("tcp", 80, "busybox")
    assert found.tables == {} and found.sysctls is None and found.positions == {}


def test_arm_script_marks_only_the_probe():
    script = arm_script(Probe("tcp", "198.51.100.80", 80, 41234))
    assert "tcp sport 41234 tcp flags & (syn | rst) != 0 meta nftrace set 1" in script
    assert "tcp dport 41234 tcp flags & (syn | rst) != 0 meta nftrace set 1" in script
    assert script.count("priority -600") == 2 and script.count("priority 600") == 3
    assert "table inet nslab_trace_41234 {" in script


def test_snapshots_leave_the_trace_table_out():
    from topology.snapshot.netfilter import parse_nft

    ruleset = (
        "table inet mine {\n\tchain c {\n\t}\n}\n"
        + arm_script(Probe("icmp", "198.51.100.80", None, 7)).split("delete table inet nslab_trace_7\n")[1]
    )
    text, tables = parse_nft(ruleset)
    assert [(t.family, t.name) for t in tables] == [("inet", "mine")]
    assert "nslab_trace" not in text
