"""The emulated Docker engine's state: containers, networks and published ports."""

from __future__ import annotations

from dataclasses import dataclass, field

Version = str  # "19.03" or "28"
VERSIONS = ("19.03", "28")
DEFAULT_VERSION: Version = "19.03"
PROTOCOLS = ("tcp", "udp", "sctp")  # of a published or exposed port
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExposedPort(str):
    """A container port (`--expose`, the image's EXPOSE, a published port's target): "80/tcp".

    Like Docker's own nat.Port, a string with its number and protocol: it sorts, prints and
    serialises (snapshots, inspect keys) as Docker's text, and is immutable and hashable.
    """

    __slots__ = ()

    def __new__(cls, port: int, proto: str = "tcp") -> ExposedPort:
        return super().__new__(cls, f"{port}/{proto}")

    def __getnewargs__(self) -> tuple[int, str]:  # copy and pickle rebuild it from its parts
        return self.port, self.proto

    @property
    def port(self) -> int:
        return int(self.partition("/")[0])

    @property
    def proto(self) -> str:
        return self.partition("/")[2]


@dataclass(frozen=True)
class PortBinding:
    """One published port: host_ip:host_port[-host_port_end] -> container_port/proto.

    Asked for (`-p`, parsed once by the CLI): host_ip "" is the default address, host_port 0 a
    dynamic port. Bound (Container.ports, while running): the address and port the daemon chose.
    """

    container_port: int
    proto: str = "tcp"  # "tcp" | "udp" | "sctp"
    host_ip: str = ""
    host_port: int = 0
    host_port_end: int = 0  # the last port of a host port range; 0: a single port

    @property
    def target(self) -> ExposedPort:
        return ExposedPort(self.container_port, self.proto)


@dataclass(frozen=True)
class DnsConfig:
    """A container's name settings: HostConfig Dns, DnsSearch, DnsOptions and ExtraHosts (`NAME:IP`,
    or `NAME:host-gateway`), Config.Domainname."""

    servers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()
    domainname: str = ""


NO_DNS = DnsConfig()


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
    is_gateway: bool = False  # the sandbox's gateway endpoint: the default route and published ports


@dataclass
class NetworkConfig:
    """An entry of a container's NetworkSettings.Networks, kept while it is not running (the daemon's
    EndpointSettings): what `docker run`/`create` asked for its network mode's network, or what
    `docker network connect` gave (the CLI's IPAMConfig, Aliases and DriverOpts, sent even empty)."""

    name: str  # the network's name, or the reference given for a network not found (kept so)
    ip: str = ""  # IPAMConfig.IPv4Address (--ip)
    aliases: list[str] = field(default_factory=list)
    network_id: str = ""  # NetworkID: set when the container first joins it, kept after
    connected: bool = False  # given by `docker network connect`


@dataclass
class Privileges:
    """--cap-add, --cap-drop, --privileged and --security-opt as given (HostConfig keeps them so)."""

    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    security_opt: list[str] = field(default_factory=list)


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
    error: str = ""  # State.Error: why the last start failed
    started_at: str = ""
    finished_at: str = ""
    pid: int = 0  # as the student sees it (the Docker host's pid namespace); 0 when not running
    tty: bool = False
    interactive: bool = False
    auto_remove: bool = False
    publish_all: bool = False
    exposed: list[ExposedPort] = field(default_factory=list)
    published: list[PortBinding] = field(default_factory=list)  # the -p bindings asked for, bound at start
    ports: list[PortBinding] = field(default_factory=list)  # the bound ones, while running
    endpoints: list[Endpoint] = field(default_factory=list)  # live while running
    # NetworkSettings.Networks once connect or disconnect changed it or the container started (None:
    # its network mode's network, with requested_ip and aliases): see configured_networks
    networks: list[NetworkConfig] | None = None
    requested_ip: str = ""
    requested_mac: str = ""
    sandbox_key: str = ""  # /var/run/docker/netns/<12 hex>
    labels: dict[str, str] = field(default_factory=dict)  # --label
    aliases: list[str] = field(default_factory=list)  # --network-alias, on the network it is run on
    links: list[tuple[str, str]] = field(default_factory=list)  # --link: (container name, alias)
    dns: DnsConfig = NO_DNS
    env: list[str] = field(default_factory=list)  # Config.Env after the image's PATH: -e values
    link_env: list[str] = field(default_factory=list)  # the links' variables, made at start
    privileges: Privileges = field(default_factory=Privileges)
    workdir: str = ""  # -w: Config.WorkingDir, where its process starts (made if missing, as moby does)

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
    masquerade: bool = True  # com.docker.network.bridge.enable_ip_masquerade
    ip_range: str = ""  # --ip-range: the sub-range containers' addresses come from
    user_subnet: bool = False  # `--subnet` given: only then may a container ask for its address (--ip)
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def is_default_bridge(self) -> bool:
        return self.name == "bridge"

    @property
    def user_defined(self) -> bool:
        """Docker's IsUserDefined: the networks with an embedded DNS (not bridge, host or none)."""
        return self.name not in ("bridge", "host", "none")


