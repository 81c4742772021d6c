"""Kernel state exactly as Docker leaves it: the teaching text's and the reference's listings."""

from __future__ import annotations

import re

import pytest

from tests.topology.kit import docker, sh
from tests.topology.listings import G28_START, G28_START6, G28_USERNET, G1903_START, normalize

pytestmark = pytest.mark.kernel

START_1903 = normalize(G1903_START)
START_28 = normalize(G28_START)
START6_28 = normalize(G28_START6)
USERNET_28 = normalize(G28_USERNET)


# The three rules the teaching text shows after `docker run -d -P nginx` (first dynamic port).
NGINX_P_RULES = {
    "*nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
    "*nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 32768 -j DNAT --to-destination 172.17.0.2:80",
    "*filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
}


def saved(lab, tool: str = "iptables") -> str:
    """`iptables-save` (or `ip6tables-save`) without counters and comment lines, as the student sees it."""
    r = sh(lab, f"{tool}-save")
    assert r.returncode == 0, r.stderr
    return normalize(r.stdout)


def rule_lines(text: str) -> set[str]:
    table, rules = "", set()
    for line in text.splitlines():
        if line.startswith("*"):
            table = line
        elif line.startswith("-A"):
            rules.add(f"{table} {line}")
    return rules


def test_start_state_1903_is_the_teaching_texts(lab):
    assert saved(lab) == START_1903


def test_run_P_nginx_adds_exactly_the_three_rules(lab):
    before = rule_lines(saved(lab))
    r = docker(lab, "run -d -P nginx")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", r.stdout)
    after = rule_lines(saved(lab))
    assert after - before == NGINX_P_RULES
    assert before - after == set()
    assert docker(lab, "port " + r.stdout.strip()[:12]).stdout.strip() == "80/tcp -> 0.0.0.0:32768"


def test_start_state_28(lab28):
    assert saved(lab28) == START_28


def test_ip6_start_state_28_is_the_skeleton_and_1903_has_none(lab28, lab):
    """28 has --ip6tables on: the IPv4 chains and jumps, no per-network rules; 19.03 no ip6 tables."""
    assert saved(lab28, "ip6tables") == START6_28
    assert saved(lab, "ip6tables") == ""


def test_user_network_with_published_port_28(lab28):
    r = docker(
        lab28, "network create --subnet 192.0.2.0/24 -o com.docker.network.bridge.name=bridge1 bridge1"
    )
    assert r.returncode == 0, r.stderr
    r = docker(lab28, "run -d --network bridge1 -p 8080:80 nginx")
    assert r.returncode == 0, r.stderr
    assert saved(lab28) == USERNET_28
    assert saved(lab28, "ip6tables") == START6_28  # IPv4-only network and container: no ip6 rules
    # Removing the container and the network gives the start state back.
    assert docker(lab28, f"rm -f {r.stdout.strip()}").returncode == 0
    assert docker(lab28, "network rm bridge1").returncode == 0
    assert rule_lines(saved(lab28)) == rule_lines(START_28)
    assert saved(lab28, "ip6tables") == START6_28


def test_container_looks_like_dockers(lab):
    r = docker(lab, "run -d --name web -p 8080:80 nginx")
    assert r.returncode == 0, r.stderr
    pid = docker(lab, "inspect -f '{{.State.Pid}}' web").stdout.strip()
    assert pid.isdigit()
    inside = sh(lab, f"nsenter -t {pid} -n ip addr; ls -l /proc/{pid}/ns").stdout
    assert "eth0@if" in inside and "inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0" in inside
    assert "link/ether 02:42:ac:11:00:02" in inside
    assert "net -> 'net:[" in inside or "net -> net:[" in inside
    routes = sh(lab, f"nsenter -t {pid} -n ip route").stdout
    assert "default via 172.17.0.1 dev eth0" in routes
    assert "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2" in routes
    host = sh(lab, "brctl show docker0; ip -o link show master docker0").stdout
    assert re.search(r"veth[0-9a-f]{7}@if\d+", host)
    assert docker(lab, "inspect -f '{{.NetworkSettings.IPAddress}}' web").stdout.strip() == "172.17.0.2"
    proxies = sh(lab, "ps -eo args").stdout
    assert (
        "docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80"
    ) in proxies
    files = docker(lab, "exec web cat /etc/hosts /etc/hostname").stdout
    cid = docker(lab, "inspect -f '{{.Id}}' web").stdout.strip()
    assert f"172.17.0.2\t{cid[:12]}" in files and cid[:12] in files.splitlines()[-1]
