"""Parse the student's `docker ...` argv into typed requests, with Docker's exact texts and exit codes.

Pure: no kernel access, no I/O. The flag parser follows spf13/pflag as docker/cli configures it
(combined short flags, `--flag=value` and `--flag value`, `--` ends the flags, `run`/`create`/`exec`
stop at the first positional). Error texts follow docker/cli, go-connections/nat and the daemon's
validation for the two emulated eras; `version` picks the era ("19.03" or "28"). Output formatting
and Go templates live in `cli_format`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache

from topology.docker.model import VERSIONS, Version
from topology.errors import TopologyError

DEFAULT_VERSION: Version = "19.03"
HOST_MODE_WARNING = "WARNING: Published ports are discarded when using host network mode"
PREDEFINED_NETWORKS = ("bridge", "host", "none", "default")
PROTOCOLS = ("tcp", "udp", "sctp")


class CliError(TopologyError):
    """A docker command failed: `message` is what Docker prints on stderr, `exit_code` its status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class _Invalid(Exception):
    """A value a flag or validator rejects; the text is Go's error string."""


# -- requests -----------------------------------------------------------------------------------


@dataclass
class Request:
    """Base class of every parsed command."""


@dataclass(frozen=True)
class PortSpec:
    """One parsed `-p`: host_ip "" means the default binding address, host_port 0 a dynamic port."""

    container_port: int
    proto: str = "tcp"
    host_ip: str = ""
    host_port: int = 0


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
    publish: list[str] = field(default_factory=list)  # the -p arguments as given
    ports: list[PortSpec] = field(default_factory=list)
    publish_all: bool = False
    expose: list[str] = field(default_factory=list)  # --expose, normalised: ["80/tcp"]
    interactive: bool = False
    tty: bool = False
    auto_remove: bool = False
    dns: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # -l/--label: `k=v`, or `k` for an empty value
    user: str = ""
    workdir: str = ""
    entrypoint: str | None = None
    unsupported: list[str] = field(default_factory=list)  # Docker flags given that the lab ignores


@dataclass
class RunRequest(Request):
    """`docker run`."""

    spec: ContainerSpec
    detach: bool = False
    warnings: list[str] = field(default_factory=list)  # printed on stderr, e.g. HOST_MODE_WARNING


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
class RmRequest(Request):
    """`docker rm`."""

    containers: list[str]
    force: bool = False
    volumes: bool = False
    link: bool = False


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


# -- Go value syntax ----------------------------------------------------------------------------

_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}


def go_quote(s: str) -> str:
    """Go's strconv.Quote (what `%q` prints for a string)."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out) + '"'


def _go_quote_byte(ch: str) -> str:
    """`%q` of the byte pflag reads from a shorthand group (the first UTF-8 byte of `ch`)."""
    b = ch.encode("utf-8", "surrogateescape")[0]
    if b == 0x27:
        return r"'\''"
    if chr(b).isprintable():
        return f"'{chr(b)}'"
    if b < 0x80:
        return "'" + _GO_ESCAPES.get(chr(b), f"\\x{b:02x}") + "'"
    return f"'\\u{b:04x}'"


def _go_bool(s: str) -> bool:
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise _Invalid(f"strconv.ParseBool: parsing {go_quote(s)}: invalid syntax")


_INT_DIGITS = {16: "0-9a-fA-F", 8: "0-7", 2: "01", 10: "0-9"}


def _go_int(s: str) -> int:
    """strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b prefixes, leading-0 octal, `_` separators."""
    body = s[1:] if s[:1] in "+-" else s
    base, digits = 10, body
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    allowed = _INT_DIGITS[base]
    if not re.fullmatch(f"_?[{allowed}]+(_[{allowed}]+)*", digits) or (digits[0] == "_" and base == 10):
        raise _Invalid(f"strconv.ParseInt: parsing {go_quote(s)}: invalid syntax")
    digits = digits.replace("_", "").lstrip("0")
    value = int(digits or "0", base) * (-1 if s.startswith("-") else 1) if len(digits) <= 64 else 2**64
    if not -(2**63) <= value < 2**63:
        raise _Invalid(f"strconv.ParseInt: parsing {go_quote(s)}: value out of range")
    return value


def _parse_uint16(s: str) -> int:
    """strconv.ParseUint(s, 10, 16)."""
    if not re.fullmatch(r"[0-9]+", s):
        raise _Invalid(f"strconv.ParseUint: parsing {go_quote(s)}: invalid syntax")
    if len(s.lstrip("0")) > 5 or int(s) > 65535:
        raise _Invalid(f"strconv.ParseUint: parsing {go_quote(s)}: value out of range")
    return int(s)


def go_parse_ip(s: str) -> str:
    """Go's net.ParseIP as a canonical string, or "" when `s` is not an IP address."""
    if "%" in s or not s:
        return ""
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return ""


def _is_ipv4(s: str) -> bool:
    addr = go_parse_ip(s)
    return bool(addr) and (":" not in addr or ipaddress.ip_address(addr).ipv4_mapped is not None)


