"""Parse the student's `docker ...` argv into typed requests, with Docker's exact texts and exit codes.

Pure: no kernel access, no I/O. The command tree (docker/cli's Use, Short, flags and argument rules),
the values docker/cli validates while parsing, and the builders of each request; the flag parsing
itself (spf13/pflag) is in `flags`. Error texts follow docker/cli, go-connections/nat and the daemon's
validation for the two emulated eras; `version` picks the era ("19.03" or "28").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import fields
from functools import cache

from topology.docker.clierrors import CliError, daemon_error, run_failure
from topology.docker.envfile import ClientSide, read_env
from topology.docker.flags import (
    IGNORED,
    Command,
    Parsed,
    args_error,
    flag_table,
    help_text,
    parse_flags,
    unknown_command,
)
from topology.docker.gotemplate import parse_format
from topology.docker.gotemplate_parse import parse_template
from topology.docker.gotext import MAC_RE, GoError, go_parse_ip, go_quote, is_ipv4
from topology.docker.model import DEFAULT_VERSION, VERSIONS, ExposedPort, PortBinding, Privileges, Version
from topology.docker.names import VALID_CHARS, valid_name
from topology.docker.netcreate import build_network_create
from topology.docker.portspec import parse_expose, parse_publish
from topology.docker.requests import (
    ContainerSpec,
    CreateRequest,
    EventsRequest,
    ExecRequest,
    HelpRequest,
    ImagesRequest,
    InfoRequest,
    InspectRequest,
    KillRequest,
    LogsRequest,
    NetworkConnectRequest,
    NetworkDisconnectRequest,
    NetworkLsRequest,
    NetworkPruneRequest,
    NetworkRmRequest,
    PortRequest,
    PsRequest,
    RenameRequest,
    Request,
    RestartRequest,
    RmRequest,
    RunRequest,
    StartRequest,
    StopRequest,
    TopRequest,
    VersionRequest,
    WaitRequest,
)

HOST_MODE_WARNING = "WARNING: Published ports are discarded when using host network mode"


def _check_ip(value: str) -> str:
    if not go_parse_ip(value.strip()):
        raise GoError(f"{value} is not an ip address")
    return go_parse_ip(value.strip())


def _check_filter(value: str) -> str:
    """docker/cli's FilterOpt.Set: `name=value` (an empty value is ignored)."""
    if value and "=" not in value:
        raise GoError("bad format of filter (expected name=value)")
    return value


_DOMAIN_RE = re.compile(
    r"((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9]))*)\.?\s*"
)


def _check_dns_search(value: str) -> str:
    """docker/cli's ValidateDNSSearch: "." or a domain (returned without its trailing dot)."""
    value = value.strip(" ")
    if value == ".":
        return value
    m = _DOMAIN_RE.fullmatch(value)
    if not re.search("[a-zA-Z]", value) or m is None or len(m[1]) >= 255:
        raise GoError(f"{value} is not a valid domain")
    return m[1]


def _check_link(value: str) -> str:
    if not value:
        raise GoError("empty string specified for links")
    if value.count(":") > 1:
        raise GoError(f"bad format for links: {value}")
    return value


def _check_add_host(version: Version) -> Callable[[str], str]:
    def check(value: str) -> str:
        if version == "19.03":
            name, sep, ip = value.partition(":")
            if not sep or not name:
                raise GoError(f"bad format for add-host: {go_quote(value)}")
        else:
            name, sep, ip = value.partition("=")
            if not sep:
                name, sep, ip = value.partition(":")
            if not sep or not name or ":" in name:
                raise GoError(f"bad format for add-host: {go_quote(value)}")
            if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
                ip = ip[1:-1]
            if ip != "host-gateway" and not go_parse_ip(ip.strip()):
                raise GoError(f"invalid IP address in add-host: {go_quote(ip)}")
            return f"{name}:{ip}"  # what 28's CLI sends the daemon
        if not go_parse_ip(ip.strip()):
            raise GoError(f"invalid IP address in add-host: {go_quote(ip)}")
        return value

    return check


_NETWORK_KEYS = ("name", "alias", "ip", "ip6", "mac-address", "link-local-ip", "driver-opt", "gw-priority")


