"""Containers and networks as the engine holds them, for the tests of Docker's output."""

from __future__ import annotations

from topology.docker.model import Container, Endpoint, ExposedPort, Network, PortBinding

V19, V28 = "19.03", "28"
NOW = "2024-05-01T12:00:00Z"


def network(name: str, driver: str = "bridge", **kw) -> Network:
    ids = {"bridge": "1a", "host": "2b", "none": "3c", "lab": "4d"}
    return Network(
        id=ids.get(name, "5e") * 32, name=name, driver=driver, created="2024-05-01T11:00:00.123456789Z", **kw
    )


BRIDGE = network(
    "bridge",
    subnet="172.17.0.0/16",
    gateway="172.17.0.1",
    bridge="docker0",
    options={"com.docker.network.bridge.name": "docker0", "com.docker.network.bridge.default_bridge": "true"},
)
HOST = network("host", "host")
NONE = network("none", "null")
LAB = network(
    "lab", subnet="172.18.0.0/16", gateway="172.18.0.1", bridge="br-4d4d4d4d4d4d", labels={"lab": "1"}
)
NETWORKS = [BRIDGE, HOST, NONE, LAB]


def container(name: str, **kw) -> Container:
    fields = {
        "id": (name[0] * 64),
        "name": name,
        "image": "nginx",
        "cmd": ["nginx", "-g", "daemon off;"],
        "created": "2024-05-01T11:59:00Z",
        "network_mode": "bridge",
        "hostname": name[0] * 12,
    }
    fields.update(kw)
    return Container(**fields)


def web() -> Container:
    return container(
        "web",
        status="running",
        started_at="2024-05-01T11:59:57.5Z",
        pid=4321,
        exposed=[ExposedPort(80)],
        published=[PortBinding(80, host_port=8080), PortBinding(443, host_ip="127.0.0.1")],
        ports=[PortBinding(80, "tcp", "0.0.0.0", 8080), PortBinding(443, "tcp", "127.0.0.1", 32768)],
        endpoints=[Endpoint("bridge", "172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02", "eth0", "veth1")],
        sandbox_key="/var/run/docker/netns/0123456789ab",
    )


def exited() -> Container:
    return container(
        "db",
        image="busybox",
        cmd=["sh"],
        created="2024-05-01T11:50:00Z",
        status="exited",
        exit_code=137,
        started_at="2024-05-01T11:50:01Z",
        finished_at="2024-05-01T11:58:00Z",
    )


def fresh() -> Container:
    return container("new", image="alpine", cmd=["/bin/sh"], created="2024-05-01T10:00:00Z")
