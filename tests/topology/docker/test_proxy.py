"""docker-proxy on the real kernel: it lives exactly as long as the container's published ports,
leaves no zombie behind, and relays a half-closed connection as Docker's proxy does."""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

HTTP_GET = r"printf 'GET / HTTP/1.0\r\n\r\n'"


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def host_processes(lab) -> list[str]:
    """`ps` of the Docker host: one line per process, its state and its command."""
    return sh(lab, "ps -e -o stat=,args=").stdout.splitlines()


def proxies(lab) -> list[str]:
    return [line for line in host_processes(lab) if "docker-proxy" in line]


def test_network_connect_then_stop_or_rm_ends_the_proxy(lab):
    ok(lab, "network create other")
    ok(lab, "run -d --name web -p 8080:80 nginx")
    ok(lab, "network connect other web")
    ok(lab, "stop -t 1 web")
    assert proxies(lab) == []
    ok(lab, "start web")  # back on both networks
    ok(lab, "rm -f web")
    assert proxies(lab) == []
    # the port is free again: a new container publishes it, and its proxy answers
    ok(lab, "run -d --name web2 -p 8080:80 nginx")
    assert "Welcome to nginx!" in wait_for(lambda: sh(lab, f"{HTTP_GET} | busybox nc 127.0.0.1 8080").stdout)


def test_stop_and_restart_leave_no_zombie(lab):
    ok(lab, "run -d --name web -p 8080:80 -p 8443:443 nginx")
    for _ in range(2):
        ok(lab, "stop -t 1 web")
        ok(lab, "start web")
        ok(lab, "restart -t 1 web")
    ok(lab, "stop -t 1 web")
    assert [line for line in host_processes(lab) if line.startswith("Z")] == []
    assert proxies(lab) == []


def test_half_closed_request_is_answered_through_the_proxy(lab):
    # The client namespace reaches the container through DNAT; the Docker host's loopback and a
    # container on docker0 (to the gateway, as the DOCKER chain's RETURN for docker0 leaves it)
    # reach it through docker-proxy. busybox nc shuts down its writing side at the end of stdin.
    ok(lab, "run -d --name web -p 8080:80 nginx")
    ok(lab, "run -d --name box busybox sleep 300")
    for ns, address in (("client", "203.0.113.2"), ("host", "127.0.0.1"), ("box", "172.17.0.1")):
        wait_for(
            lambda a=address, n=ns: sh(lab, f"(sleep 0.2; {HTTP_GET}) | busybox nc {a} 8080", ns=n).stdout
        )
        reply = sh(lab, f"{HTTP_GET} | busybox nc {address} 8080", ns=ns).stdout
        assert reply.startswith("HTTP/1.1 200 OK") and "Welcome to nginx!" in reply, (ns, reply)
    # a server that answers after the client's end of request has reached it, every time
    ok(lab, "run -d --name slow -p 9090:7 busybox nc -ll -p 7 -e sh -c 'read l; sleep 0.3; echo \"got $l\"'")
    wait_for(lambda: sh(lab, "(echo warm; sleep 1) | busybox nc 127.0.0.1 9090").stdout)
    for _ in range(3):
        assert sh(lab, "echo hi | busybox nc 127.0.0.1 9090").stdout == "got hi\n"