def _check_network_28(value: str) -> str:
    """docker/cli 28's NetworkOpt: a name, or `name=NET,alias=A,ip=…` fields."""
    if "=" in value:
        for part in value.split(","):
            key, _, _ = part.partition("=")
            if key.strip().lower() not in _NETWORK_KEYS:
                raise GoError(f"invalid field key {key}")
    return value


def _network_fields(value: str) -> dict[str, str]:
    if "=" not in value:
        return {"name": value}
    parsed: dict[str, str] = {}
    for part in value.split(","):
        key, _, val = part.partition("=")
        parsed.setdefault(key.strip().lower(), val)
    return parsed


_CONTAINER_FLAGS = """
   --add-host               list      Add a custom host-to-IP mapping (host:ip)
   --cap-add                list      Add Linux capabilities
   --cap-drop               list      Drop Linux capabilities
   --dns                    list      Set custom DNS servers
   --dns-option             list      Set DNS options
   --dns-opt=dns_option     list      -
   --dns-search             list      Set custom DNS search domains
   --domainname             string    Container NIS domain name
   --entrypoint             string    Overwrite the default ENTRYPOINT of the image
-e --env                    list      Set environment variables
   --env-file               list      Read in a file of environment variables
   --expose                 list      Expose a port or a range of ports
   --help                   bool      Print usage
-h --hostname               string    Container host name
-i --interactive            bool      Keep STDIN open even if not attached
   --ip                     string    IPv4 address (e.g., 172.30.100.104)
-l --label                  list      Set meta data on a container
   --link                   list      Add link to another container
   --mac-address            string    Container MAC address (e.g., 92:d0:c6:0a:29:33)
   --name                   string    Assign a name to the container
   --network-alias=aliases  list      Add network-scoped alias for the container
   --net-alias=aliases      list      -
   --privileged             bool      Give extended privileges to this container
-p --publish                list      Publish a container's port(s) to the host
-P --publish-all            bool      Publish all exposed ports to random ports
   --rm                     bool      Automatically remove the container when it exits
   --security-opt           list      Security Options
-t --tty                    bool      Allocate a pseudo-TTY
-u --user                   string    Username or UID (format: <name|uid>[:<group|gid>])
-w --workdir                string    Working directory inside the container
-a --attach                 list      ~
   --cpus                   string    ~
   --device                 list      ~
   --init                   bool      ~
   --ip6                    string    ~
   --ipc                    string    ~
   --log-driver             string    ~
   --log-opt                list      ~
-m --memory                 string    ~
   --mount                  list      ~
   --pid                    string    ~
   --platform               string    ~
   --read-only              bool      ~
   --restart                string    ~
   --stop-signal            string    ~
   --stop-timeout           int       ~
   --sysctl                 list      ~
   --tmpfs                  list      ~
   --ulimit                 list      ~
   --userns                 string    ~
   --uts                    string    ~
-v --volume                 list      ~
   --volumes-from           list      ~
"""
_CONTAINER_FLAGS_BY_VERSION = {
    "19.03": """
   --network                string=default   Connect a container to a network
   --net=network            string=default   -
""",
    "28": """
   --network                list      Connect a container to a network
   --net=network            list      -
   --pull                   string    ~
-q --quiet                  bool      ~
""",
}
_RUN_FLAGS = """
-d --detach                 bool        Run container in background and print container ID
   --detach-keys            string      Override the key sequence for detaching a container
   --sig-proxy              bool=true   Proxy received signals to the process
"""
_PS_FLAGS = """
-a --all                    bool      Show all containers (default shows just running)
-f --filter=filters         filter    Filter output based on conditions provided
   --format                 string    Pretty-print containers using a Go template
-n --last                   int=-1    Show n last created containers (includes all states)
-l --latest                 bool      Show the latest created container (includes all states)
   --no-trunc               bool      Don't truncate output
-q --quiet                  bool      Only display container IDs
-s --size                   bool      Display total file sizes
"""
_FORMAT_FLAG = "-f --format string Format the output using the given Go template\n"
_EXEC_FLAGS = """
-d --detach                 bool      Detached mode: run command in the background
   --detach-keys            string    Override the key sequence for detaching a container
-e --env                    list      Set environment variables
-i --interactive            bool      Keep STDIN open even if not attached
   --privileged             bool      Give extended privileges to the command
-t --tty                    bool      Allocate a pseudo-TTY
-u --user                   string    Username or UID (format: <name|uid>[:<group|gid>])
-w --workdir                string    Working directory inside the container
"""
_EXEC_FLAGS_BY_VERSION = {"19.03": "", "28": "   --env-file list Read in a file of environment variables\n"}
_START_FLAGS = """
-a --attach                 bool      Attach STDOUT/STDERR and forward signals
   --detach-keys            string    Override the key sequence for detaching a container
-i --interactive            bool      Attach container's STDIN
"""
_STOP_FLAGS = {
    "19.03": "-t --time int=10 Seconds to wait for stop before killing it",
    "28": """
-s --signal                 string    Signal to send to the container
-t --timeout=time           int=10    Seconds to wait before killing the container
   --time                   int=10    -
""",
}
_RM_FLAGS = """
-f --force                  bool      Force the removal of a running container (uses SIGKILL)
-l --link                   bool      Remove the specified link
-v --volumes                bool      Remove anonymous volumes associated with the container
"""
_KILL_FLAGS = {  # 19.03's CLI sends KILL; 28's sends no signal, and the daemon uses SIGKILL
    "19.03": "-s --signal string=KILL Signal to send to the container",
    "28": "-s --signal string Signal to send to the container",
}
_LOGS_FLAGS = """
   --details                bool      Show extra details provided to logs
-f --follow                 bool      Follow log output
   --since                  string    Show logs since timestamp or relative (e.g. 42m for 42 minutes)
-t --timestamps             bool      Show timestamps
   --until                  string    Show logs before a timestamp or relative (e.g. 42m for 42 minutes)
"""
_LOGS_TAIL = {
    "19.03": "   --tail string=all Number of lines to show from the end of the logs",
    "28": "-n --tail string=all Number of lines to show from the end of the logs",
}
_IMAGES_FLAGS = """
-a --all                    bool      Show all images (default hides intermediate images)
   --digests                bool      Show digests
-f --filter=filters         filter    Filter output based on conditions provided
   --format                 string    Pretty-print images using a Go template
   --no-trunc               bool      Don't truncate output
-q --quiet                  bool      Only show image IDs
"""
_EVENTS_FLAGS = """
-f --filter=filters         filter    Filter output based on conditions provided
   --format                 string    Format the output using the given Go template
   --since                  string    Show all events created since timestamp
   --until                  string    Stream events until this timestamp
"""
_INSPECT_FLAGS = """
-f --format                 string    Format the output using the given Go template
-s --size                   bool      Display total file sizes if the type is container
   --type                   string    Return JSON for specified type
"""
_NETWORK_CONNECT_FLAGS = """
   --alias=aliases          list      Add network-scoped alias for the container
   --driver-opt             list      driver options for the network
   --ip                     string    IPv4 address (e.g., 172.30.100.104)
   --ip6                    string    IPv6 address (e.g., 2001:db8::33)
   --link=links             list      Add link to another container
   --link-local-ip          list      Add a link-local address for the container
"""
_NETWORK_CREATE_FLAGS = """
   --attachable             bool             Enable manual container attachment
   --aux-address            map              Auxiliary IPv4 or IPv6 addresses used by Network driver
   --config-from            string           The network from which to copy the configuration
   --config-only            bool             Create a configuration only network
-d --driver                 string=bridge    Driver to manage the Network
   --gateway                strings          IPv4 or IPv6 Gateway for the master subnet
   --ingress                bool             Create swarm routing-mesh network
   --internal               bool             Restrict external access to the network
   --ip-range               strings          Allocate container ip from a sub-range
   --ipam-driver            string=default   IP Address Management Driver
   --ipam-opt               map              Set IPAM driver specific options
   --ipv6                   bool             Enable IPv6 networking
   --label                  list             Set metadata on a network
-o --opt                    map              Set driver specific options
   --scope                  string           Control the network's scope
   --subnet                 strings          Subnet in CIDR format that represents a network segment
"""
_NETWORK_LS_FLAGS = """
-f --filter=filters         filter    Provide filter values (e.g. 'driver=bridge')
   --format                 string    Pretty-print networks using a Go template
   --no-trunc               bool      Do not truncate the output
-q --quiet                  bool      Only display network IDs
"""
_NETWORK_PRUNE_FLAGS = """
   --filter=filters         filter    Provide filter values (e.g. 'until=<timestamp>')
-f --force                  bool      Do not prompt for confirmation
"""
_NETWORK_DISCONNECT_FLAGS = "-f --force bool Force the container to disconnect from a network"
_NETWORK_RM_FLAGS = {"19.03": "", "28": "-f --force bool Do not error if the network does not exist"}
_ROOT_FLAGS = """
   --config                 string        Location of client config files
-c --context                string        Name of the context to use to connect to the daemon
-D --debug                  bool          Enable debug mode
-H --host                   list          Daemon socket(s) to connect to
-l --log-level              string=info   Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
   --tls                    bool          Use TLS; implied by --tlsverify
   --tlsverify              bool          Use TLS and verify the remote
-v --version                bool          Print version information and quit
"""


