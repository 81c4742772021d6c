"""Container name resolution and /sys on the real kernel: Docker's embedded DNS on user networks,
none on the default bridge (where --link writes hosts entries), names of the outside world through
the host's resolver, and a sysfs of each container's own network namespace."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel


ADDR = "127.0.0.11"


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def resolve(lab, ctr: str, name: str) -> str:
    """The address `name` resolves to inside `ctr` (glibc, as ping does), "" when it does not."""
    r = sh(lab, f"getent hosts {name}", ns=ctr)
    return r.stdout.split()[0] if r.returncode == 0 else ""


def remote_dns_log(lab) -> str:
    return lab.sandbox.run("router", ["cat", "/run/remote-dns.log"]).stdout.decode()


def test_user_network_resolves_names_aliases_and_short_ids(lab):
    ok(lab, "network create app")
    ok(lab, "run -d --name a1 --network app busybox sleep 300")
    a2 = ok(lab, "run -d --name a2 --network app --network-alias db busybox sleep 300")
    assert resolve(lab, "a1", "a2") == "172.18.0.3"
    assert resolve(lab, "a1", "db") == "172.18.0.3"
    assert resolve(lab, "a1", a2[:12]) == "172.18.0.3"
    assert resolve(lab, "a1", "a2.app") == "172.18.0.3"
    ping = sh(lab, "ping -c 1 -W 2 a2", ns="a1")
    assert ping.returncode == 0 and "from a2.app (172.18.0.3)" in ping.stdout  # PTR: name.network
    assert "a2" not in remote_dns_log(lab)  # answered inside, never forwarded
    # `docker network connect --alias` adds names; a stopped container's go away
    ok(lab, "run -d --name b1 busybox sleep 300")
    ok(lab, "network connect --alias extra app b1")
    assert resolve(lab, "a1", "extra") == resolve(lab, "a1", "b1") == "172.18.0.4"
    # joining a user network starts b1's resolver: its resolv.conf now names 127.0.0.11
    assert sh(lab, "cat /etc/resolv.conf", ns="b1").stdout == "nameserver 127.0.0.11\noptions ndots:0\n"
    assert resolve(lab, "b1", "a1") == "172.18.0.2"
    ok(lab, "rm -f a2")
    assert resolve(lab, "a1", "db") == ""


def test_container_netns_has_dockers_dns_nat_rules(lab):
    ok(lab, "network create app")
    ok(lab, "run -d --name a1 --network app busybox sleep 300")
    rules = sh(lab, "iptables-save -t nat", ns="a1").stdout
    body = [line for line in rules.splitlines() if not line.startswith("#")]
    ports = re.findall(r"--to-destination 127\.0\.0\.11:(\d+)", rules)
    tcp, udp = ports
    assert body == [
        "*nat",
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        ":DOCKER_OUTPUT - [0:0]",
        ":DOCKER_POSTROUTING - [0:0]",
        "-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT",
        "-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING",
        f"-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination {ADDR}:{tcp}",
        f"-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination {ADDR}:{udp}",
        f"-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport {tcp} -j SNAT --to-source :53",
        f"-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport {udp} -j SNAT --to-source :53",
        "COMMIT",
    ]
    # The ports are the server's sockets in the container's namespace; no process there owns them.
    sockets = sh(lab, "ss -ulnp; ss -tlnp", ns="a1").stdout
    assert f"127.0.0.11:{udp}" in sockets and f"127.0.0.11:{tcp}" in sockets and "users:" not in sockets
    assert sh(lab, "cat /etc/resolv.conf", ns="a1").stdout == "nameserver 127.0.0.11\noptions ndots:0\n"
    # Queries over TCP to 127.0.0.11:53 (the tcp DNAT rule), answered inside or forwarded over TCP
    assert "ac 12 00 02" in tcp_answer(lab, "a1", "a1")  # 172.18.0.2
    assert "c6 33 64 50" in tcp_answer(lab, "a1", "example.test")  # 198.51.100.80


def tcp_answer(lab, ctr: str, name: str) -> str:
    """The hex bytes of the answer to an A query for `name` sent over TCP from `ctr` to 127.0.0.11."""
    qname = "".join(f"\\{len(label):o}{label}" for label in name.split("."))
    length = 12 + len(name) + 2 + 4
    query = f"\\0\\{length:o}\\0\\1\\1\\0\\0\\1\\0\\0\\0\\0\\0\\0{qname}\\0\\0\\1\\0\\1"
    answer = 2 + length + 16  # one A record
    script = f"exec 3<>/dev/tcp/{ADDR}/53; printf '{query}' >&3; timeout 5 head -c {answer} <&3 | od -An -tx1"
    return " ".join(sh(lab, f"bash -c {shlex.quote(script)}", ns=ctr).stdout.split())


def test_default_bridge_has_no_embedded_dns_but_links(lab):
    ok(lab, "run -d --name b1 busybox sleep 300")
    ok(lab, "run -d --name b2 busybox sleep 300")
    assert sh(lab, "cat /etc/resolv.conf", ns="b2").stdout == "nameserver 198.51.100.53\n"
    assert sh(lab, "ping -c 1 -W 2 b1", ns="b2").returncode != 0
    assert "b1" in remote_dns_log(lab)  # asked the host's resolver, which does not know it
    b1 = ok(lab, "inspect -f '{{.Id}}' b1")
    ok(lab, "run -d --name b3 --link b1:web busybox sleep 300")
    hosts = sh(lab, "cat /etc/hosts", ns="b3").stdout.splitlines()
    assert hosts[-2:] == [f"172.17.0.2\tweb {b1[:12]} b1", f"172.17.0.4\t{hosts[-1].split()[1]}"]
    assert sh(lab, "ping -c 1 -W 2 web", ns="b3").returncode == 0
    assert sh(lab, "iptables-save -t nat", ns="b3").stdout.count("DOCKER_OUTPUT") == 0
    r = docker(lab, "run -d --name b4 --link nosuch busybox true")
    assert r.returncode == 125 and "could not get container for nosuch" in r.stderr


def test_outside_names_leave_masqueraded_19(lab):
    ok(lab, "network create app")
    ok(lab, "run -d --name a1 --network app busybox sleep 300")
    assert resolve(lab, "a1", "example.test") == "198.51.100.80"
    assert resolve(lab, "a1", "nosuch.test") == ""
    log = remote_dns_log(lab)
    assert re.search(r"^203\.0\.113\.2:\d+ A example\.test$", log, re.M)  # the host's address
    # 19.03 asks from the container's namespace: the query crossed the bridge and MASQUERADE
    conntrack = sh(lab, "conntrack -L -p udp --orig-dst 198.51.100.53 2>/dev/null").stdout
    assert "src=172.18.0.2 dst=198.51.100.53" in conntrack and "dst=203.0.113.2" in conntrack


def test_28_embedded_dns_asks_from_the_host_namespace(lab28):
    ok(lab28, "network create app")
    ok(lab28, "run -d --name a1 --network app --hostname box busybox sleep 300")
    ok(lab28, "run -d --name a2 --network app busybox sleep 300")
    assert resolve(lab28, "a2", "box") == "172.18.0.2"  # 28's DNSNames include the hostname
    assert resolve(lab28, "a2", "example.test") == "198.51.100.80"
    conntrack = sh(lab28, "conntrack -L -p udp --orig-dst 198.51.100.53 2>/dev/null").stdout
    assert "src=203.0.113.2 dst=198.51.100.53" in conntrack and "172.18." not in conntrack
    resolv = sh(lab28, "cat /etc/resolv.conf", ns="a2").stdout
    assert (
        "nameserver 127.0.0.11\noptions ndots:0\n" in resolv
        and "# ExtServers: [host(198.51.100.53)]" in resolv
    )


def test_sys_shows_each_containers_own_namespace(lab):
    ok(lab, "network create app")
    ok(lab, "run -d --name a1 --network app busybox sleep 300")
    ok(lab, "run -d --name n1 --net none busybox sleep 300")
    ok(lab, "run -d --name h1 --net host busybox sleep 300")
    ok(lab, "run -d --name c1 --net container:a1 busybox sleep 300")
    veth = ok(lab, "inspect -f '{{.NetworkSettings.Networks.app.MacAddress}}' a1")
    host_links = sh(lab, "ip -o link").stdout
    for ctr in ("a1", "c1"):
        r = sh(lab, "ls /sys/class/net; cat /sys/class/net/eth0/iflink /sys/class/net/eth0/address", ns=ctr)
        names, iflink, address = r.stdout.split("\n")[:2], *r.stdout.split()[2:4]
        assert names == ["eth0", "lo"] and address == veth
        assert re.search(rf"^{iflink}: veth\w+@if\d+:", host_links, re.M)  # the host end of eth0
    assert sh(lab, "ls /sys/class/net", ns="n1").stdout.split() == ["lo"]
    assert "docker0" in sh(lab, "ls /sys/class/net", ns="h1").stdout.split()
    mounts = sh(lab, "grep ' /sys ' /proc/mounts", ns="a1").stdout.splitlines()
    assert len(mounts) == 1 and mounts[0].startswith("sysfs /sys sysfs ro,nosuid,nodev,noexec")
    assert sh(lab, "touch /sys/x", ns="h1").returncode != 0  # read-only in every mode