def _go_split_host(hostport: str) -> str:
    """The host part of Go's net.SplitHostPort; raises _Invalid with Go's AddrError text."""

    def fail(why: str) -> _Invalid:
        return _Invalid(f"address {hostport}: {why}")

    last = hostport.rfind(":")
    if last < 0:
        raise fail("missing port in address")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise fail("missing ']' in address")
        if end + 1 == len(hostport):
            raise fail("missing port in address")
        if end + 1 != last:
            raise fail(
                "too many colons in address" if hostport[end + 1] == ":" else "missing port in address"
            )
        host, rest_from, close_from = hostport[1:end], 1, end + 1
    else:
        host, rest_from, close_from = hostport[:last], 0, 0
        if ":" in host:
            raise fail("too many colons in address")
    if "[" in hostport[rest_from:]:
        raise fail("unexpected '[' in address")
    if "]" in hostport[close_from:]:
        raise fail("unexpected ']' in address")
    return host


_MAC_RE = re.compile(
    r"([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\2){4}[0-9a-fA-F]{2}"
    r"|([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\4){6}[0-9a-fA-F]{2}"
    r"|([0-9a-fA-F]{2}([:-]))(?:[0-9a-fA-F]{2}\6){18}[0-9a-fA-F]{2}"
    r"|(?:[0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}|(?:[0-9a-fA-F]{4}\.){3}[0-9a-fA-F]{4}"
    r"|(?:[0-9a-fA-F]{4}\.){9}[0-9a-fA-F]{4}"
)


# -- ports --------------------------------------------------------------------------------------


def _port_range(ports: str, version: Version) -> tuple[int, int]:
    """go-connections' ParsePortRange."""
    if not ports:
        raise _Invalid(
            "Empty string specified for ports." if version == "19.03" else "empty string specified for ports"
        )
    if "-" not in ports:
        port = _parse_uint16(ports)
        return port, port
    parts = ports.split("-")
    start, end = _parse_uint16(parts[0]), _parse_uint16(parts[1])
    if end < start:
        raise _Invalid(
            f"Invalid range specified for the Port: {ports}"
            if version == "19.03"
            else f"invalid range specified for port: {ports}"
        )
    return start, end


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _long_publish(raw: str) -> str:
    """docker/cli's convertToStandardNotation for `-p target=80,published=8080,protocol=udp`."""
    params = {"protocol": "tcp"}
    for param in raw.split(","):
        key, eq, value = param.partition("=")
        if not eq or not key:
            raise _Invalid(f"invalid publish opts format (should be name=value but got '{param}')")
        params[key] = value
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def parse_port_spec(raw: str, version: Version = DEFAULT_VERSION) -> list[PortSpec]:
    """Parse one `-p` value like go-connections' ParsePortSpec; raises CliError as `docker run` would."""
    try:
        return _port_spec(raw, version)
    except _Invalid as e:
        raise _run_failure("run", str(e), version) from None


def _split_proto_port(value: str, version: Version) -> tuple[str, str]:
    """go-connections' SplitProtoPort: ("tcp", "80") for "80"; ("", "") when no port is given."""
    if version == "19.03":
        parts = value.split("/")
        if not value or not parts[0]:
            return "", ""
        return ("tcp" if len(parts) == 1 or not parts[1] else parts[1]), parts[0]
    port, _, proto = value.partition("/")
    return ("", "") if not port else (proto or "tcp", port)


def _port_spec(raw: str, version: Version) -> list[PortSpec]:
    old = version == "19.03"
    spec = _long_publish(raw) if "=" in raw else raw
    ip, host_port, ctr = _split_parts(spec)
    proto, ctr = _split_proto_port(ctr, version)
    if not old:
        if not ctr:
            raise _Invalid(f"no port specified: {spec}<empty>")
        if proto.lower() not in PROTOCOLS:
            raise _Invalid(f"invalid proto: {proto.lower()}")
    if old or ip.startswith("["):
        try:
            ip = _go_split_host(ip + ":")
        except _Invalid as e:
            raise _Invalid(f"{'Invalid ip address' if old else 'invalid IP address'} {ip}: {e}") from None
    if ip and not go_parse_ip(ip):
        raise _Invalid(f"Invalid ip address: {ip}" if old else f"invalid IP address: {ip}")
    if not ctr:
        raise _Invalid(f"No port specified: {spec}<empty>")
    start, end = _checked_range(ctr, "Invalid containerPort: " if old else "invalid containerPort: ", version)
    host = (0, 0)
    if host_port:
        host = _checked_range(host_port, "Invalid hostPort: " if old else "invalid hostPort: ", version)
        if end - start != host[1] - host[0] and end != start:
            what = "ranges specified for container and host Ports"
            raise _Invalid(f"{'Invalid' if old else 'invalid'} {what}: {ctr} and {host_port}")
    if proto.lower() not in PROTOCOLS:
        raise _Invalid(f"Invalid proto: {proto}")
    if start != end or host[0] != host[1]:
        raise _Invalid(f"port ranges are not supported in this lab: {raw}")
    if start == 0:
        raise _Invalid(f"container port 0 is not valid: {raw}")
    return [PortSpec(start, proto.lower(), go_parse_ip(ip) if ip else "", host[0])]


def _checked_range(ports: str, prefix: str, version: Version) -> tuple[int, int]:
    try:
        return _port_range(ports, version)
    except _Invalid:
        raise _Invalid(prefix + ports) from None