_USAGE = {
    "": ("[OPTIONS] COMMAND [ARG...]", "A self-sufficient runtime for containers"),
    "run": ("[OPTIONS] IMAGE [COMMAND] [ARG...]", "Run a command in a new container"),
    "create": ("[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container"),
    "port": (
        "CONTAINER [PRIVATE_PORT[/PROTO]]",
        "List port mappings or a specific mapping for the container",
    ),
    "exec": ("[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container"),
    "start": ("[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers"),
    "stop": ("[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers"),
    "restart": ("[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers"),
    "rm": ("[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers"),
    "kill": ("[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers"),
    "rename": ("CONTAINER NEW_NAME", "Rename a container"),
    "wait": (
        "CONTAINER [CONTAINER...]",
        "Block until one or more containers stop, then print their exit codes",
    ),
    "logs": ("[OPTIONS] CONTAINER", "Fetch the logs of a container"),
    "top": ("CONTAINER [ps OPTIONS]", "Display the running processes of a container"),
    "ps": ("[OPTIONS]", "List containers"),
    "images": ("[OPTIONS] [REPOSITORY[:TAG]]", "List images"),
    "events": ("[OPTIONS]", "Get real time events from the server"),
    "inspect": ("[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Docker objects"),
    "version": ("[OPTIONS]", "Show the Docker version information"),
    "info": ("[OPTIONS]", "Display system-wide information"),
    "container": ("", "Manage containers"),
    "container ls": ("[OPTIONS]", "List containers"),
    "container inspect": (
        "[OPTIONS] CONTAINER [CONTAINER...]",
        "Display detailed information on one or more containers",
    ),
    "image": ("", "Manage images"),
    "system": ("", "Manage Docker"),
    "image ls": ("[OPTIONS] [REPOSITORY[:TAG]]", "List images"),
    "network": ("", "Manage networks"),
    "network connect": ("[OPTIONS] NETWORK CONTAINER", "Connect a container to a network"),
    "network create": ("[OPTIONS] NETWORK", "Create a network"),
    "network disconnect": ("[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network"),
    "network inspect": (
        "[OPTIONS] NETWORK [NETWORK...]",
        "Display detailed information on one or more networks",
    ),
    "network ls": ("[OPTIONS]", "List networks"),
    "network prune": ("[OPTIONS]", "Remove all unused networks"),
    "network rm": ("NETWORK [NETWORK...]", "Remove one or more networks"),
}
_SHORT_28 = {
    "run": "Create and run a new container from an image",
    "exec": "Execute a command in a running container",
}


