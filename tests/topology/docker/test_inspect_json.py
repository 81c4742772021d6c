"""`docker inspect`: containers and networks in Docker's JSON shape."""

from __future__ import annotations

import json

import pytest

from tests.topology.docker.objects import BRIDGE, HOST, LAB, NETWORKS, NONE, V19, V28, exited, web
from topology.docker import inspect_json
from topology.docker.model import Endpoint, PortBinding


def test_inspect_running_bridge_container():
    d = inspect_json.inspect_container(web(), NETWORKS)
    assert list(d)[:5] == ["Id", "Created", "Path", "Args", "State"]
    assert (d["Name"], d["Path"], d["Args"]) == ("/web", "nginx", ["-g", "daemon off;"])
    assert d["State"] == {
        "Status": "running",
        "Running": True,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": False,
        "Dead": False,
        "Pid": 4321,
        "ExitCode": 0,
        "Error": "",
        "StartedAt": "2024-05-01T11:59:57.5Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
    }
    assert d["Config"]["Hostname"] == "wwwwwwwwwwww"
    assert d["Config"]["Image"] == "nginx"
    assert d["Config"]["Cmd"] == ["nginx", "-g", "daemon off;"]
    assert d["Config"]["ExposedPorts"] == {"80/tcp": {}}
    host = d["HostConfig"]
    assert host["NetworkMode"] == "bridge" and host["PublishAllPorts"] is False
    assert host["PortBindings"] == {
        "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
    }
    ns = d["NetworkSettings"]
    assert (ns["IPAddress"], ns["Gateway"], ns["MacAddress"], ns["IPPrefixLen"]) == (
        "172.17.0.2",
        "172.17.0.1",
        "02:42:ac:11:00:02",
        16,
    )
    assert ns["SandboxKey"] == "/var/run/docker/netns/0123456789ab"
    assert ns["Ports"] == {
        "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}],
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
    }
    ep = ns["Networks"]["bridge"]
    assert (
        ep["NetworkID"] == BRIDGE.id and len(ep["EndpointID"]) == 64 and ep["EndpointID"] == ns["EndpointID"]
    )
    assert (ep["IPAddress"], ep["Gateway"], ep["MacAddress"], ep["IPPrefixLen"]) == (
        "172.17.0.2",
        "172.17.0.1",
        "02:42:ac:11:00:02",
        16,
    )
    assert ep["Aliases"] is None and list(ep)[:3] == ["IPAMConfig", "Links", "Aliases"]