def _expose(value: str, version: Version) -> list[str]:
    """docker/cli's --expose handling: `80`, `80/udp`, `8000-8010/tcp`."""
    if ":" in value:
        raise _Invalid(f"invalid port format for --expose: {value}")
    proto, port = _split_proto_port(value, version)
    try:
        start, end = _port_range(port, version)
    except _Invalid as e:
        raise _Invalid(f"invalid range format for --expose: {value}, error: {e}") from None
    return [f"{p}/{proto}" for p in range(start, end + 1)]


# -- flag values that docker/cli validates while parsing -----------------------------------------


def _check_ip(value: str) -> str:
    if not go_parse_ip(value.strip()):
        raise _Invalid(f"{value} is not an ip address")
    return go_parse_ip(value.strip())


def _check_filter(value: str) -> str:
    """docker/cli's FilterOpt.Set: `name=value` (an empty value is ignored)."""
    if value and "=" not in value:
        raise _Invalid("bad format of filter (expected name=value)")
    return value


def _check_link(value: str) -> str:
    if not value:
        raise _Invalid("empty string specified for links")
    if value.count(":") > 1:
        raise _Invalid(f"bad format for links: {value}")
    return value


def _check_add_host(version: Version) -> Callable[[str], str]:
    def check(value: str) -> str:
        if version == "19.03":
            name, sep, ip = value.partition(":")
            if not sep or not name:
                raise _Invalid(f"bad format for add-host: {go_quote(value)}")
        else:
            name, sep, ip = value.partition("=")
            if not sep:
                name, sep, ip = value.partition(":")
            if not sep or not name or ":" in name:
                raise _Invalid(f"bad format for add-host: {go_quote(value)}")
            if ip == "host-gateway":
                return value
            if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
                ip = ip[1:-1]
        if not go_parse_ip(ip.strip()):
            raise _Invalid(f"invalid IP address in add-host: {go_quote(ip)}")
        return value

    return check


_NETWORK_KEYS = ("name", "alias", "ip", "ip6", "mac-address", "link-local-ip", "driver-opt", "gw-priority")


def _check_network_28(value: str) -> str:
    """docker/cli 28's NetworkOpt: a name, or `name=NET,alias=A,ip=…` fields."""
    if "=" in value:
        for part in value.split(","):
            key, _, _ = part.partition("=")
            if key.strip().lower() not in _NETWORK_KEYS:
                raise _Invalid(f"invalid field key {key}")
    return value


def _network_fields(value: str) -> dict[str, str]:
    if "=" not in value:
        return {"name": value}
    parsed: dict[str, str] = {}
    for part in value.split(","):
        key, _, val = part.partition("=")
        parsed.setdefault(key.strip().lower(), val)
    return parsed


# -- commands and flags -------------------------------------------------------------------------

_FLAG_LINE = re.compile(
    r"(?:-(?P<short>\S) +)?--(?P<name>[a-z0-9-]+)(?:=(?P<dest>[a-z_]+))? +"
    r"(?P<kind>bool|string|int|list|map|strings|filter)(?:=(?P<default>\S+))?(?: +(?P<help>.*))?"
)
_IGNORED = "(accepted; not emulated by the lab)"