def _commands(version: Version) -> Command:
    """The command tree of one era: docker/cli's Use, Short, flags and argument rules."""
    v28 = version == "28"
    checks = {
        "add-host": _check_add_host(version),
        "dns": _check_ip,
        "dns-search": _check_dns_search,
        "link": _check_link,
        "filter": _check_filter,
    }
    if v28:
        checks.update({"network": _check_network_28, "net": _check_network_28})
    run_flags = _CONTAINER_FLAGS + _CONTAINER_FLAGS_BY_VERSION[version]

    def c(path: str, flags: str = "", args: tuple[int, int | None] = (0, 0), build=None, **kw) -> Command:
        use, short = _USAGE.get(path) or _USAGE[path.split()[-1]]
        short = _SHORT_28.get(path, short) if v28 else short
        name = path.split()[-1] if path else "docker"
        return Command(name, use, short, flag_table(flags, checks), args, build, **kw)

    def container_commands() -> list[Command]:
        return [
            c("run", run_flags + _RUN_FLAGS, (1, None), _build_run, interspersed=False),
            c("create", run_flags, (1, None), _build_create, interspersed=False),
            c("port", "", (1, 2), _auto(PortRequest, "container port?")),
            c(
                "exec",
                _EXEC_FLAGS + _EXEC_FLAGS_BY_VERSION[version],
                (2, None),
                _build_exec,
                interspersed=False,
            ),
            c("start", _START_FLAGS, (1, None), _auto(StartRequest, "containers*")),
            c("stop", _STOP_FLAGS[version], (1, None), _build_stop(StopRequest)),
            c("restart", _STOP_FLAGS[version], (1, None), _build_stop(RestartRequest)),
            c("rm", _RM_FLAGS, (1, None), _auto(RmRequest, "containers*")),
            c("kill", _KILL_FLAGS[version], (1, None), _auto(KillRequest, "containers*")),
            c("rename", "", (2, 2), _auto(RenameRequest, "old new")),
            c("wait", "", (1, None), _auto(WaitRequest, "containers*")),
            c("logs", _LOGS_FLAGS + _LOGS_TAIL[version], (1, 1), _auto(LogsRequest, "container")),
            c("top", "", (1, None), _auto(TopRequest, "container args*"), interspersed=False),
        ]

    container = c("container", interspersed=False).adopt(
        *container_commands(),
        c("container ls", _PS_FLAGS, build=_auto(PsRequest), aliases=("list", "ps")),
        c(
            "container inspect",
            _FORMAT_FLAG + "-s --size bool Display total file sizes",
            (1, None),
            _build_inspect("container"),
        ),
    )
    container.subcommands["rm"].aliases = ("remove",)
    network = c("network", interspersed=False).adopt(
        c(
            "network connect",
            _NETWORK_CONNECT_FLAGS,
            (2, 2),
            _auto(NetworkConnectRequest, "network container"),
        ),
        c("network create", _NETWORK_CREATE_FLAGS, (1, 1), build_network_create),
        c(
            "network disconnect",
            _NETWORK_DISCONNECT_FLAGS,
            (2, 2),
            _auto(NetworkDisconnectRequest, "network container"),
        ),
        c(
            "network inspect",
            _FORMAT_FLAG + "-v --verbose bool Verbose output for diagnostics",
            (1, None),
            _build_inspect("network"),
        ),
        c("network ls", _NETWORK_LS_FLAGS, build=_auto(NetworkLsRequest), aliases=("list",)),
        c("network prune", _NETWORK_PRUNE_FLAGS, build=_auto(NetworkPruneRequest)),
        c(
            "network rm",
            _NETWORK_RM_FLAGS[version],
            (1, None),
            _auto(NetworkRmRequest, "names*"),
            aliases=("remove",),
        ),
    )
    return c("", _ROOT_FLAGS, interspersed=False).adopt(
        *container_commands(),
        c("ps", _PS_FLAGS, build=_auto(PsRequest)),
        c("images", _IMAGES_FLAGS, (0, 1), _auto(ImagesRequest, "repository?")),
        c("inspect", _INSPECT_FLAGS, (1, None), _build_inspect("")),
        c("events", _EVENTS_FLAGS, build=_build_events),
        c("version", _FORMAT_FLAG, build=_auto(VersionRequest)),
        c("info", _FORMAT_FLAG, build=_auto(InfoRequest)),
        container,
        c("image", interspersed=False).adopt(
            c("image ls", _IMAGES_FLAGS, (0, 1), _auto(ImagesRequest, "repository?"), aliases=("list",))
        ),
        network,
        c("system", interspersed=False).adopt(
            c("system events", _EVENTS_FLAGS, build=_build_events),
            c("system info", _FORMAT_FLAG, build=_auto(InfoRequest)),
        ),
    )


