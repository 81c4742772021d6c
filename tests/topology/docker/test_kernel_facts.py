"""Small kernel facts of a Docker host, checked on the real kernel against moby's source.

- IPv6 in a container's own namespace: 19.03's libnetwork writes net.ipv6.conf.all.disable_ipv6=1 in
  every new sandbox (osl NewSandbox/GetSandboxForExternalKey, so `default` and lo too: no ::1, even
  with --net=none); 28 writes only <interface>.disable_ipv6=1 for an interface without IPv6 (lo keeps
  ::1), and its OCI spec sets ip_unprivileged_port_start=0 in every private network namespace.
- Bridges: dockerd's netlink request carries IFLA_TXQLEN 0, so `ip link` shows no "qlen 1000".
- Exit status of `docker exec` and of a container: 128 + the signal that killed the process.
- docker-proxy listens with Go's backlog, net.core.somaxconn of the Docker host (ss's Send-Q); in a
  container nginx listens on 0.0.0.0:80 and [::]:80 (its image's entrypoint adds the IPv6 line), httpd
  on a dual-stack *:80, both with their default backlog 511.
- Interface indexes: Docker creates the veth pair on the host (peer N, host end N+1) and moves the
  peer into the container, which keeps its index: `eth0@if(N+1)` inside, `vethX@ifN` outside.
"""

from __future__ import annotations

import re

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

DISABLE_IPV6 = "cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6 "


def run(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_1903_container_namespaces_have_ipv6_off(lab):
    run(lab, "run -d --name none1 --net none busybox sleep 300")
    run(lab, "run -d --name bridged busybox sleep 300")
    for name in ("none1", "bridged"):
        assert sh(lab, "ip -6 -o addr", ns=name).stdout == ""
        assert (
            sh(lab, DISABLE_IPV6 + "/proc/sys/net/ipv6/conf/lo/disable_ipv6", ns=name).stdout == "1\n1\n1\n"
        )


def test_28_disables_ipv6_on_the_interface_only(lab28):
    run(lab28, "run -d --name none1 --net none busybox sleep 300")
    run(lab28, "run -d --name bridged busybox sleep 300")
    for name in ("none1", "bridged"):
        assert sh(lab28, "ip -6 -o addr show dev lo", ns=name).stdout.split()[1:4] == [
            "lo",
            "inet6",
            "::1/128",
        ]
        assert sh(lab28, DISABLE_IPV6 + "/proc/sys/net/ipv4/ip_unprivileged_port_start", ns=name).stdout == (
            "0\n0\n0\n"
        )
    assert sh(lab28, "cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6", ns="bridged").stdout == "1\n"


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_bridges_have_no_queue_length(request, fixture):
    lab = request.getfixturevalue(fixture)
    bridge = "br-" + run(lab, "network create net1")[:12]
    for name in ("docker0", bridge):
        first = sh(lab, f"ip link show {name}").stdout.splitlines()[0]
        state = "<NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN"
        assert re.fullmatch(rf"\d+: {name}: {state} mode DEFAULT group default ", first), first


def test_exit_status_is_128_plus_the_signal(lab):
    run(lab, "run -d --name box busybox sleep 300")
    for script, code in (
        ("kill -SEGV $$", 139),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
        ("exit 3", 3),
    ):
        assert docker(lab, f"exec box sh -c '{script}'").returncode == code, script
    run(lab, "stop -t 0 box")  # sleep, pid 1, ignores SIGTERM: SIGKILL
    assert run(lab, "inspect -f '{{.State.ExitCode}}' box") == "137\n"


def test_docker_proxy_backlog_is_the_hosts_somaxconn(lab):
    run(lab, "run -d -p 8080:80 nginx")
    somaxconn = sh(lab, "cat /proc/sys/net/core/somaxconn").stdout.strip()
    listening = sh(lab, "ss -Hltn sport = :8080").stdout.split()
    assert listening[:4] == ["LISTEN", "0", somaxconn, "0.0.0.0:8080"]


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_web_servers_listen_as_nginx_and_httpd(request, fixture):
    lab = request.getfixturevalue(fixture)
    run(lab, "run -d --name web nginx")
    run(lab, "run -d --name site httpd")
    for name, listening in (
        ("web", [["0.0.0.0:80", "0.0.0.0:*"], ["[::]:80", "[::]:*"]]),
        ("site", [["*:80", "*:*"]]),
    ):
        lines = wait_listening(lab, name, len(listening))
        assert [line.split() for line in lines] == [["LISTEN", "0", "511", *pair] for pair in listening]


def wait_listening(lab, ns: str, count: int) -> list[str]:
    """`ss -Hltn` in a container once `count` sockets listen (its server starts after `run` returns)."""
    return wait_for(
        lambda: (lines := sh(lab, "ss -Hltn", ns=ns).stdout.splitlines()) and len(lines) >= count and lines
    )


def links(lab, ns: str = "host") -> dict[str, tuple[int, int]]:
    """`ip -o link` as name -> (index, peer index) for the links with a peer (name@ifN)."""
    out = sh(lab, "ip -o link", ns=ns).stdout
    return {m[1]: (int(m[0]), int(m[2])) for m in re.findall(r"^(\d+): ([^:@]+)@if(\d+):", out, re.M)}


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_veth_indexes_are_as_after_a_move_into_the_container(request, fixture):
    lab = request.getfixturevalue(fixture)
    run(lab, "run -d --name one busybox sleep 300")
    run(lab, "run -d --name two busybox sleep 300")
    run(lab, "network create net1")
    run(lab, "network connect net1 one")
    host = links(lab)
    for name, ifname in (("one", "eth0"), ("two", "eth0"), ("one", "eth1")):
        index, peer = links(lab, name)[ifname]
        assert peer == index + 1, (name, ifname)
        veth = [v for v, (i, p) in host.items() if v.startswith("veth") and i == peer]
        assert len(veth) == 1 and host[veth[0]] == (index + 1, index), (name, ifname, host)
        sysfs = sh(lab, f"cat /sys/class/net/{ifname}/ifindex /sys/class/net/{ifname}/iflink", ns=name)
        assert sysfs.stdout == f"{index}\n{peer}\n"
    # As the kernel's counter, indexes are not given again after a container goes.
    highest = max(i for i, _ in host.values())
    run(lab, "rm -f two")
    run(lab, "run -d --name three busybox sleep 300")
    assert links(lab, "three")["eth0"] == (highest + 1, highest + 2)


def test_veth_is_made_when_the_index_cannot_be_given(lab):
    lab.engine.ifindex = 2**31 - 1  # beyond any index: the kernel picks them instead
    run(lab, "run -d --name one busybox sleep 300")
    index, peer = links(lab, "one")["eth0"]
    assert any(i == peer and p == index for i, p in links(lab).values())
    assert sh(lab, "ping -c 1 -W 2 172.17.0.2").returncode == 0


def test_a_removed_containers_namespace_is_released(lab):
    """Its /var/run/docker/netns mount goes with it: a kept one would hold the namespace (and a lab
    runs out of network namespaces after some 60 containers)."""
    for _ in range(3):
        run(lab, "run -d --name gone busybox sleep 300")
        assert sh(lab, "ls /run/docker/netns").stdout.strip() != ""
        run(lab, "rm -f gone")
    assert sh(lab, "ls /run/docker/netns; grep -c docker/netns /proc/self/mountinfo").stdout == "0\n"
