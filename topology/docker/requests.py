"""The typed requests a `docker ...` command line parses into."""

from __future__ import annotations

from dataclasses import dataclass, field

from topology.docker.model import ExposedPort, PortBinding, Privileges


@dataclass
class Request:
    """Base class of every parsed command."""


@dataclass
class ContainerSpec:
    """What `docker run`/`docker create` asked for, validated like the CLI and the daemon do."""

    image: str
    cmd: list[str] = field(default_factory=list)
    name: str = ""
    network: str = "bridge"  # bridge | host | none | container:NAME | a user network
    extra_networks: list[str] = field(default_factory=list)  # 28: further --network values
    hostname: str = ""
    ip: str = ""
    mac: str = ""
    ports: list[PortBinding] = field(default_factory=list)  # -p, parsed once; "" and 0 where not given
    publish_all: bool = False
    expose: list[ExposedPort] = field(default_factory=list)  # --expose, one per port of a range
    interactive: bool = False
    tty: bool = False
    auto_remove: bool = False
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    domainname: str = ""
    add_hosts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # -l/--label: `k=v`, or `k` for an empty value
    user: str = ""
    workdir: str = ""
    entrypoint: str | None = None
    privileges: Privileges = field(default_factory=Privileges)
    unsupported: list[str] = field(default_factory=list)  # Docker flags given that the lab ignores


@dataclass
class RunRequest(Request):
    """`docker run`."""

    spec: ContainerSpec
    detach: bool = False
    warnings: list[str] = field(default_factory=list)  # printed on stderr, e.g. HOST_MODE_WARNING
    console_size: tuple[int, int] | None = None  # the client's (columns, rows): its pty's from the start
    sig_proxy: bool = True  # attached without -t: the client's signals go to the container (--sig-proxy)


@dataclass
class CreateRequest(Request):
    """`docker create`."""

    spec: ContainerSpec
    warnings: list[str] = field(default_factory=list)


@dataclass
class PsRequest(Request):
    """`docker ps` / `docker container ls`."""

    all: bool = False
    quiet: bool = False
    no_trunc: bool = False
    last: int = -1
    latest: bool = False
    size: bool = False
    filters: list[str] = field(default_factory=list)
    format: str = ""


@dataclass
class PortRequest(Request):
    """`docker port CONTAINER [PRIVATE_PORT[/PROTO]]`."""

    container: str
    port: str = ""


@dataclass
class InspectRequest(Request):
    """`docker inspect` (kind ""/--type), `docker container inspect`, `docker network inspect`."""

    names: list[str]
    kind: str = ""  # "" = any object, "container", "network" (or another --type value)
    format: str = ""
    size: bool = False
    verbose: bool = False


@dataclass
class ExecRequest(Request):
    """`docker exec`."""

    container: str
    cmd: list[str]
    detach: bool = False
    interactive: bool = False
    tty: bool = False
    privileged: bool = False
    env: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    console_size: tuple[int, int] | None = None  # as RunRequest's


@dataclass
class StartRequest(Request):
    """`docker start`."""

    containers: list[str]
    attach: bool = False
    interactive: bool = False


@dataclass
class StopRequest(Request):
    """`docker stop`; timeout None means the default (10 s)."""

    containers: list[str]
    timeout: int | None = None
    signal: str = ""


@dataclass
class RestartRequest(Request):
    """`docker restart`."""

    containers: list[str]
    timeout: int | None = None
    signal: str = ""


@dataclass
class KillRequest(Request):
    """`docker kill`; 19.03's CLI sends "KILL" by default, 28's nothing (the daemon's SIGKILL)."""

    containers: list[str]
    signal: str = ""


@dataclass
class RenameRequest(Request):
    """`docker rename CONTAINER NEW_NAME`."""

    old: str
    new: str


@dataclass
class WaitRequest(Request):
    """`docker wait`."""

    containers: list[str]


@dataclass
class RmRequest(Request):
    """`docker rm`."""

    containers: list[str]
    force: bool = False
    volumes: bool = False
    link: bool = False


@dataclass
class TopRequest(Request):
    """`docker top CONTAINER [ps OPTIONS]`."""

    container: str
    args: list[str] = field(default_factory=list)


@dataclass
class LogsRequest(Request):
    """`docker logs`."""

    container: str
    follow: bool = False
    timestamps: bool = False
    tail: str = "all"
    since: str = ""
    until: str = ""
    details: bool = False


@dataclass
class EventsRequest(Request):
    """`docker events` / `docker system events`; `tz` is the CLI's TZ (None: unset)."""

    since: str = ""
    until: str = ""
    filters: list[str] = field(default_factory=list)
    format: str = ""
    tz: str | None = None


@dataclass
class ImagesRequest(Request):
    """`docker images` / `docker image ls`."""

    repository: str = ""
    all: bool = False
    quiet: bool = False
    no_trunc: bool = False
    digests: bool = False
    filters: list[str] = field(default_factory=list)
    format: str = ""


@dataclass
class VersionRequest(Request):
    """`docker version`; short for `docker --version`."""

    format: str = ""
    short: bool = False


@dataclass
class InfoRequest(Request):
    """`docker info`."""

    format: str = ""


@dataclass
class HelpRequest(Request):
    """Print `text` on `stream` and exit 0 (`--help`, or a management command without subcommand)."""

    text: str
    stream: str = "stdout"


@dataclass
class NetworkLsRequest(Request):
    """`docker network ls`."""

    quiet: bool = False
    no_trunc: bool = False
    filters: list[str] = field(default_factory=list)
    format: str = ""


@dataclass
class NetworkCreateRequest(Request):
    """`docker network create`; the bridge options are also decoded into typed fields."""

    name: str
    driver: str = "bridge"
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    internal: bool = False
    attachable: bool = False
    ipv6: bool = False
    options: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    bridge_name: str = ""  # com.docker.network.bridge.name
    icc: bool = True  # com.docker.network.bridge.enable_icc
    masquerade: bool = True  # com.docker.network.bridge.enable_ip_masquerade
    host_binding_ipv4: str = ""  # com.docker.network.bridge.host_binding_ipv4
    mtu: int = 0  # com.docker.network.driver.mtu; 0 = default


@dataclass
class NetworkRmRequest(Request):
    """`docker network rm`."""

    names: list[str]
    force: bool = False


@dataclass
class NetworkConnectRequest(Request):
    """`docker network connect NETWORK CONTAINER`."""

    network: str
    container: str
    ip: str = ""
    aliases: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


@dataclass
class NetworkDisconnectRequest(Request):
    """`docker network disconnect NETWORK CONTAINER`."""

    network: str
    container: str
    force: bool = False


@dataclass
class NetworkPruneRequest(Request):
    """`docker network prune`; without force the engine asks for confirmation."""

    force: bool = False
    filters: list[str] = field(default_factory=list)