@cache
def _tree(version: Version) -> Command:
    return _commands(version)


def _network_modes(
    values: list[str] | str, command: str, version: Version
) -> tuple[str, list[str], dict[str, str]]:
    """The container's network mode, further networks (28) and the first network's advanced fields."""
    if isinstance(values, str):
        mode = values
        return ("bridge" if mode in ("", "default") else mode), [], {}
    if not values:
        return "bridge", [], {}
    names, first = [], {}
    for i, value in enumerate(values):
        parsed = _network_fields(value)
        name = parsed.get("name", "")
        if name in names:
            raise run_failure(command, f"network {go_quote(name)} is specified multiple times", version)
        names.append(name)
        if i == 0:
            first = parsed
    user = [n for n in names if _is_user_network(n)]
    if user and len(user) != len(names):
        raise run_failure(
            command,
            "conflicting options: cannot attach both user-defined and non-user-defined network-modes",
            version,
        )
    if len(names) > 1 and not user:
        raise daemon_error(
            command, "Container cannot be connected to network endpoints: " + ", ".join(names), version
        )
    modes = ["bridge" if n in ("", "default") else n for n in names]
    return modes[0], modes[1:], first


def _endpoint_options_error(network: str, v: dict, first: dict, *, given: bool, version: Version) -> str:
    """docker/cli's parseNetworkAttachmentOpt on the first network: aliases and (19.03, which sets
    links on any network given with --network) links only on a user-defined one. 19.03 has no
    endpoint without --network (the options are dropped); 28 makes one for "default"."""
    if _is_user_network(network) or (version == "19.03" and not given):
        return ""
    if v["aliases"] or first.get("alias"):
        return "network-scoped aliases are only supported for user-defined networks"
    if version == "19.03" and v["link"]:
        return "links are only supported for user-defined networks"
    return ""


