"""Grading against real sandboxes: probes, remote_saw after MASQUERADE, questions from live state,
pick_rule counters, continuous mode and a break-fix scenario. ClientAccess (topology.client) talks to
the test daemon over its real control socket."""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh
from topology.client import ClientAccess
from topology.grading import expected_answers, grade_tasks

pytestmark = pytest.mark.kernel


def access_for(lab, client) -> ClientAccess:
    return ClientAccess(lab.sandbox.id, client)


def codes(results: list[dict]) -> list[str]:
    return [r["message"]["code"] for r in results]


def one(tasks, access, **kw) -> list[dict]:
    (graded,) = grade_tasks(tasks, access, **kw)
    return graded["checks"]


@pytest.fixture
def web(lab):
    """The lab with nginx `web` published on 8080 and a busybox `box`."""
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    assert docker(lab, "run -d --name box busybox sleep 100000").returncode == 0
    wait_for(lambda: sh(lab, "curl -s -m 2 http://172.17.0.2/", ns="host").returncode == 0)
    return lab


def test_probes_ok_and_fail(web, client):
    acc = access_for(web, client)
    checks = [
        {"http": {"from": "client", "url": "http://203.0.113.2:8080/", "contains": "Welcome to nginx"}},
        {"http": {"from": "client", "url": "http://203.0.113.2:8081/", "expect": "fail"}},
        {"http": {"from": "client", "url": "http://203.0.113.2:8081/"}},
        {"http": {"from": "client", "url": "http://203.0.113.2:8080/", "contains": "no such text"}},
        {"http": {"from": "box", "url": "http://172.17.0.2/", "status": 404}},
        {"ping": {"from": "box", "to": "198.51.100.80"}},
        {"ping": {"from": "client", "to": "172.17.0.2", "expect": "fail"}},
        {"tcp": {"from": "client", "to": "203.0.113.2", "port": 8080}},
        {"tcp": {"from": "client", "to": "203.0.113.2", "port": 8081, "expect": "closed"}},
        {"tcp": {"from": "box", "to": "172.17.0.2", "port": 81}},
    ]
    results = one([{"id": "t", "checks": checks}], acc)
    assert [r["ok"] for r in results] == [True, True, False, False, False, True, True, True, True, False]
    assert codes(results) == [
        "http.ok",
        "http.fail_ok",
        "http.failed",
        "http.body",
        "http.status",
        "ping.ok",
        "ping.fail_ok",
        "tcp.open",
        "tcp.closed_ok",
        "tcp.closed",
    ]
    assert results[4]["message"]["params"] == {
        "from": "box",
        "url": "http://172.17.0.2/",
        "actual": 200,
        "expected": 404,
    }


def test_remote_saw_the_hosts_address_after_masquerade(web, client):
    acc = access_for(web, client)
    tasks = [
        {
            "id": "nat",
            "checks": [
                {"remote_saw": {"from": "box", "source": "203.0.113.2"}},
                {"remote_saw": {"from": "box", "source": "172.17.0.3"}},
                {"remote_saw": {"from": "client", "source": "192.0.2.50"}},
            ],
        }
    ]
    results = one(tasks, acc)
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["message"]["code"] == "remote_saw.mismatch"
    assert results[1]["message"]["params"]["actual"] == "203.0.113.2"


