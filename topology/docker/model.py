"""The emulated Docker engine's state: containers, networks and published ports."""

from __future__ import annotations

from dataclasses import dataclass, field

Version = str  # "19.03" or "28"
VERSIONS = ("19.03", "28")


@dataclass
class PortBinding:
    """One published port: host_ip:host_port -> container_port/proto."""

    container_port: int
    proto: str  # "tcp" | "udp" | "sctp"
    host_ip: str  # "0.0.0.0" unless given
    host_port: int


@dataclass
class Endpoint:
    """A container's attachment to a network (its veth pair and address)."""

    network: str  # network name
    ip: str  # "172.17.0.2"
    prefixlen: int
    gateway: str  # "" for internal networks without a gateway
    mac: str
    ifname: str  # inside the container: eth0, eth1...
    host_veth: str  # vethXXXXXXX on the Docker host
    aliases: list[str] = field(default_factory=list)


@dataclass
class Container:
    """An emulated container: a real process tree in its own namespaces."""

    id: str  # 64 hex
    name: str  # without the leading "/"
    image: str  # "nginx", "busybox", "alpine", "httpd"
    cmd: list[str]
    created: str  # RFC 3339
    network_mode: str  # "bridge", "host", "none", "container:<id>", or a user network name
    hostname: str
    status: str = "created"  # created | running | exited
    exit_code: int = 0
    started_at: str = ""
    finished_at: str = ""
    pid: int = 0  # as the student sees it (the Docker host's pid namespace); 0 when not running
    tty: bool = False
    interactive: bool = False
    auto_remove: bool = False
    publish_all: bool = False
    exposed: list[str] = field(default_factory=list)  # ["80/tcp"]
    port_specs: list[str] = field(default_factory=list)  # the -p arguments as given, resolved at start
    ports: list[PortBinding] = field(default_factory=list)  # live bindings while running
    endpoints: list[Endpoint] = field(default_factory=list)  # live while running
    requested_ip: str = ""
    requested_mac: str = ""
    sandbox_key: str = ""  # /var/run/docker/netns/<12 hex>
    labels: dict[str, str] = field(default_factory=dict)  # --label

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass
class Network:
    """An emulated Docker network."""

    id: str  # 64 hex
    name: str
    driver: str  # "bridge", "host", "null"
    created: str
    subnet: str = ""  # "172.17.0.0/16"
    gateway: str = ""  # "172.17.0.1"
    bridge: str = ""  # docker0, br-<12hex>
    internal: bool = False
    icc: bool = True
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def is_default_bridge(self) -> bool:
        return self.name == "bridge"
