"""Docker's network modes working end to end inside a sandbox, with real traffic."""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel


def fetch(lab, url: str, ns: str = "client") -> str:
    r = (
        lab.sandbox.run(ns, ["curl", "-s", "-m", "3", url])
        if ns in ("client", "router", "remote")
        else sh(lab, f"curl -s -m 3 {url}", ns=ns)
    )
    out = r.stdout
    return out.decode() if isinstance(out, bytes) else out


def test_external_client_reaches_published_nginx(lab):
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    page = wait_for(lambda: fetch(lab, "http://203.0.113.2:8080/"))
    assert "Welcome to nginx!" in page and "web" in page
    conntrack = sh(lab, "conntrack -L -p tcp 2>/dev/null").stdout
    assert (
        "src=192.0.2.50 dst=203.0.113.2" in conntrack
        and "src=172.17.0.2 dst=192.0.2.50 sport=80" in conntrack
    )


def test_28_container_is_wired_and_published(lab28):
    assert docker(lab28, "run -d --name web -p 8080:80 nginx").returncode == 0
    r = sh(lab28, "ip -o link show eth0; ip -o -4 addr show eth0", ns="web")
    assert r.returncode == 0, r.stderr
    link, addr = r.stdout.splitlines()
    assert "state UP" in link
    assert "link/ether 02:42:ac:11:00:02 " not in link  # 28 gives a random MAC, 19.03 one from the IP
    assert addr.split()[3] == "172.17.0.2/16"
    page = wait_for(lambda: fetch(lab28, "http://203.0.113.2:8080/"))
    assert "Welcome to nginx!" in page


def test_28_binds_an_unaddressed_port_on_ipv4_and_ipv6(lab28):
    """28 binds `-p 8080:80` on 0.0.0.0 and on :: (moby's addPortMappings: one binding each, as
    inspect, ps and port show them; the IPv6 one is docker-proxy's alone for an IPv4-only
    container); an explicit 0.0.0.0 or 127.0.0.1 binds that address only."""
    assert (
        docker(lab28, "run -d --name web -p 8080:80 -p 0.0.0.0:7070:70 -p 127.0.0.1:9090:90 nginx").returncode
        == 0
    )
    ports = docker(lab28, "inspect -f '{{json .NetworkSettings.Ports}}' web").stdout.strip()
    assert ports == (
        '{"70/tcp":[{"HostIp":"0.0.0.0","HostPort":"7070"}],'
        '"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"},{"HostIp":"::","HostPort":"8080"}],'
        '"90/tcp":[{"HostIp":"127.0.0.1","HostPort":"9090"}]}'
    )
    assert docker(lab28, "ps --format '{{.Ports}}'").stdout == (
        "0.0.0.0:7070->70/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 127.0.0.1:9090->90/tcp\n"
    )
    assert docker(lab28, "port web 80").stdout == "0.0.0.0:8080\n[::]:8080\n"
    page = wait_for(lambda: fetch(lab28, "http://[::1]:8080/", ns="host"))  # through docker-proxy
    assert "Welcome to nginx!" in page
    assert "::" not in sh(lab28, "iptables-save -t nat | grep 8080").stdout
    assert docker(lab28, "rm -f web").returncode == 0  # every binding released: the ports are free again
    assert docker(lab28, "run -d --name again -p 8080:80 -p 7070:70 nginx").returncode == 0


def test_container_reaches_remote_server_masqueraded(lab):
    assert docker(lab, "run -d --name box busybox sleep 300").returncode == 0
    page = sh(lab, "wget -q -O - http://198.51.100.80/", ns="box").stdout
    assert "remote web server" in page
    log = lab.sandbox.run("router", ["cat", "/run/remote.log"]).stdout.decode()
    assert "[::ffff:203.0.113.2]:" in log and "172.17." not in log


def test_containers_on_docker0_reach_each_other(lab):
    assert docker(lab, "run -d --name alpha busybox sleep 300").returncode == 0
    assert docker(lab, "run -d --name bravo nginx").returncode == 0
    ip_b = docker(lab, "inspect -f '{{.NetworkSettings.IPAddress}}' bravo").stdout.strip()
    assert ip_b == "172.17.0.3"
    assert "Welcome to nginx!" in sh(lab, f"wget -q -O - http://{ip_b}/", ns="alpha").stdout
    assert sh(lab, "ping -c 1 -W 2 172.17.0.2", ns="bravo").returncode == 0