def test_remote_saw_cannot_be_faked_from_the_students_shell(web, client):
    acc = access_for(web, client)
    sh(web, "iptables -t nat -D POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
    # The student's /run is their own: a forged log there is not what the grader reads.
    sh(web, "for i in 1 2 3; do echo '[::ffff:203.0.113.2]:1: url:/nslab-probe-x' >> /run/remote.log; done")
    (res,) = one([{"id": "t", "checks": [{"remote_saw": {"from": "box", "source": "203.0.113.2"}}]}], acc)
    assert not res["ok"] and res["message"]["code"] == "remote_saw.no_request"
    assert [d["code"] for d in res["diagnoses"]] == ["no_route_back"]
    assert res["diagnoses"][0]["params"] == {"ns": "router", "address": "172.17.0.3"}


def test_pick_rule_right_and_wrong(web, client):
    acc = access_for(web, client)
    assert sh(web, "iptables -t nat -A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE").returncode == 0
    question = {
        "prompt": {"en": "Which rule?", "zh-hans": "哪条规则?"},
        "table": "nat",
        "probe": {"http": {"from": "box", "url": "http://198.51.100.80/"}},
        "target": ["MASQUERADE", "SNAT"],
    }
    tasks = [{"id": "pick", "checks": [{"pick_rule": question}] * 4}]
    right = expected_answers(tasks, acc)["pick"][0]
    assert right == {"ns": "host", "table": "nat", "chain": "POSTROUTING", "number": 1}
    answers = {
        "pick": {
            0: right,
            "1": {
                "ns": "host",
                "table": "nat",
                "chain": "POSTROUTING",
                "number": 3,
            },  # MASQUERADE, not on the path
            2: {
                "ns": "host",
                "table": "nat",
                "chain": "PREROUTING",
                "number": 1,
            },  # moves, but jumps to DOCKER
            3: {"ns": "host", "table": "nat", "chain": "POSTROUTING", "number": 42},
        }
    }
    graded = grade_tasks(tasks, acc, answers=answers)[0]
    assert codes(graded["checks"]) == [
        "pick_rule.ok",
        "pick_rule.not_hit",
        "pick_rule.wrong_target",
        "pick_rule.no_rule",
    ]
    assert not graded["passed"]
    unanswered = grade_tasks(tasks[:1], acc, answers={})[0]["checks"][0]
    assert (unanswered["ok"], unanswered["message"]["code"]) == (None, "pick_rule.missing")


def test_questions_from_live_state(lab, client):
    acc = access_for(lab, client)
    assert docker(lab, "run -d --name site -P nginx").returncode == 0
    port = int(docker(lab, "port site 80").stdout.strip().rsplit(":", 1)[1])
    pid = int(docker(lab, "inspect -f '{{.State.Pid}}' site").stdout.strip())
    ip = docker(lab, "inspect -f '{{.NetworkSettings.IPAddress}}' site").stdout.strip()
    eth0 = sh(lab, "ip -o link show eth0", ns="site").stdout  # 2: eth0@if4: <...> ... link/ether 02:42:...
    mac = eth0.split("link/ether ", 1)[1].split()[0]
    peer = int(eth0.split("@if", 1)[1].split(":", 1)[0])
    veth = sh(lab, f"ip -o link | awk -F': ' '$1 == {peer} {{print $2}}'").stdout.strip().split("@")[0]
    docker0_mac = sh(lab, "ip -o link show docker0").stdout.split("link/ether ", 1)[1].split()[0]
    qs = [
        {"host_port": {"container": "site", "port": 80, "proto": "tcp"}},
        {"container_pid": "site"},
        {"container_ip": "site"},
        {"mac": {"ns": "site", "link": "eth0"}},
        {"veth_of": "site"},
        {"mac": {"ns": "host", "link": "docker0"}},
        {"value": "MASQUERADE"},
    ]
    tasks = [
        {"id": "q", "checks": [{"answer": {"prompt": {"en": "?", "zh-hans": "?"}, "expect": q}} for q in qs]}
    ]
    expected = expected_answers(tasks, acc)["q"]
    assert expected == {0: port, 1: pid, 2: ip, 3: mac, 4: veth, 5: docker0_mac, 6: "MASQUERADE"}
    given = {
        0: str(port),
        1: f" {pid} ",
        2: f"{ip}/16",
        3: mac.upper(),
        4: f"{veth}@if{peer}",
        5: docker0_mac,
        6: "masquerade",
    }
    graded = grade_tasks(tasks, acc, answers={"q": given})[0]
    assert graded["passed"], graded
    wrong = {0: str(port + 1), 1: "1", 2: "172.17.0.99", 3: "02:42:00:00:00:00", 4: "eth0", 5: "", 6: "SNAT"}
    graded = grade_tasks(tasks, acc, answers={"q": wrong})[0]
    assert [r["ok"] for r in graded["checks"]] == [False] * 5 + [None, False]  # the empty one is unanswered
    assert codes(graded["checks"]) == ["answer.wrong"] * 5 + ["answer.missing", "answer.wrong"]


def test_continuous_mode_runs_state_checks_only(web, client):
    acc = access_for(web, client)
    tasks = [
        {
            "id": "state",
            "checks": [
                {"container": {"name": "web", "running": True}},
                {"sysctl": {"name": "ip_forward", "value": 1}},
            ],
        },
        {
            "id": "mixed",
            "checks": [
                {"container": {"name": "web"}},
                {"http": {"from": "client", "url": "http://203.0.113.2:8080/"}},
                {"answer": {"prompt": {}, "expect": {"value": "x"}}},
            ],
        },
    ]
    graded = grade_tasks(tasks, acc, mode="continuous")
    assert graded[0]["passed"] and not graded[1]["passed"]
    mixed = graded[1]["checks"]
    assert mixed[0]["ok"] is True
    assert [(r["ok"], r.get("skipped")) for r in mixed[1:]] == [(None, True), (None, True)]
    # a held snapshot is reused
    snap = acc.snapshot()
    assert grade_tasks(tasks[:1], acc, mode="continuous", snapshot=snap)[0]["passed"]
    full = grade_tasks(tasks, acc, answers={"mixed": {2: "x"}})
    assert full[1]["passed"]


def test_break_fix_ip_forward_off(web, client):
    acc = access_for(web, client)
    tasks = [
        {
            "id": "fix",
            "checks": [
                {"sysctl": {"name": "ip_forward", "value": 1}},
                {"http": {"from": "client", "url": "http://203.0.113.2:8080/", "contains": "nginx"}},
                {"ping": {"from": "box", "to": "198.51.100.80"}},
            ],
        }
    ]
    assert grade_tasks(tasks, acc)[0]["passed"]
    assert sh(web, "sysctl -w net.ipv4.ip_forward=0").returncode == 0
    broken = grade_tasks(tasks, acc)[0]
    assert not broken["passed"]
    sysctl, http, ping = broken["checks"]
    assert sysctl["message"]["code"] == "sysctl.mismatch"
    assert http["message"]["code"] == "http.failed"
    assert [d["code"] for d in http["diagnoses"]] == ["ip_forward_off"]
    assert [d["code"] for d in ping["diagnoses"]] == ["ip_forward_off"]
    assert sh(web, "sysctl -w net.ipv4.ip_forward=1").returncode == 0
    assert grade_tasks(tasks, acc)[0]["passed"]


def test_break_fix_forward_drop(web, client):
    acc = access_for(web, client)
    assert sh(web, "iptables -D FORWARD -i docker0 ! -o docker0 -j ACCEPT").returncode == 0
    (res,) = one([{"id": "t", "checks": [{"http": {"from": "box", "url": "http://198.51.100.80/"}}]}], acc)
    assert not res["ok"]
    assert [d["code"] for d in res["diagnoses"]] == ["forward_drop_no_accept"]