# -- what Docker derives from a container's state -----------------------------------------------


def is_running(c: Container) -> bool:
    """Docker's State.Running: also true while paused or restarting."""
    return c.status in ("running", "paused", "restarting")


def own_netns(c: Container) -> bool:
    """Whether the container has a network namespace of its own (not host, none or container:)."""
    return c.network_mode not in ("host", "none") and not c.network_mode.startswith("container:")


def port_entries(c: Container) -> list[tuple[str, int, int, str]]:
    """The daemon's Ports of a listed container: (host ip, private, public, proto); public 0: exposed only."""
    if not is_running(c):
        return []
    entries = [(b.host_ip, b.container_port, b.host_port, b.proto) for b in c.ports]
    bound = {b.target for b in c.ports}
    if own_netns(c):
        entries += [("", e.port, 0, e.proto) for e in c.exposed if e not in bound]
    return entries


def published_endpoint(c: Container) -> Endpoint | None:
    """The endpoint its ports are published on: its gateway endpoint (the first one, in a state
    written before endpoints said so)."""
    fallback = c.endpoints[0] if c.ports and c.endpoints else None
    return next((ep for ep in c.endpoints if ep.is_gateway), fallback)


def network_names(c: Container) -> list[str]:
    """The keys of the container's NetworkSettings.Networks (none in a container: mode)."""
    if c.endpoints:
        return [ep.network for ep in c.endpoints]
    return [cfg.name for cfg in configured_networks(c)]


def configured_networks(c: Container) -> list[NetworkConfig]:
    """The container's NetworkSettings.Networks: what connect and disconnect left, else its network
    mode's network (none for a container: mode)."""
    if c.networks is not None:
        return c.networks
    if c.network_mode.startswith("container:"):
        return []
    name = "bridge" if c.network_mode == "default" else c.network_mode
    return [NetworkConfig(name, ip=c.requested_ip, aliases=list(c.aliases))]


def process_env(c: Container, tty: bool) -> dict[str, str]:
    """The environment of the container's processes and of `docker exec` (the daemon's
    CreateDaemonEnvironment: PATH, HOSTNAME, TERM with a tty, the links' variables, then Config.Env;
    HOME as the runtime adds it)."""
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": c.hostname, **({"TERM": "xterm"} if tty else {})}
    for item in [*c.link_env, *c.env]:
        key, eq, value = item.partition("=")
        if eq:  # a `-e NAME` the client did not have is dropped
            env[key] = value
    env.setdefault("HOME", "/root")
    return env


def dns_names(version: str, c: Container, aliases: list[str]) -> list[str]:
    """The names an endpoint answers to: 19.03's name and MyAliases (the aliases, then the short id
    the daemon appends), 28's DNSNames (buildEndpointDNSNames: name, aliases, short id, hostname)."""
    names = [c.name, *aliases, c.short_id, *([c.hostname] if version != "19.03" else [])]
    return list(dict.fromkeys(names))
