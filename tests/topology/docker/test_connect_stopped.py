"""`docker network connect`/`disconnect` on a container that is not running, on the real kernel.

As moby's daemon/container_operations.go (v19.03.15, v28.5.1) does it: ConnectToNetwork on a stopped
container records the endpoint settings docker/cli sent (IPAMConfig, Aliases, DriverOpts, even empty;
19.03 adds the short id to a user network's aliases) after updateNetworkConfig's checks, logging no
event; a network not found is recorded as named and fails the next start. DisconnectFromNetwork
deletes the entry ("is not connected to the network"; 19.03 logs one disconnect event). `docker
start` joins the entries (allocateNetwork: 19.03 the default bridge first), eth0, eth1..., the
default route on the gateway endpoint libnetwork chooses (Endpoint.Less: by network name).
"""

from __future__ import annotations

import json

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

BOTH = pytest.mark.parametrize("fixture", ["lab", "lab28"])
START_FAILED = "Error: failed to start containers: box\n"
# The Docker host's nat and filter rules without counters, and its links
STATE = (
    "{ iptables-save -t nat; iptables-save -t filter; } | grep -v '^#' | sed 's/\\[[0-9:]*\\]//'; "
    "ip -o link | cut -d' ' -f2"
)


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert (r.returncode, r.stderr) == (0, ""), (args, r.stderr)
    return r.stdout


def fails(lab, args: str) -> str:
    """The stderr of a command that fails with exit status 1."""
    r = docker(lab, args)
    assert (r.returncode, r.stdout) == (1, ""), (args, r.stdout, r.stderr)
    return r.stderr


def networks(lab, name: str) -> dict:
    return json.loads(ok(lab, f"inspect -f '{{{{json .NetworkSettings.Networks}}}}' {name}"))


def page(lab) -> str:
    """What the published port 8080 answers on the Docker host ("" until it does)."""
    return sh(lab, "wget -q -O - http://127.0.0.1:8080/ 2>/dev/null || true").stdout


def addresses(lab, name: str) -> list[tuple[str, str]]:
    """The container's IPv4 addresses by interface, as `ip -o -4 addr` lists them."""
    out = sh(lab, "ip -o -4 addr show", ns=name).stdout
    return [(line.split()[1], line.split()[3]) for line in out.splitlines() if line.split()[1] != "lo"]


