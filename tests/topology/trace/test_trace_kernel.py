"""Packet walks on the real kernel, through the test daemon's control socket (ClientAccess): a
container to the remote server through MASQUERADE, the external client to a published port through
DNAT, two user-defined networks kept apart by DOCKER-ISOLATION-STAGE-2, and ip_forward off. The
student's rules are as they were afterwards, and no trace table is left."""

from __future__ import annotations

import re

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh
from topology.client import ClientAccess
from topology.trace import text, trace

pytestmark = pytest.mark.kernel


def kinds(walk, direction="request"):
    return [s.kind for s in walk.steps if s.direction == direction]


def netfilter(walk, chain):
    return [s for s in walk.steps if s.kind == "netfilter" and s.chain == chain]


def ruleset(lab) -> tuple[str, str]:
    """iptables-save and nft list ruleset, without counters (the traced packet counts)."""
    saved = sh(lab, "iptables-save | grep -v '^#'").stdout
    nft = sh(lab, "nft list ruleset").stdout
    return re.sub(r"\[\d+:\d+\]", "", saved), re.sub(r"packets \d+ bytes \d+", "", nft)


@pytest.fixture(params=["lab", "lab28"])
def any_lab(request):
    return request.getfixturevalue(request.param)


def test_container_to_remote_through_masquerade(any_lab, client):
    lab = any_lab
    assert docker(lab, "run -d --name box busybox sleep 100000").returncode == 0
    before = ruleset(lab)
    walk = trace(ClientAccess(lab.sandbox.id, client), "box", "198.51.100.80", 80, "tcp")
    assert walk.verdict == "delivered" and walk.reason == "deliver.socket" and walk.answered
    assert walk.path == ("box", "host", "router", "remote")
    assert walk.reply_path == ("remote", "router", "host", "box")
    assert kinds(walk)[:3] == ["route", "veth", "bridge"]
    masq = [s for s in walk.steps if s.chain == "POSTROUTING" and s.kind == "netfilter" and s.rule]
    assert masq[0].rule == "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"
    assert masq[0].ns == "host" and masq[0].hook == "postrouting" and masq[0].packets >= 1
    (nat,) = [s for s in walk.steps if s.kind == "nat" and s.direction == "request"]
    assert nat.nat["before"]["src"] == "172.17.0.2" and nat.nat["after"]["src"] == "203.0.113.2"
    assert nat.message["code"] == "nat.snat"
    (reverse,) = [s for s in walk.steps if s.kind == "nat" and s.direction == "reply"]
    assert reverse.nat["after"]["dst"] == "172.17.0.2"
    deliver = next(s for s in walk.steps if s.kind == "deliver")
    assert deliver.ns == "remote" and deliver.process
    assert ruleset(lab) == before  # nothing of the trace is left, nothing of the student's moved


def test_client_to_published_port_through_dnat(any_lab, client):
    lab = any_lab
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    wait_for(lambda: sh(lab, "curl -s -m 2 http://172.17.0.2/").returncode == 0)
    walk = trace(ClientAccess(lab.sandbox.id, client), "client", "203.0.113.2", 8080, "tcp")
    assert walk.verdict == "delivered"
    assert walk.path == ("client", "router", "host", "web")
    (dnat,) = [s for s in walk.steps if s.kind == "nat" and s.direction == "request"]
    assert dnat.message["code"] == "nat.dnat" and dnat.ns == "host"
    assert dnat.nat["before"] == {
        "src": "192.0.2.50",
        "dst": "203.0.113.2",
        "sport": dnat.nat["before"]["sport"],
        "dport": 8080,
    }
    assert (dnat.nat["after"]["dst"], dnat.nat["after"]["dport"]) == ("172.17.0.2", 80)
    rules = [s.rule for s in walk.steps if s.kind == "netfilter" and s.direction == "request"]
    assert any(r and "-j DNAT --to-destination 172.17.0.2:80" in r for r in rules)
    assert any(r and r.startswith("-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp") for r in rules)
    deliver = next(s for s in walk.steps if s.kind == "deliver")
    assert deliver.ns == "web" and deliver.packet["dport"] == 80