@dataclass(frozen=True)
class _Flag:
    name: str
    kind: str  # bool | string | int | list | map | strings
    short: str = ""
    help: str = ""  # "-": hidden from --help
    dest: str = ""
    default: str = ""
    check: Callable[[str], str] | None = None

    @property
    def key(self) -> str:
        return self.dest or self.name.replace("-", "_")

    @property
    def display(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def initial(self) -> object:
        if self.kind == "bool":
            return self.default == "true"
        if self.kind == "int":
            return int(self.default or 0)
        return self.default if self.kind == "string" else {"map": {}}.get(self.kind, [])


def _flags(spec: str, checks: Mapping[str, Callable[[str], str]] | None = None) -> tuple[_Flag, ...]:
    """Flags from lines like Docker's --help: `-p --publish list Publish…` (`--x=key`; help `~`: ignored)."""
    flags = []
    for line in filter(None, map(str.strip, spec.splitlines())):
        m = _FLAG_LINE.fullmatch(line)
        assert m is not None, line
        help_text = _IGNORED if m["help"] == "~" else m["help"] or ""
        check = (checks or {}).get(m["name"])
        flags.append(
            _Flag(
                m["name"], m["kind"], m["short"] or "", help_text, m["dest"] or "", m["default"] or "", check
            )
        )
    return tuple(flags)


_CONTAINER_FLAGS = """
   --add-host               list      Add a custom host-to-IP mapping (host:ip)
   --dns                    list      Set custom DNS servers
   --entrypoint             string    Overwrite the default ENTRYPOINT of the image
-e --env                    list      Set environment variables
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
-p --publish                list      Publish a container's port(s) to the host
-P --publish-all            bool      Publish all exposed ports to random ports
   --rm                     bool      Automatically remove the container when it exits
-t --tty                    bool      Allocate a pseudo-TTY
-u --user                   string    Username or UID (format: <name|uid>[:<group|gid>])
-w --workdir                string    Working directory inside the container
-a --attach                 list      ~
   --cap-add                list      ~
   --cap-drop               list      ~
   --cpus                   string    ~
   --device                 list      ~
   --dns-option             list      ~
   --dns-search             list      ~
   --domainname             string    ~
   --env-file               list      ~
   --init                   bool      ~
   --ip6                    string    ~
   --ipc                    string    ~
   --log-driver             string    ~
   --log-opt                list      ~
-m --memory                 string    ~
   --mount                  list      ~
   --pid                    string    ~
   --platform               string    ~
   --privileged             bool      ~
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


@dataclass
class _Parsed:
    values: dict[str, object]
    changed: set[str]
    args: list[str]
    version: Version


@dataclass
class _Command:
    name: str
    use: str  # after the name: "[OPTIONS] IMAGE [COMMAND] [ARG...]"
    short: str
    flags: tuple[_Flag, ...] = ()
    args: tuple[int, int | None] = (0, 0)
    build: Callable[[_Command, _Parsed], Request] | None = None
    interspersed: bool = True
    aliases: tuple[str, ...] = ()
    subcommands: dict[str, _Command] = field(default_factory=dict)
    parent: _Command | None = None

    @property
    def path(self) -> str:
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def use_line(self) -> str:
        own = f"{self.name} {self.use}".rstrip()
        return f"{self.parent.path} {own}" if self.parent else own

    def find(self, name: str) -> _Command | None:
        return next((c for c in self.subcommands.values() if name == c.name or name in c.aliases), None)

    def flag(self, name: str = "", short: str = "") -> _Flag | None:
        return next(
            (f for f in self.flags if (name and f.name == name) or (short and f.short == short)), None
        )

    def adopt(self, *children: _Command) -> _Command:
        for child in children:
            child.parent = self
            self.subcommands[child.name] = child
        return self


# docker/cli's Use and Short of each command, by path below `docker` (19.03; 28's changes below).
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
    "logs": ("[OPTIONS] CONTAINER", "Fetch the logs of a container"),
    "ps": ("[OPTIONS]", "List containers"),
    "images": ("[OPTIONS] [REPOSITORY[:TAG]]", "List images"),
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


def _commands(version: Version) -> _Command:
    """The command tree of one era: docker/cli's Use, Short, flags and argument rules."""
    v28 = version == "28"
    checks = {
        "add-host": _check_add_host(version),
        "dns": _check_ip,
        "link": _check_link,
        "filter": _check_filter,
    }
    if v28:
        checks.update({"network": _check_network_28, "net": _check_network_28})
    run_flags = _CONTAINER_FLAGS + _CONTAINER_FLAGS_BY_VERSION[version]

    def c(path: str, flags: str = "", args: tuple[int, int | None] = (0, 0), build=None, **kw) -> _Command:
        use, short = _USAGE.get(path) or _USAGE[path.split()[-1]]
        short = _SHORT_28.get(path, short) if v28 else short
        name = path.split()[-1] if path else "docker"
        return _Command(name, use, short, _flags(flags, checks), args, build, **kw)

    def container_commands() -> list[_Command]:
        return [
            c("run", run_flags + _RUN_FLAGS, (1, None), _build_run, interspersed=False),
            c("create", run_flags, (1, None), _build_create, interspersed=False),
            c("port", "", (1, 2), _auto(PortRequest, "container port?")),
            c("exec", _EXEC_FLAGS, (2, None), _auto(ExecRequest, "container cmd*"), interspersed=False),
            c("start", _START_FLAGS, (1, None), _auto(StartRequest, "containers*")),
            c("stop", _STOP_FLAGS[version], (1, None), _build_stop(StopRequest)),
            c("restart", _STOP_FLAGS[version], (1, None), _build_stop(RestartRequest)),
            c("rm", _RM_FLAGS, (1, None), _auto(RmRequest, "containers*")),
            c("logs", _LOGS_FLAGS + _LOGS_TAIL[version], (1, 1), _auto(LogsRequest, "container")),
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
        c("network create", _NETWORK_CREATE_FLAGS, (1, 1), _build_network_create),
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
        c("version", _FORMAT_FLAG, build=_auto(VersionRequest)),
        c("info", _FORMAT_FLAG, build=_auto(InfoRequest)),
        container,
        c("image", interspersed=False).adopt(
            c("image ls", _IMAGES_FLAGS, (0, 1), _auto(ImagesRequest, "repository?"), aliases=("list",))
        ),
        network,
    )


@cache
def _tree(version: Version) -> _Command:
    return _commands(version)


# -- the pflag parser ---------------------------------------------------------------------------


def _parse_flags(cmd: _Command, argv: list[str], version: Version) -> tuple[_Parsed, bool]:
    """Parse argv as pflag does for `cmd`; returns the values and whether help was asked for."""
    values = {f.key: _fresh(f.initial()) for f in cmd.flags}
    parsed = _Parsed(values, set(), [], version)
    wants_help = False
    i = 0
    while i < len(argv):
        s = argv[i]
        i += 1
        if len(s) < 2 or s[0] != "-":
            parsed.args.append(s)
            if not cmd.interspersed:
                parsed.args.extend(argv[i:])
                break
            continue
        if s == "--":
            parsed.args.extend(argv[i:])
            break
        if s.startswith("--"):
            name, eq, value = s[2:].partition("=")
            if s[2] in "-=":
                raise _flag_error(cmd, f"bad flag syntax: {s}", version)
            flag = cmd.flag(name=name)
            if flag is None or flag.name == "help":
                if name != "help":
                    raise _flag_error(cmd, f"unknown flag: --{name}", version)
                wants_help = _help_value(cmd, value, version) if eq else True
                continue
            if not eq:
                if flag.kind == "bool":
                    value = "true"
                elif i < len(argv):
                    value, i = argv[i], i + 1
                else:
                    raise _flag_error(cmd, f"flag needs an argument: {s}", version)
            _set(cmd, parsed, flag, value)
            continue
        shorts = s[1:]
        while shorts:
            c = shorts[0]
            flag = cmd.flag(short=c)
            if flag is None:
                if c != "h":
                    raise _flag_error(
                        cmd, f"unknown shorthand flag: {_go_quote_byte(c)} in -{shorts}", version
                    )
                wants_help, shorts = True, shorts[1:]
                continue
            if len(shorts) > 2 and shorts[1] == "=":
                value, shorts = shorts[2:], ""
            elif flag.kind == "bool":
                value, shorts = "true", shorts[1:]
            elif len(shorts) > 1:
                value, shorts = shorts[1:], ""
            elif i < len(argv):
                value, shorts, i = argv[i], "", i + 1
            else:
                raise _flag_error(cmd, f"flag needs an argument: {_go_quote_byte(c)} in -{shorts}", version)
            _set(cmd, parsed, flag, value)
    return parsed, wants_help


def _fresh(value: object) -> object:
    return type(value)() if isinstance(value, list | dict) else value


def _help_value(cmd: _Command, value: str, version: Version) -> bool:
    try:
        return _go_bool(value)
    except _Invalid as e:
        raise _flag_error(
            cmd, f'invalid argument {go_quote(value)} for "--help" flag: {e}', version
        ) from None


def _set(cmd: _Command, parsed: _Parsed, flag: _Flag, value: str) -> None:
    values, key = parsed.values, flag.key
    try:
        if flag.kind == "bool":
            values[key] = _go_bool(value)
        elif flag.kind == "int":
            values[key] = _go_int(value)
        elif flag.kind in ("list", "filter"):
            values[key].append(flag.check(value) if flag.check else value)
        elif flag.kind == "map":
            k, _, v = value.partition("=")
            values[key][k] = v
        elif flag.kind == "strings":
            if key not in parsed.changed:
                values[key] = []
            values[key].extend(value.split(",") if value else [])
        else:
            values[key] = value
    except _Invalid as e:
        raise _flag_error(
            cmd, f"invalid argument {go_quote(value)} for {go_quote(flag.display)} flag: {e}", parsed.version
        ) from None
    parsed.changed.add(key)


# -- Docker's error framing ---------------------------------------------------------------------


def _flag_error(cmd: _Command, err: str, version: Version) -> CliError:
    """docker/cli's FlagErrorFunc: exit 125."""
    if version == "19.03":
        usage = "\n\n" + _usage_text(cmd, version).strip("\n") if cmd.subcommands else ""
        return CliError(f"{err}\nSee '{cmd.path} --help'.{usage}", 125)
    return CliError(f"{err}\n\nUsage:  {cmd.use_line}\n\nRun '{cmd.path} --help' for more information", 125)


def _args_error(cmd: _Command, got: int, version: Version) -> CliError | None:
    """docker/cli's NoArgs/RequiresMinArgs/RequiresMaxArgs/RequiresRangeArgs/ExactArgs; exit 1."""
    low, high = cmd.args
    if low <= got and (high is None or got <= high):
        return None
    old = version == "19.03"

    def plural(n: int) -> str:
        return "argument" if n == 1 else "arguments"

    see = "Run"
    if (low, high) == (0, 0):
        phrase = "accepts no arguments"
    elif high is None:
        phrase, see = f"requires at least {low} {plural(low)}", "See"
    elif low == 0:
        phrase = f"requires at most {high} {plural(high)}"
    elif low == high:
        phrase = f"requires exactly {low} {plural(low)}" if old else f"requires {low} {plural(low)}"
    else:
        phrase = f"requires at least {low} and at most {high} {plural(high)}"
    if old:
        return CliError(
            f"\"{cmd.path}\" {phrase}.\nSee '{cmd.path} --help'.\n\nUsage:  {cmd.use_line}\n\n{cmd.short}", 1
        )
    usage = f"Usage:  {cmd.use_line}"
    return CliError(
        f"docker: '{cmd.path}' {phrase}\n\n{usage}\n\n{see} '{cmd.path} --help' for more information", 1
    )


def _unknown_command(group: _Command, name: str, version: Version) -> CliError:
    if group.parent is None:
        if version == "19.03":
            return CliError(f"docker: '{name}' is not a docker command.\nSee 'docker --help'", 1)
        return CliError(
            f"docker: unknown command: docker {name}\n\nRun 'docker --help' for more information", 1
        )
    if version == "19.03":
        return CliError("\n" + _usage_text(group, version).strip("\n"), 1)
    usage, see = f"Usage:  {group.use_line}", f"Run '{group.path} --help' for more information"
    return CliError(f"docker: unknown command: {group.path} {name}\n\n{usage}\n\n{see}", 1)


def _run_failure(
    command: str, message: str, version: Version, exit_code: int = 125, *, with_help: bool = True
) -> CliError:
    """How `docker run`/`docker create` report an error (docker/cli reportError / withHelp)."""
    if version == "19.03":
        text = "docker: " + message.removesuffix(".") + "."
        return CliError(text + (f"\nSee 'docker {command} --help'." if with_help else ""), exit_code)
    return CliError(f"docker: {message}\n\nRun 'docker {command} --help' for more information", exit_code)


def daemon_error(
    command: str, message: str, version: Version = DEFAULT_VERSION, *, at_start: bool = False
) -> CliError:
    """The CliError Docker shows when the daemon rejects `docker <command>` with `message`."""
    # `docker run` frames daemon errors ("docker: …", exit 125, or 126/127 when the container's process
    # cannot start); 19.03 adds no "See 'docker run --help'." line to errors at start. Others exit 1.
    text = "Error response from daemon: " + message
    if command != "run":
        return CliError(text, 1)
    code = 125
    if at_start and ("executable file not found" in message or "no such file or directory" in message):
        code = 127
    elif at_start and ("permission denied" in message or "is a directory" in message):
        code = 126
    return _run_failure("run", text, version, code, with_help=not (at_start and version == "19.03"))


# -- builders -----------------------------------------------------------------------------------


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
            raise _run_failure(command, f"network {go_quote(name)} is specified multiple times", version)
        names.append(name)
        if i == 0:
            first = parsed
    user = [n for n in names if _is_user_network(n)]
    if user and len(user) != len(names):
        raise _run_failure(
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


_NAME_RE = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+")


def _container_spec(cmd: _Command, p: _Parsed) -> tuple[ContainerSpec, list[str]]:
    v, version, command = p.values, p.version, cmd.name
    mac = str(v["mac_address"])
    if mac and not _MAC_RE.fullmatch(mac.strip()):
        raise _run_failure(command, f"{mac} is not a valid mac address", version)
    ports: list[PortSpec] = []
    exposed: dict[str, None] = {}
    try:
        for raw in v["publish"]:
            ports.extend(_port_spec(raw, version))
        for raw in v["expose"]:
            exposed.update(dict.fromkeys(_expose(raw, version)))
    except _Invalid as e:
        raise _run_failure(command, str(e), version) from None
    if v["rm"] and v["restart"] not in ("", "no"):
        raise _run_failure(command, "Conflicting options: --restart and --rm", version)
    network, extra, first = _network_modes(v["network"], command, version)
    ignored_keys = {f.key for f in cmd.flags if f.help == _IGNORED}
    spec = ContainerSpec(
        image=p.args[0],
        cmd=p.args[1:],
        name=str(v["name"]).removeprefix("/"),
        network=network,
        extra_networks=extra,
        hostname=str(v["hostname"]),
        ip=first.get("ip", "") or str(v["ip"]),
        mac=(first.get("mac-address", "") or mac).strip(),
        publish=list(v["publish"]),
        ports=ports,
        publish_all=bool(v["publish_all"]),
        expose=list(exposed),
        interactive=bool(v["interactive"]),
        tty=bool(v["tty"]),
        auto_remove=bool(v["rm"]),
        dns=list(v["dns"]),
        add_hosts=list(v["add_host"]),
        links=list(v["link"]),
        aliases=list(v["aliases"]) + ([first["alias"]] if first.get("alias") else []),
        env=list(v["env"]),
        labels={k: val for k, _, val in (label.partition("=") for label in v["label"])},
        user=str(v["user"]),
        workdir=str(v["workdir"]),
        entrypoint=str(v["entrypoint"]) if "entrypoint" in p.changed else None,
        unsupported=sorted(k.replace("_", "-") for k in p.changed & ignored_keys),
    )
    conflict = _daemon_netmode_check(spec, version)
    if conflict:
        raise daemon_error(command, conflict, version)
    if spec.ip and not _is_ipv4(spec.ip):
        raise daemon_error(command, f"invalid IPv4 address: {spec.ip}", version)
    warnings = [HOST_MODE_WARNING] if spec.network == "host" and spec.ports else []
    if spec.name and not _NAME_RE.fullmatch(v["name"]):
        raise daemon_error(
            command,
            f"Invalid container name ({v['name']}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
            version,
        )
    return spec, warnings


def _build_run(cmd: _Command, p: _Parsed) -> Request:
    spec, warnings = _container_spec(cmd, p)
    return RunRequest(spec, detach=bool(p.values["detach"]), warnings=warnings)


def _build_create(cmd: _Command, p: _Parsed) -> Request:
    spec, warnings = _container_spec(cmd, p)
    return CreateRequest(spec, warnings=warnings)


def _auto(cls: type[Request], positionals: str = "") -> Callable[[_Command, _Parsed], Request]:
    """A builder filling `cls` from same-named flags and named arguments (`x?` optional, `xs*` the rest)."""
    names = {f.name for f in fields(cls)}

    def build(cmd: _Command, p: _Parsed) -> Request:
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


def _build_inspect(kind: str) -> Callable[[_Command, _Parsed], Request]:
    def build(cmd: _Command, p: _Parsed) -> Request:
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
    from topology.docker.cli_format import parse_format, parse_template  # late: cli_format imports cli

    (parse_format if listing else parse_template)(template)


def _build_stop(kind: type[StopRequest] | type[RestartRequest]) -> Callable[[_Command, _Parsed], Request]:
    def build(cmd: _Command, p: _Parsed) -> Request:
        timeout = int(p.values["time"]) if "time" in p.changed else None  # type: ignore[call-overload]
        return kind(list(p.args), timeout, str(p.values.get("signal", "")))

    return build


_BRIDGE_BOOL_OPTS = {
    "com.docker.network.bridge.enable_icc": "icc",
    "com.docker.network.bridge.enable_ip_masquerade": "masquerade",
}


def _cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Go's net.ParseCIDR (host bits allowed); raises _Invalid("invalid CIDR address: …")."""
    addr, slash, bits = value.partition("/")
    if not slash or not go_parse_ip(addr) or not re.fullmatch(r"[0-9]+", bits):
        raise _Invalid(f"invalid CIDR address: {value}")
    try:
        return ipaddress.ip_network(f"{go_parse_ip(addr)}/{int(bits)}", strict=False)
    except ValueError:
        raise _Invalid(f"invalid CIDR address: {value}") from None


def _subnet_matches(subnet: str, data: str) -> bool:
    """docker/cli's subnetMatches."""
    try:
        net = _cidr(subnet)
    except _Invalid as e:
        raise _Invalid(f"invalid subnet: {e}") from None
    ip = str(_cidr(data).network_address) if "/" in data else go_parse_ip(data)
    return bool(ip) and ipaddress.ip_address(ip) in net


def _consolidate_ipam(subnets: list[str], ranges: list[str], gateways: list[str]) -> None:
    """docker/cli's consolidateIpam checks (network create); errors exit 1 without framing."""
    if len(subnets) < len(ranges) or len(subnets) < len(gateways):
        raise _Invalid("every ip-range or gateway must have a corresponding subnet")
    for i, s in enumerate(subnets):
        for other in subnets[:i]:
            if _subnet_matches(s, other) or _subnet_matches(other, s):
                raise _Invalid("multiple overlapping subnet configuration is not supported")
    for r in ranges:
        if not any(_subnet_matches(s, r) for s in subnets):
            raise _Invalid(f"no matching subnet for range {r}")
    seen: dict[str, str] = {}
    for g in gateways:
        matched = False
        for s in subnets:
            if not _subnet_matches(s, g):
                continue
            if s in seen:
                raise _Invalid(
                    f"cannot configure multiple gateways ({g}, {seen[s]}) for the same subnet ({s})"
                )
            seen[s], matched = g, True
        if not matched:
            raise _Invalid(f"no matching subnet for gateway {g}")


def _build_network_create(cmd: _Command, p: _Parsed) -> Request:
    v, version, name = p.values, p.version, p.args[0]
    subnets, ranges, gateways = list(v["subnet"]), list(v["ip_range"]), list(v["gateway"])
    try:
        _consolidate_ipam(subnets, ranges, gateways)
    except _Invalid as e:
        raise CliError(str(e), 1) from None
    if name in PREDEFINED_NETWORKS:
        raise daemon_error(
            "network create", f"{name} is a pre-defined network and cannot be created", version
        )
    driver = str(v["driver"])
    if driver in ("host", "null"):
        raise daemon_error("network create", f'only one instance of "{driver}" network is allowed', version)
    if driver in ("overlay", "macvlan", "ipvlan"):
        raise CliError(f'network driver "{driver}" is not supported in this lab; use "bridge"', 1)
    if driver != "bridge":
        raise daemon_error("network create", f'plugin "{driver}" not found', version)
    if len(subnets) > 1 or v["ipv6"]:
        raise CliError("this lab supports one IPv4 --subnet per network (no --ipv6)", 1)
    req = NetworkCreateRequest(
        name=name,
        driver=driver,
        subnet=subnets[0] if subnets else "",
        gateway=gateways[0] if gateways else "",
        ip_range=ranges[0] if ranges else "",
        internal=bool(v["internal"]),
        attachable=bool(v["attachable"]),
        options=dict(v["opt"]),
        labels={k: val for k, _, val in (label.partition("=") for label in v["label"])},
    )
    if req.subnet:
        try:
            net = _cidr(req.subnet)
        except _Invalid as e:
            detail = (
                str(e)
                if version == "19.03"
                else f"invalid network config:\ninvalid subnet {req.subnet}: invalid CIDR block notation"
            )
            raise daemon_error("network create", detail, version) from None
        if net.version != 4:
            raise CliError("this lab supports one IPv4 --subnet per network (no --ipv6)", 1)
        if str(net) != req.subnet and version == "28":
            raise daemon_error(
                "network create",
                f"invalid network config:\ninvalid subnet {req.subnet}: it should be {net}",
                version,
            )
        req.subnet = str(net)
    _bridge_options(req, version)
    return req


def _bridge_options(req: NetworkCreateRequest, version: Version) -> None:
    """libnetwork's bridge driver reading of `-o` options (parseErr texts)."""

    def fail(label: str, value: str, err: str) -> CliError:
        return daemon_error("network create", f"failed to parse {label} value: {value} ({err})", version)

    for label, value in req.options.items():
        if label in _BRIDGE_BOOL_OPTS:
            try:
                setattr(req, _BRIDGE_BOOL_OPTS[label], _go_bool(value))
            except _Invalid as e:
                raise fail(label, value, str(e)) from None
        elif label == "com.docker.network.bridge.name":
            req.bridge_name = value
        elif label == "com.docker.network.bridge.host_binding_ipv4":
            if not go_parse_ip(value):
                raise fail(label, value, "nil ip")
            req.host_binding_ipv4 = go_parse_ip(value)
        elif label == "com.docker.network.driver.mtu":
            if not re.fullmatch(r"[+-]?[0-9]+", value):
                raise fail(label, value, f"strconv.Atoi: parsing {go_quote(value)}: invalid syntax")
            if len(value.lstrip("+-0")) > 18:
                raise fail(label, value, f"strconv.Atoi: parsing {go_quote(value)}: value out of range")
            req.mtu = int(value)


# -- help ---------------------------------------------------------------------------------------


def _usage_text(cmd: _Command, version: Version) -> str:
    """A short version of cobra's usage template for `cmd` (what `--help` prints)."""
    sep = "\t" if version == "19.03" else "  "
    if cmd.subcommands:
        opts = " [OPTIONS]" if cmd.parent is None else ""
        lines = ["", f"Usage:{sep}{cmd.path}{opts} COMMAND", "", cmd.short]
    else:
        lines = ["", f"Usage:{sep}{cmd.use_line}", "", cmd.short]
    shown = sorted(
        (f for f in cmd.flags if f.help not in ("", "-", _IGNORED) and f.name != "help"), key=lambda f: f.name
    )
    if shown:
        rows = [
            (f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}")
            + ("" if f.kind == "bool" else " " + f.kind)
            for f in shown
        ]
        width = max(len(r) for r in rows) + 3
        lines += ["", "Options:", *(r.ljust(width) + f.help for r, f in zip(rows, shown, strict=True))]
    groups = [c for c in cmd.subcommands.values() if c.subcommands]
    plain = [c for c in cmd.subcommands.values() if not c.subcommands]
    for title, subs in (("Management Commands:", groups), ("Commands:", plain)):
        if subs:
            pad = max(11, *(len(c.name) for c in subs))
            lines += [
                "",
                title,
                *(f"  {c.name.ljust(pad)} {c.short}" for c in sorted(subs, key=lambda c: c.name)),
            ]
    if cmd.subcommands:
        lines += ["", f"Run '{cmd.path} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


def usage_text(argv: Sequence[str], version: Version = DEFAULT_VERSION) -> str:
    """The `--help` text of the command named by argv (e.g. ["network"], ["run"], [])."""
    cmd = _tree(version)
    for word in argv:
        cmd = cmd.find(word) or cmd
    return _usage_text(cmd, version)


def short_version(version: Version = DEFAULT_VERSION) -> str:
    """What `docker --version` prints."""
    return (
        "Docker version 19.03.15, build 99e3ed8"
        if version == "19.03"
        else "Docker version 28.5.1, build e180ab8"
    )


# -- entry point --------------------------------------------------------------------------------


def parse(argv: Sequence[str], version: Version = DEFAULT_VERSION) -> Request:
    """Parse a docker argv (without the leading "docker") into a Request; raise CliError as Docker would."""
    if version not in VERSIONS:
        raise ValueError(f"unknown Docker version {version!r}")
    root = _tree(version)
    parsed, wants_help = _parse_flags(root, list(argv), version)
    if wants_help:
        return HelpRequest(_usage_text(root, version))
    if parsed.values["version"]:
        return VersionRequest(short=True)
    if not parsed.args:
        return HelpRequest(_usage_text(root, version), stream="stderr")
    return _dispatch(root, parsed.args, version)


def _dispatch(group: _Command, args: list[str], version: Version) -> Request:
    name, rest = args[0], args[1:]
    if group.parent is None and name == "help":
        target: _Command | None = group
        for word in rest:
            target = target.find(word) if target else None
        if target is None:
            raise CliError(f"unknown help topic: {' '.join(rest)}", 1)
        return HelpRequest(_usage_text(target, version))
    cmd = group.find(name)
    if cmd is None:
        raise _unknown_command(group, name, version)
    if cmd.subcommands:
        parsed, wants_help = _parse_flags(cmd, rest, version)
        if wants_help:
            return HelpRequest(_usage_text(cmd, version))
        if not parsed.args:
            return HelpRequest(_usage_text(cmd, version), stream="stderr")
        return _dispatch(cmd, parsed.args, version)
    parsed, wants_help = _parse_flags(cmd, rest, version)
    if wants_help:
        return HelpRequest(_usage_text(cmd, version))
    error = _args_error(cmd, len(parsed.args), version)
    if error:
        raise error
    assert cmd.build is not None
    return cmd.build(cmd, parsed)