@BOTH
def test_connect_records_then_start_joins(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    net1 = ok(lab, "network create net1").strip()
    box = ok(lab, "create --name box busybox sleep 300").strip()
    assert ok(lab, "network connect net1 box") == ""
    entry = networks(lab, "box")["net1"]
    assert (entry["IPAMConfig"], entry["DriverOpts"], entry["Links"]) == ({}, {}, None)
    assert (entry["NetworkID"], entry["EndpointID"], entry["IPAddress"], entry["Gateway"]) == ("", "", "", "")
    assert entry["Aliases"] == ([box[:12]] if v19 else [])
    if not v19:
        assert entry["DNSNames"] == ["box", box[:12]] and entry["GwPriority"] == 0
    assert ok(lab, "ps -a --filter network=net1 --format '{{.Names}}'") == "box\n"
    assert ok(lab, "network inspect -f '{{len .Containers}}' net1") == "0\n"  # no endpoint yet

    assert ok(lab, "start box") == "box\n"
    assert addresses(lab, "box") == [("eth0", "172.17.0.2/16"), ("eth1", "172.18.0.2/16")]
    assert sh(lab, "ip route show default", ns="box").stdout == "default via 172.17.0.1 dev eth0 \n"
    hosts = sh(lab, "cat /etc/hosts", ns="box").stdout.splitlines()
    assert hosts[-2:] == [f"172.17.0.2\t{box[:12]}", f"172.18.0.2\t{box[:12]}"]
    assert "nameserver 127.0.0.11" in sh(lab, "cat /etc/resolv.conf", ns="box").stdout
    ok(lab, "run -d --name peer --network net1 busybox sleep 300")
    assert "172.18.0.2" in sh(lab, "ping -c 1 -W 3 box", ns="peer").stdout
    entry = networks(lab, "box")["net1"]
    assert (entry["NetworkID"], entry["IPAddress"], entry["Gateway"]) == (net1, "172.18.0.2", "172.18.0.1")
    assert box in json.loads(ok(lab, "network inspect -f '{{json .Containers}}' net1"))

    # Stopped again, the entry keeps its NetworkID; the next start joins it again.
    ok(lab, "stop -t 0 box")
    entry = networks(lab, "box")["net1"]
    assert (entry["NetworkID"], entry["IPAddress"]) == (net1, "")
    ok(lab, "start box")
    assert [ifname for ifname, _ in addresses(lab, "box")] == ["eth0", "eth1"]


@BOTH
def test_connect_with_ip_and_alias_applies_them_at_start(request, fixture):
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create --subnet 10.10.0.0/24 net2")
    ok(lab, "run -d --name box busybox sleep 300")
    ok(lab, "stop -t 0 box")
    assert ok(lab, "network connect --ip 10.10.0.50 --alias db net2 box") == ""
    entry = networks(lab, "box")["net2"]
    assert entry["IPAMConfig"] == {"IPv4Address": "10.10.0.50"} and entry["IPAddress"] == ""
    ok(lab, "start box")
    assert addresses(lab, "box") == [("eth0", "172.17.0.2/16"), ("eth1", "10.10.0.50/24")]
    ok(lab, "run -d --name peer --network net2 busybox sleep 300")
    assert "10.10.0.50" in sh(lab, "ping -c 1 -W 3 db", ns="peer").stdout


@BOTH
def test_gateway_endpoint_is_the_first_network_by_name(request, fixture):
    """libnetwork sorts a sandbox's endpoints by network name: connected while stopped, `backend`
    gives the default route of a container run on `web` (eth1)."""
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create web")
    ok(lab, "network create backend")
    ok(lab, "create --name api --network web busybox sleep 300")
    ok(lab, "network connect backend api")
    ok(lab, "start api")
    assert addresses(lab, "api") == [("eth0", "172.18.0.2/16"), ("eth1", "172.19.0.2/16")]
    assert sh(lab, "ip route show default", ns="api").stdout == "default via 172.19.0.1 dev eth1 \n"


@BOTH
def test_disconnect_stopped(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    ok(lab, "network create net1")
    box = ok(lab, "create --name box busybox sleep 300").strip()
    ok(lab, "network connect net1 box")
    assert ok(lab, "network disconnect net1 box") == ""
    assert list(networks(lab, "box")) == ["bridge"]
    assert fails(lab, "network disconnect net1 box") == (
        f"Error response from daemon: container {box} is not connected to the network net1\n"
    )
    assert fails(lab, "network disconnect nosuch box") == (
        f"Error response from daemon: container {box} is not connected to the network nosuch\n"
    )
    # With no network left, 19.03's start joins its network mode's again; 28's joins none.
    assert ok(lab, "network disconnect bridge box") == ""
    assert networks(lab, "box") == {}
    ok(lab, "start box")
    assert addresses(lab, "box") == ([("eth0", "172.17.0.2/16")] if v19 else [])
    assert list(networks(lab, "box")) == (["bridge"] if v19 else [])


@BOTH
def test_connect_stopped_refusals(request, fixture):
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    box = ok(lab, "create --name box busybox sleep 300").strip()
    ok(lab, "create --name hostbox --network host busybox sleep 300")
    ok(lab, "create --name nonebox --network none busybox sleep 300")
    ok(lab, "network create net1")
    invalid = "" if v19 else "invalid endpoint settings:\n"
    daemon = "Error response from daemon: "
    # 28 joins every failed check (a predefined network has no static subnet either)
    only_user = "user specified IP address is supported on user defined networks only"
    no_subnet = (
        "user specified IP address is supported only when connecting to networks with user configured subnets"
    )
    assert fails(lab, "network connect --ip 172.17.0.9 bridge box") == daemon + (
        f"{only_user}\n" if v19 else f"{invalid}* {only_user}\n* {no_subnet}\n"
    )
    assert fails(lab, "network connect --alias a bridge box") == (
        f"{daemon}{invalid}network-scoped alias is supported only for containers in user defined networks\n"
    )
    assert fails(lab, "network connect host box") == daemon + (
        "container cannot be disconnected from host network or connected to host network\n"
        if v19
        else "cannot connect container to host network - container must be created in host network mode\n"
    )
    shared = (
        "container sharing network namespace with another container or host "
        "cannot be connected to any other network\n"
    )
    none = (
        "container cannot be connected to multiple networks with one of the networks in private (none) mode\n"
    )
    assert fails(lab, "network connect none box") == daemon + none
    assert fails(lab, "network connect net1 hostbox") == daemon + shared
    assert fails(lab, "network connect net1 nonebox") == daemon + none
    assert fails(lab, "network connect net1 nosuchbox") == daemon + "No such container: nosuchbox\n"
    assert ok(lab, "network connect bridge box") == ""  # already there: no change
    assert list(networks(lab, "box")) == ["bridge"] and box


@BOTH
def test_network_gone_fails_the_start(request, fixture):
    """A network not found is recorded as named; `network rm` checks active endpoints only. The
    start then fails on the name, or on the id of a network the container joined before."""
    lab = request.getfixturevalue(fixture)
    failure = "" if fixture == "lab" else "failed to set up container networking: "
    ok(lab, "create --name box busybox sleep 300")
    assert ok(lab, "network connect nosuch box") == ""
    assert sorted(networks(lab, "box")) == ["bridge", "nosuch"]
    assert fails(lab, "start box") == (
        f"Error response from daemon: {failure}network nosuch not found\n{START_FAILED}"
    )
    ok(lab, "network disconnect nosuch box")
    net1 = ok(lab, "network create net1").strip()
    ok(lab, "network connect net1 box")
    ok(lab, "start box")
    ok(lab, "stop -t 0 box")
    assert ok(lab, "network rm net1") == "net1\n"
    assert fails(lab, "start box") == (
        f"Error response from daemon: {failure}network {net1} not found\n{START_FAILED}"
    )
    assert sh(lab, "ip -o link show | grep -c veth || true").stdout == "0\n"  # nothing left behind


@BOTH
def test_events(request, fixture):
    """No event for a connect to a stopped container; its disconnect logs one in 19.03 only; the
    start logs a connect per network it joins, in order."""
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    ok(lab, "network create net1")
    ok(lab, "network create net2")
    since = sh(lab, "date +%s.%N").stdout.strip()
    box = ok(lab, "create --name box busybox sleep 300").strip()
    ok(lab, "network connect net1 box")
    ok(lab, "network connect net2 box")
    ok(lab, "network disconnect net2 box")
    ok(lab, "start box")
    until = sh(lab, "date +%s.%N").stdout.strip()
    fmt = "'{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}'"
    lines = ok(lab, f"events --since {since} --until {until} --format {fmt}").replace(box, "<box>")
    expected = [
        "container create box <no value>",
        *(["network disconnect net2 <box>"] if v19 else []),
        "network connect bridge <box>",
        "network connect net1 <box>",
        "container start box <no value>",
    ]
    assert lines.splitlines() == expected


@BOTH
def test_published_ports_go_with_the_gateway_endpoint(request, fixture):
    """Connected while stopped, `alpha` sorts before `bridge`: its endpoint (eth1) is the gateway
    endpoint, with the default route and the published port (libnetwork programs external
    connectivity on the gateway endpoint only). All of it goes with the container."""
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create alpha")
    before = sh(lab, STATE).stdout
    ok(lab, "create --name web -p 8080:80 nginx")
    ok(lab, "network connect alpha web")
    ok(lab, "start web")
    assert addresses(lab, "web") == [("eth0", "172.17.0.2/16"), ("eth1", "172.18.0.2/16")]
    assert sh(lab, "ip route show default", ns="web").stdout == "default via 172.18.0.1 dev eth1 \n"
    assert "--to-destination 172.18.0.2:80" in sh(lab, "iptables -t nat -S DOCKER").stdout
    assert "Welcome to nginx!" in wait_for(lambda: page(lab))
    ok(lab, "rm -f web")
    assert sh(lab, STATE).stdout == before


@BOTH
def test_container_mode_and_force(request, fixture):
    """A container: mode container has no entry to conflict with: connect records the network. 19.03's
    allocateNetwork skips such a container; 28's joins its entries, and connectToNetwork refuses. With
    --force, a network not found is looked for among the entries even while the container runs."""
    lab = request.getfixturevalue(fixture)
    v19 = fixture == "lab"
    ok(lab, "network create net1")
    box = ok(lab, "run -d --name box busybox sleep 300").strip()
    ok(lab, "create --name side --network container:box busybox sleep 300")
    assert ok(lab, "network connect net1 side") == ""
    assert list(networks(lab, "side")) == ["net1"]
    if v19:
        assert ok(lab, "start side") == "side\n"
        assert [ifname for ifname, _ in addresses(lab, "side")] == ["eth0"]  # box's
    else:
        assert fails(lab, "start side") == (
            "Error response from daemon: failed to set up container networking: container sharing network "
            "namespace with another container or host cannot be connected to any other network\n"
            "Error: failed to start containers: side\n"
        )
    assert (
        fails(lab, "network disconnect nosuch box")
        == "Error response from daemon: network nosuch not found\n"
    )
    assert fails(lab, "network disconnect -f nosuch box") == (
        f"Error response from daemon: container {box} is not connected to the network nosuch\n"
    )


@BOTH
def test_running_connect_moves_the_gateway_endpoint(request, fixture):
    """The same order for a running container (libnetwork's sbJoin/sbLeave): joining `alpha` moves
    the published port and the default route to it; leaving it moves them back."""
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create alpha")
    before = sh(lab, STATE).stdout
    ok(lab, "run -d --name web -p 8080:80 nginx")
    ok(lab, "network connect alpha web")
    assert sh(lab, "ip route show default", ns="web").stdout == "default via 172.18.0.1 dev eth1 \n"
    dnat = sh(lab, "iptables -t nat -S DOCKER | grep DNAT").stdout
    assert "--to-destination 172.18.0.2:80" in dnat and "172.17.0.2" not in dnat
    assert "Welcome to nginx!" in wait_for(lambda: page(lab))
    ok(lab, "network disconnect alpha web")
    assert sh(lab, "ip route show default", ns="web").stdout == "default via 172.17.0.1 dev eth0 \n"
    dnat = sh(lab, "iptables -t nat -S DOCKER | grep DNAT").stdout
    assert "--to-destination 172.17.0.2:80" in dnat and "172.18.0.2" not in dnat
    assert "Welcome to nginx!" in wait_for(lambda: page(lab))
    assert ok(lab, "port web 80/tcp").startswith("0.0.0.0:8080\n")
    ok(lab, "rm -f web")
    assert sh(lab, STATE).stdout == before


@BOTH
def test_start_takes_the_ports_of_each_gateway_endpoint_it_passes(request, fixture):
    """Joining `bridge` then `alpha`, the start publishes on bridge's endpoint, then moves the ports
    to alpha's (sbJoin: revoked, programmed again): the allocator's next dynamic port is taken."""
    lab = request.getfixturevalue(fixture)
    ok(lab, "network create alpha")
    ok(lab, "create --name web -p 80 nginx")
    ok(lab, "network connect alpha web")
    ok(lab, "start web")
    assert ok(lab, "port web 80/tcp").splitlines()[0] == "0.0.0.0:32769"
    assert "--to-destination 172.18.0.2:80" in sh(lab, "iptables -t nat -S DOCKER").stdout