def test_user_networks_are_isolated(any_lab, client):
    """19.03 drops a packet between two user-defined networks in DOCKER-ISOLATION-STAGE-2; 28 drops it
    before routing already, in raw PREROUTING (a container's address from another interface)."""
    lab = any_lab
    for cmd in (
        "network create n1",
        "network create n2",
        "run -d --name c1 --network n1 busybox sleep 100000",
        "run -d --name c2 --network n2 nginx",
    ):
        assert docker(lab, cmd).returncode == 0
    c2 = docker(lab, "inspect -f '{{.NetworkSettings.Networks.n2.IPAddress}}' c2").stdout.strip()
    walk = trace(ClientAccess(lab.sandbox.id, client), "c1", c2, 80, "tcp")
    assert walk.verdict == "dropped" and walk.reason == "drop.rule"
    drop = walk.steps[-1]
    if lab.engine.version == "19.03":
        assert (drop.kind, drop.ns, drop.table, drop.chain) == (
            "drop",
            "host",
            "filter",
            "DOCKER-ISOLATION-STAGE-2",
        )
        assert drop.rule.startswith("-A DOCKER-ISOLATION-STAGE-2 -o br-") and drop.rule.endswith("-j DROP")
    else:
        assert (drop.kind, drop.ns, drop.table, drop.chain) == ("drop", "host", "raw", "PREROUTING")
        assert drop.rule.startswith(f"-A PREROUTING -d {c2}/32 ! -i br-") and drop.rule.endswith("-j DROP")
    assert walk.path == ("c1", "host") and not walk.reply_path


def test_ip_forward_off(lab, client):
    assert docker(lab, "run -d --name box busybox sleep 100000").returncode == 0
    assert sh(lab, "echo 0 > /proc/sys/net/ipv4/ip_forward").returncode == 0
    walk = trace(ClientAccess(lab.sandbox.id, client), "box", "198.51.100.80", None, "icmp")
    assert walk.verdict == "dropped" and walk.reason == "drop.ip_forward"
    assert walk.steps[-1].ns == "host" and walk.steps[-1].message["params"]["dst"] == "198.51.100.80"


def test_nothing_listening_is_refused(lab, client):
    walk = trace(ClientAccess(lab.sandbox.id, client), "client", "203.0.113.2", 8081, "tcp")
    assert walk.verdict == "dropped" and walk.reason == "deliver.none"
    reply = next(s for s in walk.steps if s.kind == "reply")
    assert reply.ns == "host" and reply.message["params"]["answer"] == "RST"


def test_trace_check_in_grading(lab, client):
    from topology.grading import grade_tasks

    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    assert sh(lab, "iptables -I DOCKER-USER -p tcp --dport 80 -j DROP").returncode == 0
    base = {"from": "client", "to": "203.0.113.2", "port": 8080}
    checks = [
        {"trace": {**base, "verdict": "dropped", "dropped_in": "DOCKER-USER"}},
        {"trace": {**base, "dnat_to": "172.17.0.2:80", "accepted_in": "DOCKER"}},
        {"trace": {**base, "verdict": "dropped", "dropped_in": "DOCKER-ISOLATION-STAGE-2"}},
    ]
    (graded,) = grade_tasks([{"id": "t", "checks": checks}], ClientAccess(lab.sandbox.id, client))
    results = graded["checks"]
    assert [r["ok"] for r in results] == [True, False, False]
    assert [r["message"]["code"] for r in results] == ["trace.ok", "trace.verdict", "trace.not_dropped_in"]
    # The walk's verdict and last step are messages in the parameters, for the page to translate.
    params = results[1]["message"]["params"]
    assert params["actual"] == {"code": "verdict.dropped", "params": {}}
    assert params["last"]["code"] == "drop.rule"
    assert "-A DOCKER-USER -p tcp -m tcp --dport 80 -j DROP" in text(params["last"])
    assert text(results[1]["message"]).startswith(
        "The tcp packet from client to 203.0.113.2 (port 8080) is dropped, not delivered: Dropped in host"
    )


def test_armed_trace_walks_the_students_own_packet(lab, client):
    """Armed, the walk sends nothing: the student's curl from the client is the packet walked."""
    import threading

    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    wait_for(lambda: sh(lab, "curl -s -m 2 http://172.17.0.2/").returncode == 0)
    walks: list = []
    worker = threading.Thread(
        target=lambda: walks.append(
            trace(ClientAccess(lab.sandbox.id, client), "client", "203.0.113.2", 8080, "tcp", armed_for=20)
        )
    )
    worker.start()
    # Armed once the source's trace table marks packets (the other namespaces' do by then).
    wait_for(lambda: "nftrace" in sh(lab, "nft list ruleset", ns="client").stdout, what="armed")
    curl = sh(lab, "curl -s -o /dev/null -w '%{local_port}' http://203.0.113.2:8080/", ns="client")
    worker.join(30)
    (walk,) = walks
    assert walk.verdict == "delivered" and walk.path == ("client", "router", "host", "web")
    first = next(s for s in walk.steps if s.packet)
    assert first.packet["sport"] == int(curl.stdout)  # the student's connection, not another
    assert "nslab_trace_" not in sh(lab, "nft list tables", ns="client").stdout