def test_two_user_networks_are_isolated(lab):
    assert docker(lab, "network create net1").returncode == 0
    assert docker(lab, "network create net2").returncode == 0
    assert docker(lab, "run -d --name one --network net1 nginx").returncode == 0
    assert docker(lab, "run -d --name two --network net2 busybox sleep 300").returncode == 0
    ip_one = docker(
        lab, "inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' one"
    ).stdout.strip()
    assert ip_one.startswith("172.18.")
    r = sh(lab, f"timeout 3 wget -q -O - http://{ip_one}/ 2>&1 || echo unreachable", ns="two")
    assert "unreachable" in r.stdout
    # Same network: reachable. Connecting `two` to net1 opens the path.
    assert docker(lab, "network connect net1 two").returncode == 0
    assert "Welcome to nginx!" in sh(lab, f"wget -q -O - http://{ip_one}/", ns="two").stdout


def test_host_mode_port_clash(lab):
    assert docker(lab, "run -d --name h1 --net=host nginx").returncode == 0
    assert "Welcome to nginx!" in wait_for(lambda: fetch(lab, "http://203.0.113.2/"))
    docker(lab, "run -d --name h2 --net=host nginx")
    wait_for(
        lambda: (
            "Exited (1)" in next(line for line in docker(lab, "ps -a").stdout.splitlines() if "h2" in line)
        )
    )
    logs = docker(lab, "logs h2")
    assert "Address already in use" in logs.stdout + logs.stderr or "in use" in logs.stdout + logs.stderr


def test_none_mode_has_only_lo(lab):
    assert docker(lab, "run -d --name nothing --net=none busybox sleep 300").returncode == 0
    links = sh(lab, "ip -o link", ns="nothing").stdout
    assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]


def test_container_mode_shares_the_namespace(lab):
    assert docker(lab, "run -d --name web1 -p 80:80 -p 8080:8080 nginx").returncode == 0
    r = docker(lab, "run -d --name web2 --net=container:web1 -p 8080:8080 nginx")
    assert r.returncode == 125
    assert "conflicting options: port publishing and the container type network mode" in r.stderr
    assert docker(lab, "run -d --name web2 --net=container:web1 busybox sleep 300").returncode == 0
    r = sh(lab, "ip -o -4 addr show eth0", ns="web2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[3] == "172.17.0.2/16"


def test_port_already_allocated(lab):
    assert docker(lab, "run -d -p 8080:80 nginx").returncode == 0
    r = docker(lab, "run -d -p 8080:80 nginx")
    assert r.returncode == 125
    assert "Bind for 0.0.0.0:8080 failed: port is already allocated" in r.stderr


# Rules without counters, and the Docker host's link names.
STATE = "iptables-save | grep -v '^#' | sed 's/\\[[0-9:]*\\]//'; ip -o link | cut -d' ' -f2"


def test_stop_start_rm_cycle_frees_kernel_state(lab):
    before = sh(lab, STATE).stdout
    assert docker(lab, "run -d --name web -p 8080:80 nginx").returncode == 0
    assert docker(lab, "stop -t 1 web").returncode == 0
    assert "Exited" in docker(lab, "ps -a").stdout
    assert docker(lab, "start web").returncode == 0
    assert "Welcome" in wait_for(lambda: fetch(lab, "http://203.0.113.2:8080/"))
    assert docker(lab, "rm -f web").returncode == 0
    after = sh(lab, STATE).stdout
    assert after == before


def test_prune_takes_networks_that_only_stopped_containers_use(lab):
    # As moby: a network without endpoints (no running container) is unused; its stopped container
    # then cannot start, and `docker start` ends with its summary line. The container joined the
    # network before: it is looked up by the NetworkID its entry kept (getNetworkID).
    mynet = docker(lab, "network create mynet").stdout.strip()
    for args in (
        "run -d --name box --network mynet busybox sleep 300",
        "stop -t 1 box",
    ):
        assert docker(lab, args).returncode == 0, args
    assert docker(lab, "network prune -f").stdout == "Deleted Networks:\nmynet\n\n"
    r = docker(lab, "start box")
    assert (r.returncode, r.stdout, r.stderr) == (
        1,
        "",
        f"Error response from daemon: network {mynet} not found\nError: failed to start containers: box\n",
    )
