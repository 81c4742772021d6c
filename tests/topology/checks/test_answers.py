"""What a wrong typed answer names in the lab (topology.checks.answers through grading.judge_answer)."""

from __future__ import annotations

import pytest

from tests.topology.checks.test_checks import make_snapshot
from topology.checks import MESSAGES
from topology.grading import judge_answer


@pytest.fixture
def snap():
    return make_snapshot()


def judged(snap, expect: dict, given: str) -> tuple[bool | None, str, list[str]]:
    """(ok, message, diagnoses) in English, as the templates render them."""
    res = judge_answer({"prompt": {"en": "?"}, "expect": expect}, given, snap)
    text = MESSAGES[res["message"]["code"]].format(**res["message"]["params"])
    return res["ok"], text, [MESSAGES[d["code"]].format(**d["params"]) for d in res["diagnoses"]]


PORT = {"host_port": {"container": "web", "port": 80}}


def test_a_container_address_with_the_host_port_is_named_as_that_mix(snap):
    ok, text, diagnoses = judged(snap, PORT, "172.17.0.2:8080")
    assert ok is False and text == "172.17.0.2:8080 is not right."
    assert diagnoses == [
        "172.17.0.2:8080 pairs the address of container web with port 8080, which the Docker host publishes: "
        "from outside, use a host address with port 8080; at the container's own address the server "
        "listens on port 80."
    ]


def test_a_host_address_with_the_container_port_is_named_as_that_mix(snap):
    _, _, diagnoses = judged(snap, PORT, "203.0.113.2:80")
    assert diagnoses == [
        "203.0.113.2:80 pairs a Docker host address with port 80, on which web listens inside its own "
        "namespace: the host publishes it as port 8080."
    ]


def test_the_container_port_is_named_for_a_host_port_question(snap):
    assert judged(snap, PORT, "80")[2] == [
        "Port 80 is the port container web listens on inside its own namespace; the Docker host "
        "publishes it as port 8080."
    ]
    assert judged(snap, PORT, "8080")[0] is True
    assert judged(snap, PORT, "9999")[2] == ["No container of your lab has port 9999 published."]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            "172.17.0.1",
            "172.17.0.1 is the address of the bridge docker0 on the Docker host: the containers' "
            "gateway, not a container.",
        ),
        ("203.0.113.2/24", "203.0.113.2 is the Docker host's own address (on eth0)."),
        (
            "198.51.100.80",
            "198.51.100.80 is the address of remote in the simulated outside world (its eth0).",
        ),
        (
            "127.0.0.1",
            "127.0.0.1 is a loopback address: every namespace has its own, it names no other machine.",
        ),
        ("172.17.0.9", "No interface in your lab has the address 172.17.0.9."),
    ],
)
def test_an_address_is_named_by_its_owner(snap, given, said):
    ok, _, diagnoses = judged(snap, {"container_ip": "web"}, given)
    assert ok is False and diagnoses == [said]


def test_another_containers_address_says_whose_it_is(snap):
    snap["namespaces"].append({"name": "db", "kind": "container", "netns_inode": 9, "containers": ["db"]})
    snap["addresses"]["db"] = [{"ifname": "eth0", "family": "inet", "address": "172.17.0.3", "prefixlen": 16}]
    assert judged(snap, {"container_ip": "web"}, "172.17.0.3")[2] == [
        "172.17.0.3 is the address of container db, not of web."
    ]


def test_mac_pid_and_interface_answers_are_placed(snap):
    assert judged(snap, {"mac": {"ns": "web", "link": "eth0"}}, "02:42:AC:11:00:01")[2] == [
        "02:42:ac:11:00:01 is the MAC address of docker0 in host."
    ]
    assert judged(snap, {"container_pid": "web"}, "1")[2] == [
        "1 is the process id of web's main process as the container itself sees it (its own pid namespace); "
        "the Docker host numbers it differently."
    ]
    assert judged(snap, {"veth_of": "web"}, "eth0")[2] == [
        "eth0 is the interface inside container web; its other end, on the Docker host, has another name."
    ]
    assert judged(snap, {"veth_of": "web"}, "veth1234@if2")[0] is True


def test_free_text_that_names_nothing_gets_no_diagnosis(snap):
    ok, text, diagnoses = judged(snap, {"value": "DROP"}, "REJECT please")
    assert (ok, text, diagnoses) == (False, "REJECT please is not right.", [])


def test_an_unanswered_question_asks_without_failing(snap):
    ok, text, _ = judged(snap, PORT, " ")
    assert ok is None and text == "Answer the question first."