def _is_user_network(mode: str) -> bool:
    return mode not in ("", "default", "bridge", "host", "none") and not mode.startswith("container:")


def _daemon_netmode_check(spec: ContainerSpec, version: Version) -> str:
    """runconfig's validateNetMode, in its order; returns the first conflict or ""."""
    mode = spec.network
    kind, sep, ref = mode.partition(":")
    is_container = kind == "container" and bool(sep)
    if kind == "container" and not ref:
        return "Invalid network mode: invalid container format container:<name|id>"
    if is_container:
        if spec.hostname:
            return "conflicting options: hostname and the network mode"
        if spec.links:
            return (
                "conflicting options: container type network can't be used with links. "
                "This would result in undefined behavior"
            )
        if spec.dns:
            return "conflicting options: dns and the network mode"
        if spec.add_hosts:
            return "conflicting options: custom host-to-IP mapping and the network mode"
    if (is_container or mode == "host") and spec.mac and version == "19.03":
        return "conflicting options: mac-address and the network mode"
    if is_container and (spec.ports or spec.publish_all):
        return "conflicting options: port publishing and the container type network mode"
    if is_container and spec.expose:
        return "conflicting options: port exposing and the container type network mode"
    if mode == "host" and spec.links:
        return (
            "conflicting options: host type networking can't be used with links. "
            "This would result in undefined behavior"
        )
    return ""