@pytest.mark.parametrize("version", [V19, V28])
def test_inspect_port_bindings_are_the_bindings_asked_for(version):
    c = web()
    c.published = [PortBinding(53, "udp", "::1", 5353), PortBinding(80, host_port=8080)]
    bindings = inspect_json.inspect_container(c, NETWORKS, version=version)["HostConfig"]["PortBindings"]
    assert bindings == {
        "53/udp": [{"HostIp": "::1", "HostPort": "5353"}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
    }


def test_inspect_user_network_container_per_version():
    c = web()
    c.network_mode = "lab"
    c.requested_ip = "172.18.0.50"
    c.endpoints = [
        Endpoint("lab", "172.18.0.50", 16, "172.18.0.1", "02:42:ac:12:00:32", "eth0", "veth2", ["www"])
    ]
    old = inspect_json.inspect_container(c, NETWORKS, version=V19)["NetworkSettings"]
    assert old["IPAddress"] == "" and old["Networks"]["lab"]["IPAddress"] == "172.18.0.50"
    assert old["Networks"]["lab"]["Aliases"] == ["www", "wwwwwwwwwwww"]  # short id appended
    assert old["Networks"]["lab"]["IPAMConfig"] == {"IPv4Address": "172.18.0.50"}
    new = inspect_json.inspect_container(c, NETWORKS, version=V28)["NetworkSettings"]["Networks"]["lab"]
    # buildEndpointDNSNames: name, aliases, short id, hostname (deduplicated)
    assert new["Aliases"] == ["www"] and new["DNSNames"] == ["web", "www", "wwwwwwwwwwww"]
    assert list(new)[3:6] == ["MacAddress", "DriverOpts", "GwPriority"]


@pytest.mark.parametrize("mode", ["host", "none"])
def test_inspect_host_and_none_modes(mode):
    c = web()
    c.network_mode, c.endpoints, c.ports = mode, [], []
    c.sandbox_key = (
        "/var/run/docker/netns/default" if mode == "host" else "/var/run/docker/netns/abcdefabcdef"
    )
    ns = inspect_json.inspect_container(c, NETWORKS)["NetworkSettings"]
    assert (ns["IPAddress"], ns["Gateway"], ns["MacAddress"], ns["Ports"]) == ("", "", "", {})
    assert ns["SandboxKey"] == c.sandbox_key
    ep = ns["Networks"][mode]
    assert ep["NetworkID"] == {"host": HOST, "none": NONE}[mode].id and len(ep["EndpointID"]) == 64
    assert (ep["IPAddress"], ep["Gateway"], ep["MacAddress"], ep["IPPrefixLen"]) == ("", "", "", 0)


def test_inspect_container_mode_and_stopped():
    c = web()
    c.network_mode, c.endpoints, c.ports = "container:" + "d" * 64, [], []
    d = inspect_json.inspect_container(c, NETWORKS)
    assert d["HostConfig"]["NetworkMode"] == "container:" + "d" * 64
    assert d["NetworkSettings"]["Networks"] == {} and d["NetworkSettings"]["SandboxKey"] == ""
    stopped = inspect_json.inspect_container(exited(), NETWORKS)
    assert stopped["State"]["Pid"] == 0 and stopped["State"]["ExitCode"] == 137
    ep = stopped["NetworkSettings"]["Networks"]["bridge"]
    assert (ep["NetworkID"], ep["EndpointID"], ep["IPAddress"]) == (BRIDGE.id, "", "")
    assert stopped["NetworkSettings"]["Ports"] == {} and "ExposedPorts" not in stopped["Config"]


def test_inspect_network():
    lab_web = web()
    lab_web.endpoints = [
        Endpoint("lab", "172.18.0.2", 16, "172.18.0.1", "02:42:ac:12:00:02", "eth0", "veth3")
    ]
    d = inspect_json.inspect_network(LAB, [lab_web, exited()])
    assert (d["Name"], d["Id"], d["Scope"], d["Driver"], d["Internal"]) == (
        "lab",
        LAB.id,
        "local",
        "bridge",
        False,
    )
    assert d["IPAM"] == {
        "Driver": "default",
        "Options": {},
        "Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}],
    }
    entry = d["Containers"][lab_web.id]
    assert (entry["Name"], entry["MacAddress"], entry["IPv4Address"]) == (
        "web",
        "02:42:ac:12:00:02",
        "172.18.0.2/16",
    )
    assert d["Labels"] == {"lab": "1"} and "EnableIPv4" not in d
    assert inspect_json.inspect_network(LAB, [], version=V28)["EnableIPv4"] is True
    assert inspect_json.inspect_network(BRIDGE, [])["IPAM"]["Options"] is None
    assert list(inspect_json.inspect_network(BRIDGE, [])["Options"]) == [
        "com.docker.network.bridge.default_bridge",
        "com.docker.network.bridge.name",
    ]
    on_host = web()
    on_host.network_mode, on_host.endpoints = "host", []
    host = inspect_json.inspect_network(HOST, [on_host])
    assert host["IPAM"]["Config"] == []
    assert host["Containers"][on_host.id]["IPv4Address"] == ""


def test_format_inspect_is_an_indented_json_array():
    text = inspect_json.format_inspect([{"Name": "x", "Labels": {}, "Args": []}])
    assert text == '[\n    {\n        "Name": "x",\n        "Labels": {},\n        "Args": []\n    }\n]\n'
    assert (
        json.loads(inspect_json.format_inspect([inspect_json.inspect_container(web(), NETWORKS)]))[0]["Name"]
        == "/web"
    )


@pytest.mark.parametrize("version", [V19, V28])
def test_links_on_a_user_network_are_its_endpoint_option(version):
    """docker/cli sends --link on a user network as the first network's endpoint Links (an alias
    there), not as a legacy link: HostConfig.Links stays null."""
    c = web()
    c.network_mode = "lab"
    c.links = [("db", "database"), ("cache", "cache")]
    c.endpoints = [Endpoint("lab", "172.18.0.5", 16, "172.18.0.1", "02:42:ac:12:00:05", "eth0", "veth5", [])]
    d = inspect_json.inspect_container(c, NETWORKS, version=version)
    assert d["NetworkSettings"]["Networks"]["lab"]["Links"] == ["db:database", "cache"]
    assert d["HostConfig"]["Links"] is None
    c.network_mode, c.endpoints = "bridge", []
    legacy = inspect_json.inspect_container(c, NETWORKS, version=version)
    assert legacy["HostConfig"]["Links"] == ["/db:/web/database", "/cache:/web/cache"]