def _container_spec(cmd: Command, p: Parsed) -> tuple[ContainerSpec, list[str]]:
    v, version, command = p.values, p.version, cmd.name
    mac = str(v["mac_address"])
    if mac and not MAC_RE.fullmatch(mac.strip()):
        raise run_failure(command, f"{mac} is not a valid mac address", version)
    ports: list[PortBinding] = []
    exposed: dict[ExposedPort, None] = {}
    try:
        for raw in v["publish"]:
            ports += parse_publish(raw, version)
        for raw in v["expose"]:
            exposed.update(dict.fromkeys(parse_expose(raw, version)))
        env = read_env(list(v["env_file"]), list(v["env"]), p.client, version)
    except GoError as e:
        raise run_failure(command, str(e), version) from None
    if v["rm"] and v["restart"] not in ("", "no"):  # docker/cli's opts.go, each version's words
        text = "Conflicting options: --restart and --rm"
        if version != "19.03":
            text = "conflicting options: cannot specify both --restart and --rm"
        raise run_failure(command, text, version)
    network, extra, first = _network_modes(v["network"], command, version)
    if err := _endpoint_options_error(network, v, first, given="network" in p.changed, version=version):
        raise run_failure(command, err, version)
    ignored_keys = {f.key for f in cmd.flags if f.help == IGNORED}
    spec = ContainerSpec(
        image=p.args[0],
        cmd=p.args[1:],
        name=str(v["name"]).removeprefix("/"),
        network=network,
        extra_networks=extra,
        hostname=str(v["hostname"]),
        # 19.03's CLI drops --ip without --network; 28's sends it for the default network
        ip=first.get("ip", "") or (str(v["ip"]) if version != "19.03" or "network" in p.changed else ""),
        mac=(first.get("mac-address", "") or mac).strip(),
        ports=ports,
        publish_all=bool(v["publish_all"]),
        expose=list(exposed),
        interactive=bool(v["interactive"]),
        tty=bool(v["tty"]),
        auto_remove=bool(v["rm"]),
        dns=list(v["dns"]),
        dns_search=list(v["dns_search"]),
        dns_options=list(v["dns_option"]),
        domainname=str(v["domainname"]),
        add_hosts=list(v["add_host"]),
        links=list(v["link"]),
        aliases=list(v["aliases"]) + ([first["alias"]] if first.get("alias") else []),
        env=env,
        labels={k: val for k, _, val in (label.partition("=") for label in v["label"])},
        user=str(v["user"]),
        workdir=str(v["workdir"]),
        entrypoint=str(v["entrypoint"]) if "entrypoint" in p.changed else None,
        privileges=Privileges(
            list(v["cap_add"]), list(v["cap_drop"]), bool(v["privileged"]), list(v["security_opt"])
        ),
        unsupported=sorted(k.replace("_", "-") for k in p.changed & ignored_keys),
    )
    conflict = _daemon_netmode_check(spec, version)
    if conflict:
        raise daemon_error(command, conflict, version)
    if spec.ip and not is_ipv4(spec.ip) and version == "19.03":  # 28's daemon checks it with the network
        raise daemon_error(command, f"invalid IPv4 address: {spec.ip}", version)
    warnings = [HOST_MODE_WARNING] if spec.network == "host" and spec.ports else []
    if spec.name and not valid_name(v["name"]):
        raise daemon_error(
            command,
            f"Invalid container name ({v['name']}), only {VALID_CHARS} are allowed",
            version,
        )
    return spec, warnings


def _build_run(cmd: Command, p: Parsed) -> Request:
    spec, warnings = _container_spec(cmd, p)
    detach = bool(p.values["detach"])
    return RunRequest(spec, detach, warnings, p.client.console_size, bool(p.values["sig_proxy"]))


def _build_create(cmd: Command, p: Parsed) -> Request:
    spec, warnings = _container_spec(cmd, p)
    return CreateRequest(spec, warnings=warnings)


def _auto(cls: type[Request], positionals: str = "") -> Callable[[Command, Parsed], Request]:
    """A builder filling `cls` from same-named flags and named arguments (`x?` optional, `xs*` the rest)."""
    names = {f.name for f in fields(cls)}

    def build(cmd: Command, p: Parsed) -> Request:
        kwargs = {key: value for key, value in p.values.items() if key in names}
        args = list(p.args)
        for word in positionals.split():
            if word.endswith("*"):
                kwargs[word[:-1]], args = args, []
            elif args:
                kwargs[word.rstrip("?")] = args.pop(0)
        if kwargs.get("format"):
            _check_template(str(kwargs["format"]), listing=True)
        return cls(**kwargs)

    return build


def _build_events(cmd: Command, p: Parsed) -> Request:
    """The template is checked by the handler, over an empty message, as the CLI's makeTemplate does."""
    v = p.values
    return EventsRequest(
        str(v["since"]), str(v["until"]), list(v["filters"]), str(v["format"]), p.client.env.get("TZ")
    )


def _build_exec(cmd: Command, p: Parsed) -> Request:
    request = _auto(ExecRequest, "container cmd*")(cmd, p)
    assert isinstance(request, ExecRequest)
    request.console_size = p.client.console_size
    try:
        request.env = read_env(list(p.values.get("env_file", [])), request.env, p.client, p.version)
    except GoError as e:
        raise CliError(str(e), 1) from None
    return request


_INSPECT_TYPES = (
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
)


def _build_inspect(kind: str) -> Callable[[Command, Parsed], Request]:
    def build(cmd: Command, p: Parsed) -> Request:
        v = p.values
        chosen = kind or str(v.get("type", ""))
        if chosen and chosen not in _INSPECT_TYPES:
            raise CliError(f"{go_quote(chosen)} is not a valid value for --type", 1)
        if v["format"]:
            _check_template(str(v["format"]))
        return InspectRequest(
            list(p.args), chosen, str(v["format"]), bool(v.get("size")), bool(v.get("verbose"))
        )

    return build


def _check_template(template: str, *, listing: bool = False) -> None:
    (parse_format if listing else parse_template)(template)


def _build_stop(kind: type[StopRequest] | type[RestartRequest]) -> Callable[[Command, Parsed], Request]:
    def build(cmd: Command, p: Parsed) -> Request:
        timeout = int(p.values["time"]) if "time" in p.changed else None  # type: ignore[call-overload]
        return kind(list(p.args), timeout, str(p.values.get("signal", "")))

    return build


def usage_text(argv: Sequence[str], version: Version = DEFAULT_VERSION) -> str:
    """The `--help` text of the command named by argv (e.g. ["network"], ["run"], [])."""
    cmd = _tree(version)
    for word in argv:
        cmd = cmd.find(word) or cmd
    return help_text(cmd, version)


def short_version(version: Version = DEFAULT_VERSION) -> str:
    """What `docker --version` prints."""
    return (
        "Docker version 19.03.15, build 99e3ed8"
        if version == "19.03"
        else "Docker version 28.5.1, build e180ab8"
    )


# -- entry point --------------------------------------------------------------------------------


def parse(
    argv: Sequence[str], version: Version = DEFAULT_VERSION, client: ClientSide | None = None
) -> Request:
    """Parse a docker argv (without the leading "docker") into a Request; raise CliError as Docker would.
    `client` is the CLI's side (its environment, its files for --env-file): none by default."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Docker version {version!r}")
    root = _tree(version)
    parsed, wants_help = parse_flags(root, list(argv), version)
    if wants_help:
        return HelpRequest(help_text(root, version))
    if parsed.values["version"]:
        return VersionRequest(short=True)
    if not parsed.args:
        return HelpRequest(help_text(root, version), stream="stderr")
    return _dispatch(root, parsed.args, version, client or ClientSide())


def _dispatch(group: Command, args: list[str], version: Version, client: ClientSide) -> Request:
    name, rest = args[0], args[1:]
    if group.parent is None and name == "help":
        target: Command | None = group
        for word in rest:
            target = target.find(word) if target else None
        if target is None:
            raise CliError(f"unknown help topic: {' '.join(rest)}", 1)
        return HelpRequest(help_text(target, version))
    cmd = group.find(name)
    if cmd is None:
        raise unknown_command(group, name, version)
    if cmd.subcommands:
        parsed, wants_help = parse_flags(cmd, rest, version)
        if wants_help:
            return HelpRequest(help_text(cmd, version))
        if not parsed.args:
            return HelpRequest(help_text(cmd, version), stream="stderr")
        return _dispatch(cmd, parsed.args, version, client)
    parsed, wants_help = parse_flags(cmd, rest, version)
    parsed.client = client
    if wants_help:
        return HelpRequest(help_text(cmd, version))
    error = args_error(cmd, len(parsed.args), version)
    if error:
        raise error
    assert cmd.build is not None
    return cmd.build(cmd, parsed)
