"""Docker's output for the emulated engine: tables, `docker port`, inspect JSON and Go templates.

Pure functions over `topology.docker.model` objects; every function that prints relative times
takes `now`. Output strings are exactly what Docker writes to stdout, newline-terminated.

Go templates (`-f/--format`): the subset Docker users write (fields, variables, pipelines,
parentheses, if/else/with/range/break/continue, and the functions and, or, not, len, index, print,
printf, println, eq, ne, lt, le, gt, ge, json, split, join, title, lower, upper, pad, truncate).
Inspect objects are plain dicts; the Go types behind them are recovered from the key names:
Go maps (Networks, Ports, Options, …) print as `map[k:v]` with sorted keys and yield `<no value>`
for a missing key; every other dict is a Go struct and prints as `{v1 v2 …}`. Where Go would print
a pointer address (`map[bridge:0xc000…]` for `{{.NetworkSettings.Networks}}`), the pointed-to
struct is printed instead (`map[bridge:{<nil> [] [] … 172.17.0.2 16 …}]`). A missing struct field
gives Docker's fallback error `map has no entry for key "Foo"`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from topology.docker.cli import DEFAULT_VERSION, CliError, go_quote, parse_port_spec
from topology.docker.model import Container, Endpoint, Network, Version

ZERO_TIME = "0001-01-01T00:00:00Z"
# The fixed image list: repository, tag, short id, created, size.
IMAGES = (
    ("nginx", "latest", "f6d0b4767a6c", "2021-01-12T10:17:41Z", "133MB"),
    ("httpd", "latest", "683a7aad17d3", "2021-01-12T08:45:22Z", "138MB"),
    ("busybox", "latest", "b97242f89c8a", "2021-01-13T00:21:07Z", "1.23MB"),
    ("alpine", "latest", "7731472c3f2a", "2021-01-15T02:23:48Z", "5.61MB"),
)


# -- time ---------------------------------------------------------------------------------------

_TIME_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?")


def parse_time(value: str | datetime | None) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed) as an aware datetime; None for "" and Go's zero time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    m = _TIME_RE.fullmatch(value.strip())
    if not m:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    year, month, day, hour, minute, second, frac, tz = m.groups()
    if int(year) == 1:
        return None
    zone = UTC
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[-2:])))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone)


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours"…"""
    if int(seconds) < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def _now(now: str | datetime | None) -> datetime:
    return parse_time(now) or datetime.now(UTC)


def _ago(then: str, now: datetime) -> str:
    t = parse_time(then)
    return human_duration((now - t).total_seconds()) if t else ""


# -- tables -------------------------------------------------------------------------------------


def tabwrite(text: str, minwidth: int, padding: int = 3) -> str:
    """Go's text/tabwriter (pad with spaces, no flags): align tab-terminated cells in column blocks."""
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write(first: int, end: int) -> None:
        for cells in lines[first:end]:
            out.append("".join(c.ljust(widths[j]) if j < len(widths) else c for j, c in enumerate(cells)))

    def block(first: int, end: int) -> None:
        column, this = len(widths), first
        while this < end:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write(first, this)
            first, width = this, minwidth
            while this < end and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            widths.append(width)
            block(first, this)
            widths.pop()
            first = this
        write(first, end)

    block(0, len(lines))
    return "\n".join(out)


def _minwidth(version: Version) -> int:
    return 20 if version == "19.03" else 10


def _render_rows(
    fmt: str, rows: Sequence[dict], headers: dict[str, str], type_name: str, version: Version
) -> str:
    """docker/cli's formatter: `table` formats get a header line and tabwriter alignment."""
    table, tmpl = fmt.startswith("table"), parse_format(fmt)
    out = [_execute(tmpl, GoMap(headers), "") + "\n"] if table else []
    out += [_execute(tmpl, row, type_name) + "\n" for row in rows]
    text = "".join(out)
    return tabwrite(text, _minwidth(version)) if table else text


def parse_format(fmt: str) -> Template:
    """Parse a list command's --format as docker/cli does: `table` prefix, `\\t` and `\\n` escapes."""
    body = fmt[len("table") :] if fmt.startswith("table") else fmt
    return parse_template(body.strip(" ").replace("\\t", "\t").replace("\\n", "\n"))


def _natural_key(s: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", s) if part]


def join_host_port(host: str, port: int | str) -> str:
    """Go's net.JoinHostPort."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _truncate(s: str, width: int) -> str:
    """docker/cli's Ellipsis for ASCII-width text: keep width-1 characters and append "…"."""
    return s if len(s) <= width else s[: width - 1] + "…"


# -- docker ps ----------------------------------------------------------------------------------

_PS_FORMAT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
_PS_HEADERS = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Ports": "PORTS",
    "State": "STATE",
    "Status": "STATUS",
    "Size": "SIZE",
    "Names": "NAMES",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "Networks": "NETWORKS",
    "LocalVolumes": "LOCAL VOLUMES",
}


def is_running(c: Container) -> bool:
    """Docker's State.Running: also true while paused or restarting."""
    return c.status in ("running", "paused", "restarting")


def _own_netns(c: Container) -> bool:
    return c.network_mode not in ("host", "none") and not c.network_mode.startswith("container:")


def container_status(c: Container, now: str | datetime | None = None) -> str:
    """The daemon's State.String(): "Up 3 seconds", "Exited (0) 2 minutes ago", "Created"…"""
    t = _now(now)
    if c.status == "running":
        return f"Up {_ago(c.started_at, t)}"
    if c.status == "paused":
        return f"Up {_ago(c.started_at, t)} (Paused)"
    if c.status == "restarting":
        return f"Restarting ({c.exit_code}) {_ago(c.finished_at, t)} ago"
    if c.status == "removing":
        return "Removal In Progress"
    if c.status == "dead":
        return "Dead"
    if not parse_time(c.started_at):
        return "Created"
    if not parse_time(c.finished_at):
        return ""
    return f"Exited ({c.exit_code}) {_ago(c.finished_at, t)} ago"


def port_entries(c: Container) -> list[tuple[str, int, int, str]]:
    """The daemon's Ports of a listed container: (host ip, private, public, proto); public 0: exposed only."""
    if not is_running(c):
        return []
    entries = [(b.host_ip, b.container_port, b.host_port, b.proto) for b in c.ports]
    bound = {f"{b.container_port}/{b.proto}" for b in c.ports}
    if _own_netns(c):
        for exposed in c.exposed:
            port, _, proto = exposed.partition("/")
            if exposed not in bound and port.isdigit():
                entries.append(("", int(port), 0, proto or "tcp"))
    return entries


def display_ports(c: Container, version: Version = DEFAULT_VERSION) -> str:
    """docker/cli's DisplayablePorts for a container: `0.0.0.0:32768->80/tcp, 443/tcp`."""
    entries = port_entries(c)
    entries.sort(key=lambda e: (e[1], e[0], e[2], e[3]))
    groups: dict[str, list[int]] = {}
    result: list[str] = []
    mappings: list[str] = []
    for ip, private, public, proto in entries:
        key = proto
        if ip:
            if public != private:
                host = f"{ip}:{public}" if version == "19.03" else join_host_port(ip, public)
                mappings.append(f"{host}->{private}/{proto}")
                continue
            key = f"{ip}/{proto}"
        group = groups.get(key)
        if group is not None and private == group[1] + 1:
            group[1] = private
            continue
        if group is not None:
            result.append(_port_group(key, group, version))
        groups[key] = [private, private]
    result += [_port_group(key, group, version) for key, group in groups.items()]
    return ", ".join(result + mappings)


def _port_group(key: str, group: list[int], version: Version) -> str:
    parts = key.split("/")
    ip, kind = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
    text = str(group[0]) if group[0] == group[1] else f"{group[0]}-{group[1]}"
    if ip:
        text = f"{ip}:{text}->{text}" if version == "19.03" else f"{join_host_port(ip, text)}->{text}"
    return f"{text}/{kind}"


def _command_line(c: Container) -> str:
    """The daemon's container-list Command: path and args, args with spaces in single quotes."""
    if not c.cmd:
        return ""
    args = [f"'{a}'" if " " in a else a for a in c.cmd[1:]]
    return " ".join([c.cmd[0], *args]) if args else c.cmd[0]


def _go_time(value: str) -> str:
    t = parse_time(value)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC") if t else ""


def network_names(c: Container) -> list[str]:
    """The keys of the container's NetworkSettings.Networks (none in a container: mode)."""
    if c.endpoints:
        return [ep.network for ep in c.endpoints]
    if c.network_mode.startswith("container:"):
        return []
    return ["bridge" if c.network_mode == "default" else c.network_mode]


def ps_row(
    c: Container,
    now: str | datetime | None = None,
    *,
    no_trunc: bool = False,
    version: Version = DEFAULT_VERSION,
) -> dict:
    """The fields a `docker ps --format` template sees for one container."""
    t = _now(now)
    command = _command_line(c)
    image_size = next((size for name, _, _, _, size in IMAGES if name == c.image), "0B")
    return {
        "ID": c.id if no_trunc else c.short_id,
        "Image": c.image,
        "Command": go_quote(command if no_trunc else _truncate(command, 20)),
        "CreatedAt": _go_time(c.created),
        "RunningFor": f"{_ago(c.created, t)} ago",
        "Ports": display_ports(c, version),
        "State": c.status,
        "Status": container_status(c, t),
        "Size": f"0B (virtual {image_size})",
        "Names": c.name,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(c.labels.items())),
        "Mounts": "",
        "Networks": ",".join(network_names(c)),
        "LocalVolumes": "0",
    }


def format_ps(
    containers: Iterable[Container],
    all: bool = False,
    quiet: bool = False,
    no_trunc: bool = False,
    *,
    now: str | datetime | None = None,
    last: int = -1,
    latest: bool = False,
    size: bool = False,
    template: str = "",
    filters: Sequence[str] = (),
    networks: Iterable[Network] = (),
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker ps`: newest first; `all`/`last`/`latest` include stopped containers; `filters` as `-f`."""
    from topology.docker.filters import list_containers  # late: filters reads this module

    t = _now(now)
    limit = 1 if latest and last == -1 else last
    chosen = list_containers(containers, filters, all=all, limit=limit, networks=networks, version=version)
    fmt = "{{.ID}}" if quiet else template or (_PS_FORMAT + ("\t{{.Size}}" if size else ""))
    rows = [ps_row(c, t, no_trunc=no_trunc, version=version) for c in chosen]
    return _render_rows(fmt, rows, _PS_HEADERS, "*formatter.ContainerContext", version)


# -- docker network ls / images / port ----------------------------------------------------------

_NETWORK_FORMAT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
_NETWORK_HEADERS = {
    "ID": "NETWORK ID",
    "Name": "NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "IPv6": "IPV6",
    "Internal": "INTERNAL",
    "Labels": "LABELS",
    "CreatedAt": "CREATED AT",
}


def format_network_ls(
    networks: Iterable[Network],
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    template: str = "",
    filters: Sequence[str] = (),
    containers: Iterable[Container] = (),
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker network ls`, sorted by name as docker/cli does; `filters` as `-f`."""
    from topology.docker.filters import list_networks  # late: filters reads this module

    networks = list_networks(networks, filters, containers=containers, version=version)
    rows = [
        {
            "ID": n.id if no_trunc else n.short_id,
            "Name": n.name,
            "Driver": n.driver,
            "Scope": "local",
            "IPv6": "false",
            "Internal": str(n.internal).lower(),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(n.labels.items())),
            "CreatedAt": _go_time(n.created),
        }
        for n in sorted(networks, key=lambda n: _natural_key(n.name))
    ]
    fmt = "{{.ID}}" if quiet else template or _NETWORK_FORMAT
    return _render_rows(fmt, rows, _NETWORK_HEADERS, "*formatter.networkContext", version)


_IMAGES_FORMAT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
_IMAGES_HEADERS = {
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "ID": "IMAGE ID",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Digest": "DIGEST",
}


def image_id(name: str) -> str:
    """The full "sha256:…" id of an image of the fixed list (a stable made-up one otherwise)."""
    short = next((i for repo, _, i, _, _ in IMAGES if repo == name.split(":")[0]), "")
    digest = hashlib.sha256(name.encode()).hexdigest()
    return "sha256:" + (short + digest)[:64]


def format_images(
    *,
    now: str | datetime | None = None,
    repository: str = "",
    quiet: bool = False,
    no_trunc: bool = False,
    template: str = "",
    filters: Sequence[str] = (),
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker images` over the fixed images; REPOSITORY[:TAG] is a `reference` filter as in docker/cli."""
    from topology.docker.filters import list_images  # late: filters reads this module

    t = _now(now)
    refs = [f"reference={repository}"] if repository else []
    rows = [
        {
            "Repository": name,
            "Tag": image_tag,
            "ID": image_id(name) if no_trunc else short,
            "CreatedSince": f"{_ago(created, t)} ago",
            "CreatedAt": _go_time(created),
            "Size": size,
            "Digest": "<none>",
        }
        for name, image_tag, short, created, size in sorted(
            list_images([*filters, *refs], now=t, version=version), key=lambda i: i[3], reverse=True
        )
    ]
    fmt = "{{.ID}}" if quiet else template or _IMAGES_FORMAT
    return _render_rows(fmt, rows, _IMAGES_HEADERS, "*formatter.imageContext", version)


def format_port(
    container: Container, port: str | None = None, *, ref: str = "", version: Version = DEFAULT_VERSION
) -> str:
    """`docker port CONTAINER [PORT[/PROTO]]`; raises CliError when that port is not published."""
    bindings = container.ports if is_running(container) else []
    if not port:
        lines = [
            f"{b.container_port}/{b.proto} -> {join_host_port(b.host_ip, b.host_port)}" for b in bindings
        ]
    else:
        number, proto = port, "tcp"
        head, sep, tail = port.partition("/")
        if sep and (tail or version == "28"):
            number, proto = head, tail or "tcp"
        digits = re.fullmatch(r"[0-9]+", number)
        if not digits or len(number.lstrip("0")) > 5 or int(number) > 65535:
            reason = "value out of range" if digits else "invalid syntax"
            err = f"strconv.ParseUint: parsing {go_quote(number)}: {reason}"
            raise CliError(err if version == "19.03" else f"Error: invalid port ({number}): {err}", 1)
        lines = [
            join_host_port(b.host_ip, b.host_port)
            for b in bindings
            if b.container_port == int(number) and b.proto == proto
        ]
        if not lines:
            shown = f"{number}/{proto}" if version == "19.03" else port
            raise CliError(f"Error: No public port '{shown}' published for {ref or container.name}", 1)
    return "".join(line + "\n" for line in sorted(lines, key=_natural_key))


# -- docker version / info ----------------------------------------------------------------------

_VERSIONS = {
    "19.03": {
        "version": "19.03.15",
        "api": "1.40",
        "min_api": "1.12",
        "go": "go1.13.15",
        "commit": "99e3ed8",
        "built": "Sat Jan 30 03:16:51 2021",
        "containerd": ("1.4.3", "269548fa27e0089a8b8278fc4fc781d7f65a939b"),
        "runc": ("1.0.0-rc92", "ff819c7e9184c13b7c2607fe6c30ae19403a7aff"),
        "init": ("0.18.0", "fec3683"),
    },
    "28": {
        "version": "28.5.1",
        "api": "1.51",
        "min_api": "1.24",
        "go": "go1.24.8",
        "commit": "e180ab8",
        "built": "Wed Oct  8 12:17:26 2025",
        "containerd": ("v1.7.28", "b98a3aace656320842a23f4a392a33f46af97866"),
        "runc": ("1.3.0", "v1.3.0-0-g4ca628d1"),
        "init": ("0.19.0", "de40ad0"),
    },
}


def format_version(version: Version = DEFAULT_VERSION) -> str:
    """`docker version` (client and the emulated server)."""
    v = _VERSIONS[version]
    client_extra = " Experimental:      false\n" if version == "19.03" else " Context:           default\n"
    return (
        "Client: Docker Engine - Community\n"
        f" Version:           {v['version']}\n"
        f" API version:       {v['api']}\n"
        f" Go version:        {v['go']}\n"
        f" Git commit:        {v['commit']}\n"
        f" Built:             {v['built']}\n"
        " OS/Arch:           linux/amd64\n"
        f"{client_extra}"
        "\n"
        "Server: Docker Engine - Community\n"
        " Engine:\n"
        f"  Version:          {v['version']}\n"
        f"  API version:      {v['api']} (minimum version {v['min_api']})\n"
        f"  Go version:       {v['go']}\n"
        f"  Git commit:       {v['commit']}\n"
        f"  Built:            {v['built']}\n"
        "  OS/Arch:          linux/amd64\n"
        "  Experimental:     false\n"
        " containerd:\n"
        f"  Version:          {v['containerd'][0]}\n"
        f"  GitCommit:        {v['containerd'][1]}\n"
        " runc:\n"
        f"  Version:          {v['runc'][0]}\n"
        f"  GitCommit:        {v['runc'][1]}\n"
        " docker-init:\n"
        f"  Version:          {v['init'][0]}\n"
        f"  GitCommit:        {v['init'][1]}\n"
    )


def format_info(
    containers: Iterable[Container],
    networks: Iterable[Network] = (),
    *,
    hostname: str = "docker-host",
    kernel: str = "",
    version: Version = DEFAULT_VERSION,
) -> str:
    """A trimmed `docker info`: counts, versions and the network plugins."""
    cs = list(containers)
    running = sum(c.status == "running" for c in cs)
    paused = sum(c.status == "paused" for c in cs)
    v = _VERSIONS[version]
    return (
        "Client:\n"
        " Debug Mode: false\n"
        "\n"
        "Server:\n"
        f" Containers: {len(cs)}\n"
        f"  Running: {running}\n"
        f"  Paused: {paused}\n"
        f"  Stopped: {len(cs) - running - paused}\n"
        f" Images: {len(IMAGES)}\n"
        f" Server Version: {v['version']}\n"
        " Storage Driver: overlay2\n"
        " Logging Driver: json-file\n"
        " Cgroup Driver: cgroupfs\n"
        " Plugins:\n"
        "  Volume: local\n"
        "  Network: bridge host ipvlan macvlan null overlay\n"
        " Swarm: inactive\n"
        " Runtimes: runc\n"
        " Default Runtime: runc\n"
        f" Kernel Version: {kernel}\n"
        " OSType: linux\n"
        " Architecture: x86_64\n"
        f" Name: {hostname}\n"
        " Docker Root Dir: /var/lib/docker\n"
        " Debug Mode: false\n"
        " Experimental: false\n"
        " Insecure Registries:\n"
        "  127.0.0.0/8\n"
        " Live Restore Enabled: false\n"
    )


# -- docker inspect -----------------------------------------------------------------------------


def _derived_id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _sorted_map(items: Iterable[tuple[str, object]]) -> dict:
    return dict(sorted(items))


def _port_bindings(c: Container, version: Version) -> dict:
    bindings: dict[str, list[dict]] = {}
    for raw in c.port_specs:
        try:
            specs = parse_port_spec(raw, version)
        except CliError:
            continue
        for s in specs:
            bindings.setdefault(f"{s.container_port}/{s.proto}", []).append(
                {"HostIp": s.host_ip, "HostPort": str(s.host_port) if s.host_port else ""}
            )
    return _sorted_map(bindings.items())


def _endpoint(
    c: Container, net: Network | None, version: Version, *, ep: Endpoint | None = None, live: bool = False
) -> dict:
    """One NetworkSettings.Networks entry (EndpointSettings), in the Go struct's field order."""
    user_net = net is not None and net.name not in ("bridge", "host", "none")
    aliases = list(ep.aliases) if ep is not None else []
    if version == "19.03":
        aliases_value = [c.short_id, *aliases] if user_net else (aliases or None)
    else:
        aliases_value = aliases or None
    ipam = {"IPv4Address": c.requested_ip} if c.requested_ip and user_net else None
    operational = {
        "NetworkID": net.id if net else "",
        "EndpointID": _derived_id(c.id, net.id if net else "") if live else "",
        "Gateway": ep.gateway if ep else "",
        "IPAddress": ep.ip if ep else "",
        "IPPrefixLen": ep.prefixlen if ep else 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
    }
    mac = ep.mac if ep else ""
    if version == "19.03":
        return {
            "IPAMConfig": ipam,
            "Links": None,
            "Aliases": aliases_value,
            **operational,
            "MacAddress": mac,
            "DriverOpts": None,
        }
    dns_names = [c.name, c.short_id, *aliases] if user_net else None
    return {
        "IPAMConfig": ipam,
        "Links": None,
        "Aliases": aliases_value,
        "MacAddress": mac,
        "DriverOpts": None,
        "GwPriority": 0,
        **operational,
        "DNSNames": dns_names,
    }


def _network_settings(c: Container, nets: Mapping[str, Network], version: Version) -> dict:
    running = is_running(c)
    container_mode = c.network_mode.startswith("container:")
    networks: dict[str, dict] = {}
    if running and c.endpoints:
        for ep in c.endpoints:
            networks[ep.network] = _endpoint(c, nets.get(ep.network), version, ep=ep, live=True)
    elif not container_mode:
        mode = c.network_mode
        networks[mode] = _endpoint(c, nets.get(mode), version, live=running)
    ports: dict[str, list | None] = {}
    if running and _own_netns(c):
        ports.update(dict.fromkeys(c.exposed))
        for b in c.ports:
            key = f"{b.container_port}/{b.proto}"
            ports[key] = [*(ports.get(key) or []), {"HostIp": b.host_ip, "HostPort": str(b.host_port)}]
    legacy = networks.get("bridge", {})  # the deprecated top-level fields describe the default bridge only
    return {
        "Bridge": "",
        "SandboxID": _derived_id(c.id, "sandbox") if running and not container_mode else "",
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": _sorted_map(ports.items()),
        "SandboxKey": c.sandbox_key if running and not container_mode else "",
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": legacy.get("EndpointID", ""),
        "Gateway": legacy.get("Gateway", ""),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": legacy.get("IPAddress", ""),
        "IPPrefixLen": legacy.get("IPPrefixLen", 0),
        "IPv6Gateway": "",
        "MacAddress": legacy.get("MacAddress", ""),
        "Networks": _sorted_map(networks.items()),
    }


def inspect_container(
    container: Container, networks: Iterable[Network], *, version: Version = DEFAULT_VERSION
) -> dict:
    """`docker container inspect` of one container, in Docker's JSON shape (a subset of its fields)."""
    c = container
    running = is_running(c)
    base = f"/var/lib/docker/containers/{c.id}"
    config: dict[str, object] = {"Hostname": c.hostname, "Domainname": "", "User": ""}
    if c.exposed:
        config["ExposedPorts"] = {p: {} for p in sorted(c.exposed)}
    config.update(
        {
            "Tty": c.tty,
            "OpenStdin": c.interactive,
            "StdinOnce": False,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": list(c.cmd),
            "Image": c.image,
            "Volumes": None,
            "WorkingDir": "",
            "Entrypoint": None,
            "OnBuild": None,
            "Labels": _sorted_map(c.labels.items()),
        }
    )
    return {
        "Id": c.id,
        "Created": c.created,
        "Path": c.cmd[0] if c.cmd else "",
        "Args": list(c.cmd[1:]),
        "State": {
            "Status": c.status,
            "Running": running,
            "Paused": c.status == "paused",
            "Restarting": c.status == "restarting",
            "OOMKilled": False,
            "Dead": c.status == "dead",
            "Pid": c.pid if running else 0,
            "ExitCode": c.exit_code,
            "Error": "",
            "StartedAt": c.started_at or ZERO_TIME,
            "FinishedAt": c.finished_at or ZERO_TIME,
        },
        "Image": image_id(c.image),
        "ResolvConfPath": f"{base}/resolv.conf",
        "HostnamePath": f"{base}/hostname",
        "HostsPath": f"{base}/hosts",
        "LogPath": f"{base}/{c.id}-json.log",
        "Name": "/" + c.name,
        "RestartCount": 0,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "Binds": None,
            "ContainerIDFile": "",
            "LogConfig": {"Type": "json-file", "Config": {}},
            "NetworkMode": c.network_mode,
            "PortBindings": _port_bindings(c, version),
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": c.auto_remove,
            "Dns": [],
            "DnsOptions": [],
            "DnsSearch": [],
            "ExtraHosts": None,
            "Links": None,
            "Privileged": False,
            "PublishAllPorts": c.publish_all,
        },
        "Mounts": [],
        "Config": config,
        "NetworkSettings": _network_settings(c, {n.name: n for n in networks}, version),
    }


def inspect_network(
    network: Network, containers: Iterable[Container], *, version: Version = DEFAULT_VERSION
) -> dict:
    """`docker network inspect` of one network, in Docker's JSON shape."""
    n = network
    attached: dict[str, dict] = {}
    for c in containers:
        if not is_running(c):
            continue
        for ep in c.endpoints:
            if ep.network == n.name:
                attached[c.id] = {
                    "Name": c.name,
                    "EndpointID": _derived_id(c.id, n.id),
                    "MacAddress": ep.mac,
                    "IPv4Address": f"{ep.ip}/{ep.prefixlen}",
                    "IPv6Address": "",
                }
        if n.driver in ("host", "null") and c.network_mode == n.name:
            attached[c.id] = {
                "Name": c.name,
                "EndpointID": _derived_id(c.id, n.id),
                "MacAddress": "",
                "IPv4Address": "",
                "IPv6Address": "",
            }
    ipam_config = []
    if n.subnet:
        ipam_config.append({"Subnet": n.subnet, **({"Gateway": n.gateway} if n.gateway else {})})
    result: dict[str, object] = {
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": n.driver,
    }
    if version == "28":
        result["EnableIPv4"] = True
    result.update(
        {
            "EnableIPv6": False,
            "IPAM": {
                "Driver": "default",
                "Options": None if n.is_default_bridge else {},
                "Config": ipam_config,
            },
            "Internal": n.internal,
            "Attachable": False,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": _sorted_map(attached.items()),
            "Options": _sorted_map(n.options.items()),
            "Labels": _sorted_map(n.labels.items()),
        }
    )
    return result


def format_inspect(objects: Iterable[dict]) -> str:
    """`docker inspect` without -f: a JSON array indented like docker/cli (4 spaces)."""
    return json.dumps(list(objects), indent=4, ensure_ascii=False) + "\n"


# -- Go templates: values -----------------------------------------------------------------------


class GoMap(dict):
    """A dict that stands for a Go map: printed `map[k:v]`, ranged in key order, zero for missing keys."""

    zero: object = None


class _Nil:
    """A typed Go nil: a nil slice prints `[]`, a nil map `map[]`, a nil pointer `<nil>`; JSON null."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"_Nil({self.kind!r})"


class _NoValue:
    """A missing map entry: Go prints `<no value>`."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()
_GO_MAPS: dict[str, object] = {
    "Networks": _Nil("ptr"),
    "Ports": _Nil("slice"),
    "PortBindings": _Nil("slice"),
    "ExposedPorts": {},
    "Options": "",
    "Labels": "",
    "Containers": _Nil("ptr"),
    "DriverOpts": "",
    "Config": "",  # only LogConfig.Config is a map; see _go_typed
    "Volumes": {},
    "Sysctls": "",
    "Tmpfs": "",
}
_GO_SLICES = frozenset(
    {"Args", "Cmd", "Entrypoint", "Env", "Links", "Aliases", "DNSNames", "Dns", "DnsOptions", "DnsSearch"}
    | {"ExtraHosts", "Binds", "CapAdd", "CapDrop", "VolumesFrom", "GroupAdd", "ExecIDs", "Mounts", "OnBuild"}
    | {"SecondaryIPAddresses", "SecondaryIPv6Addresses", "SecurityOpt"}
)


def _go_typed(value: object, key: str = "", parent: str = "") -> object:
    """Recover the Go types of a JSON-shaped inspect object from its key names."""
    is_map = key in _GO_MAPS and not (key == "Config" and parent != "LogConfig")
    if value is None:
        if key in _GO_SLICES or (key == "Config" and parent == "IPAM"):
            return _Nil("slice")
        return _Nil("map") if is_map else _Nil("ptr")
    if isinstance(value, GoMap):
        return value
    if isinstance(value, Mapping):
        if is_map:
            typed = GoMap(sorted((k, _go_typed(v)) for k, v in value.items()))
            typed.zero = _GO_MAPS[key]
            return typed
        typed_struct = {k: _go_typed(v, k, key) for k, v in value.items()}
        if key == "Config" and "Image" in value and "ExposedPorts" not in value:
            typed_struct["ExposedPorts"] = _Nil("map")
        return typed_struct
    if isinstance(value, list | tuple):
        return [_go_typed(v) for v in value]
    return value


def _go_type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "json.Number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return "interface {}"


def go_print(value: object) -> str:
    """fmt's %v of a template value."""
    if isinstance(value, _NoValue):
        return "<no value>"
    if isinstance(value, _Nil):
        return {"slice": "[]", "map": "map[]"}.get(value.kind, "<nil>")
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(_go_print_inner(v) for v in value) + "]"
    if isinstance(value, GoMap):
        return "map[" + " ".join(f"{k}:{_go_print_inner(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, Mapping):
        return "{" + " ".join(_go_print_inner(v) for v in value.values()) + "}"
    return str(value)


def _go_print_inner(value: object) -> str:
    return "<nil>" if isinstance(value, _NoValue) else go_print(value)


def _to_json(value: object) -> str:
    def default(o: object) -> object:
        if isinstance(o, _Nil | _NoValue):
            return None
        raise TypeError(type(o).__name__)

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=default)


def _truth(value: object) -> bool:
    if isinstance(value, _Nil | _NoValue) or value is None:
        return False
    if isinstance(value, GoMap):
        return len(value) > 0
    if isinstance(value, Mapping):
        return True
    if isinstance(value, bool | int | float | str | list):
        return bool(value)
    return True


# -- Go templates: parsing ----------------------------------------------------------------------


class TemplateError(CliError):
    """A template that does not parse or execute; `detail` is Go's error text ("template: …")."""

    def __init__(self, detail: str, prefix: str = "Template parsing error: ") -> None:
        super().__init__(prefix + detail, 1)
        self.detail = detail


@dataclass
class _Tok:
    kind: str  # space field var dot ident string number char ( ) | := = ,
    value: str
    pos: int


@dataclass
class _Node:
    kind: str  # field var dot func lit nil chain pipe cmd text action if with range break continue
    pos: int = 0
    text: str = ""
    names: list[str] = field(default_factory=list)  # field / var / chain identifiers
    value: object = None  # literal value, variable name, function name, or chained node
    args: list[_Node] = field(default_factory=list)  # cmd operands, pipe commands
    decl: list[str] = field(default_factory=list)  # pipe variable declarations
    assign: bool = False
    body: list[_Node] = field(default_factory=list)
    orelse: list[_Node] = field(default_factory=list)
    pipe: _Node | None = None


_TOKEN_RE = re.compile(
    r"(?P<space>\s+)|(?P<declare>:=)|(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)|(?P<var>\$[A-Za-z0-9_]*)"
    r"|(?P<number>[+-]?(?:0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+))"
    r"|(?P<dot>\.)|(?P<string>\"(?:[^\"\\\n]|\\.)*\")|(?P<raw>`[^`]*`)|(?P<char>'(?:[^'\\\n]|\\.)+')"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[()|=,])"
)
_FUNCS: dict[str, tuple[int, int | None]] = {
    "and": (1, None),
    "or": (1, None),
    "not": (1, 1),
    "len": (1, 1),
    "index": (1, None),
    "print": (0, None),
    "printf": (1, None),
    "println": (0, None),
    "eq": (1, None),
    "ne": (2, 2),
    "lt": (2, 2),
    "le": (2, 2),
    "gt": (2, 2),
    "ge": (2, 2),
    "json": (1, 1),
    "split": (2, 2),
    "join": (2, 2),
    "title": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "pad": (3, 3),
    "truncate": (2, 2),
}
_KEYWORDS = ("if", "else", "end", "range", "with", "break", "continue", "define", "template", "block")
_UNESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


def _unquote(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(body[i + 2 : i + 2 + size], 16)))
            i += 2 + size
        else:
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
    return "".join(out)


class _Parser:
    """text/template's parser for the subset above, with Go's error texts."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.items = self._lex()
        self.i = 0
        self.scopes: list[list[str]] = [["$"]]
        self.range_depth = 0

    def fail(self, pos: int, msg: str) -> TemplateError:
        return TemplateError(f"template: :{1 + self.src.count(chr(10), 0, pos)}: {msg}")

    # lexing: a list of ("text", str, start, end) and ("action", [tokens], start, end) items
    def _lex(self) -> list[tuple[str, object, int, int]]:
        src, items, pos, trim_next = self.src, [], 0, False
        while True:
            start = src.find("{{", pos)
            text = src[pos:] if start < 0 else src[pos:start]
            if trim_next:
                text = text.lstrip(" \t\r\n")
            j = start + 2
            if start >= 0 and src[j : j + 1] == "-" and src[j + 1 : j + 2] in (" ", "\t", "\r", "\n"):
                text, j = text.rstrip(" \t\r\n"), j + 1
            if text:
                items.append(("text", text, pos, start))
            if start < 0:
                return items
            tokens, pos, trim_next = self._lex_action(start, j)
            if tokens is not None:
                items.append(("action", tokens, start, pos))

    def _lex_action(self, start: int, j: int) -> tuple[list[_Tok] | None, int, bool]:
        src = self.src
        k = j
        while k < len(src) and src[k] in " \t\r\n":
            k += 1
        if src.startswith("/*", k):
            end = src.find("*/", k + 2)
            if end < 0:
                raise self.fail(start, "unclosed comment")
            k = end + 2
            if src.startswith("}}", k):
                return None, k + 2, False
            if src[k : k + 1] in (" ", "\t", "\r", "\n") and src.startswith("-}}", k + 1):
                return None, k + 4, True
            raise self.fail(start, "comment ends before closing delimiter")
        tokens: list[_Tok] = []
        while True:
            if j >= len(src):
                raise self.fail(start, "unclosed action")
            if src.startswith("}}", j):
                return tokens, j + 2, False
            if src[j] in " \t\r\n" and src.startswith("-}}", j + 1):
                return tokens, j + 4, True
            m = _TOKEN_RE.match(src, j)
            if m is None:
                if src[j] == '"':
                    raise self.fail(j, "unterminated quoted string")
                if src[j] == "`":
                    raise self.fail(j, "unterminated raw quoted string")
                if src[j].isascii() and src[j].isprintable():
                    raise self.fail(j, f"unexpected {go_quote(src[j])} in command")
                raise self.fail(j, f"bad character U+{ord(src[j]):04X} {_go_quote_rune(src[j])}")
            kind = m.lastgroup or ""
            value = m.group()
            if kind == "punct":
                kind = value
            elif kind == "declare":
                kind = ":="
            elif kind == "raw":
                kind = "string"
            if kind == "space" and src.startswith("-}}", m.end()):
                if len(value) > 1:
                    tokens.append(_Tok("space", value[:-1], j))
                j = m.end() - 1
                continue
            tokens.append(_Tok(kind, value, j))
            j = m.end()

    # parsing
    def parse(self) -> list[_Node]:
        nodes, end, _ = self.parse_list(())
        return nodes

    def parse_list(self, stops: tuple[str, ...]) -> tuple[list[_Node], str, list[_Tok]]:
        nodes: list[_Node] = []
        while self.i < len(self.items):
            kind, payload, pos, _ = self.items[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(_Node("text", pos, value=payload))
                continue
            toks: list[_Tok] = payload  # type: ignore[assignment]
            words = [t for t in toks if t.kind != "space"]
            if not words:
                raise self.fail(pos, "missing value for command")
            head = words[0]
            if head.kind == "ident" and head.value in _KEYWORDS:
                word = head.value
                if word in ("end", "else"):
                    if word not in stops:
                        raise self.fail(head.pos, f"unexpected {{{{{word}}}}}")
                    return nodes, word, toks[toks.index(head) + 1 :]
                if word in ("if", "with", "range"):
                    nodes.append(self.parse_control(word, toks[toks.index(head) + 1 :], pos))
                elif word in ("break", "continue"):
                    if not self.range_depth:
                        raise self.fail(head.pos, f"{{{{{word}}}}} outside {{{{range}}}}")
                    nodes.append(_Node(word, head.pos))
                else:
                    raise self.fail(head.pos, f"{{{{{word}}}}} is not supported here")
                continue
            pipe = self.parse_pipeline(toks, pos, "command", decl_ok=True)
            nodes.append(_Node("action", pos, pipe=pipe))
        if stops:
            raise self.fail(len(self.src), "unexpected EOF")
        return nodes, "", []

    def parse_control(self, word: str, toks: list[_Tok], start: int) -> _Node:
        self.scopes.append([])
        pos = next((t.pos for t in toks if t.kind != "space"), start)
        pipe = self.parse_pipeline(toks, pos, word, decl_ok=True, range_decl=word == "range")
        self.range_depth += word == "range"
        body, end, rest = self.parse_list(("end", "else"))
        self.range_depth -= word == "range"
        orelse: list[_Node] = []
        if end == "else":
            words = [t for t in rest if t.kind != "space"]
            if words and words[0].kind == "ident" and words[0].value in ("if", "with") and word != "range":
                orelse = [self.parse_control(words[0].value, rest[rest.index(words[0]) + 1 :], words[0].pos)]
            else:
                orelse, _, _ = self.parse_list(("end",))
        self.scopes.pop()
        text = self.src[start : self.items[self.i - 1][3]]
        return _Node(word, pos, text, pipe=pipe, body=body, orelse=orelse)

    def parse_pipeline(
        self, toks: list[_Tok], pos: int, context: str, *, decl_ok=False, range_decl=False
    ) -> _Node:
        c = _Cursor(toks)
        decl: list[str] = []
        assign = False
        save = c.i
        first = c.next_word()
        if decl_ok and first is not None and first.kind == "var":
            after = c.next_word()
            if after is not None and after.kind in (":=", "="):
                decl, assign = [first.value], after.kind == "="
            elif after is not None and after.kind == "," and range_decl:
                second = c.next_word()
                op = c.next_word()
                if second is None or second.kind != "var" or op is None or op.kind != ":=":
                    raise self.fail(first.pos, "range can only initialize variables")
                decl = [first.value, second.value]
            else:
                c.i = save
        else:
            c.i = save
        if assign and not self.declared(decl[0]):
            raise self.fail(first.pos, f"undefined variable {go_quote(decl[0])}")
        cmds = self.parse_commands(c, pos, context)
        if not assign:
            self.scopes[-1].extend(decl)
        text = " | ".join(cmd.text for cmd in cmds)
        if decl:
            text = f"{', '.join(decl)} {'=' if assign else ':='} {text}"
        return _Node("pipe", pos, text=text, args=cmds, decl=decl, assign=assign)

    def unquote(self, body: str, pos: int) -> str:
        try:
            return _unquote(body)
        except (ValueError, OverflowError):
            raise self.fail(pos, "invalid syntax") from None

    def declared(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def parse_commands(self, c: _Cursor, pos: int, context: str, *, closing: str = "") -> list[_Node]:
        cmds: list[_Node] = []
        while True:
            operands: list[_Node] = []
            while True:
                c.skip_space()
                tok = c.peek()
                if tok is None or tok.kind in ("|", ")"):
                    break
                node = self.operand(c)
                if node is None:
                    raise self.fail(tok.pos, f"unexpected {go_quote(tok.value)} in {context}")
                operands.append(node)
                nxt = c.peek()
                if nxt is not None and nxt.kind not in ("space", "|", ")"):
                    raise self.fail(nxt.pos, f"unexpected {go_quote(nxt.value)} in operand")
            if not operands:
                raise self.fail(pos, f"missing value for {context}")
            cmds.append(_Node("cmd", operands[0].pos, text=" ".join(o.text for o in operands), args=operands))
            tok = c.peek()
            if tok is None:
                if closing:
                    raise self.fail(pos, "unclosed left paren")
                return cmds
            if tok.kind == ")":
                if not closing:
                    raise self.fail(tok.pos, f"unexpected {go_quote(')')} in {context}")
                return cmds
            c.i += 1

    def operand(self, c: _Cursor) -> _Node | None:
        node = self.term(c)
        if node is None:
            return None
        tok = c.peek()
        if tok is not None and tok.kind == "field":
            pos, names = tok.pos, []
            while (tok := c.peek()) is not None and tok.kind == "field":
                names.append(c.take().value[1:])
            suffix = "".join("." + n for n in names)
            if node.kind in ("field", "var"):
                return _Node(node.kind, pos, node.text + suffix, node.names + names, node.value)
            if node.kind in ("lit", "nil", "dot"):
                raise self.fail(pos, f"unexpected . after term {go_quote(node.text)}")
            return _Node("chain", pos, node.text + suffix, names, node)
        return node

    def term(self, c: _Cursor) -> _Node | None:
        tok = c.peek()
        if tok is None:
            return None
        kind, value, pos = tok.kind, tok.value, tok.pos
        if kind == "ident":
            c.take()
            if value in ("true", "false"):
                return _Node("lit", pos, value, value=value == "true")
            if value == "nil":
                return _Node("nil", pos, value)
            if value not in _FUNCS:
                raise self.fail(pos, f"function {go_quote(value)} not defined")
            return _Node("func", pos, value, value=value)
        if kind == "dot":
            c.take()
            return _Node("dot", pos, ".")
        if kind == "field":
            c.take()
            return _Node("field", pos, value, [value[1:]])
        if kind == "var":
            c.take()
            if not self.declared(value):
                raise self.fail(pos, f"undefined variable {go_quote(value)}")
            return _Node("var", pos, value, [], value)
        if kind == "string":
            c.take()
            literal = value[1:-1] if value[0] == "`" else self.unquote(value[1:-1], pos)
            return _Node("lit", pos, go_quote(literal), value=literal)
        if kind == "char":
            c.take()
            char = self.unquote(value[1:-1], pos)
            if len(char) != 1:
                raise self.fail(pos, f"malformed character constant: {value}")
            return _Node("lit", pos, value, value=ord(char))
        if kind == "number":
            c.take()
            return _Node("lit", pos, value, value=_number(value, self, pos))
        if kind == "(":
            c.take()
            cmds = self.parse_commands(c, pos, "parenthesized pipeline", closing=")")
            c.take()
            pipe = _Node("pipe", pos, text=" | ".join(cmd.text for cmd in cmds), args=cmds)
            return _Node("paren", pos, f"({pipe.text})", pipe=pipe)
        return None


def _number(text: str, parser: _Parser, pos: int) -> int | float:
    clean = text.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", clean):
            return int(clean, 16)
        return int(clean) if re.fullmatch(r"[+-]?[0-9]+", clean) else float(clean)
    except ValueError:
        raise parser.fail(pos, f"bad number syntax: {go_quote(text)}") from None


def _go_quote_rune(ch: str) -> str:
    return "'\\''" if ch == "'" else f"'{ch}'" if ch.isprintable() else go_quote(ch).replace('"', "'")


class _Cursor:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.i = toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def skip_space(self) -> None:
        while (tok := self.peek()) is not None and tok.kind == "space":
            self.i += 1

    def next_word(self) -> _Tok | None:
        self.skip_space()
        return self.take() if self.peek() is not None else None


@dataclass
class Template:
    """A parsed Go template."""

    source: str
    nodes: list[_Node]


def parse_template(template: str, *, prefix: str = "Template parsing error: ") -> Template:
    """Parse a Go template; raises TemplateError ("Template parsing error: template: :1: …")."""
    try:
        return Template(template, _Parser(template).parse())
    except TemplateError as e:
        raise TemplateError(e.detail, prefix) from None


# -- Go templates: execution --------------------------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exec:
    def __init__(self, tmpl: Template, root: object, type_name: str) -> None:
        self.src = tmpl.source
        self.type_name = type_name
        self.vars: list[tuple[str, object]] = [("$", root)]

    def fail(self, node: _Node, msg: str) -> TemplateError:
        before = self.src[: node.pos]
        line, col = 1 + before.count("\n"), node.pos - (before.rfind("\n") + 1)
        context = node.text if len(node.text) <= 20 else node.text[:20] + "..."
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {msg}')

    def run(self, nodes: list[_Node], dot: object, out: list[str]) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(str(node.value))
            elif node.kind == "action":
                assert node.pipe is not None
                value = self.pipe(node.pipe, dot)
                if not node.pipe.decl:
                    out.append(go_print(value))
            elif node.kind in ("if", "with"):
                mark = len(self.vars)
                assert node.pipe is not None
                value = self.pipe(node.pipe, dot)
                if _truth(value):
                    self.run(node.body, value if node.kind == "with" else dot, out)
                else:
                    self.run(node.orelse, dot, out)
                del self.vars[mark:]
            elif node.kind == "range":
                self.range(node, dot, out)
            elif node.kind == "break":
                raise _Break
            elif node.kind == "continue":
                raise _Continue

    def range(self, node: _Node, dot: object, out: list[str]) -> None:
        mark = len(self.vars)
        assert node.pipe is not None
        value = self.pipe(node.pipe, dot, declare=False)
        if isinstance(value, GoMap):
            pairs = sorted(value.items())
        elif isinstance(value, list):
            pairs = list(enumerate(value))
        elif isinstance(value, _Nil | _NoValue) or value is None:
            pairs = []
        else:
            raise self.fail(node, f"range can't iterate over {go_print(value)}")
        for key, elem in pairs:
            del self.vars[mark:]
            if len(node.pipe.decl) == 1:
                self.vars.append((node.pipe.decl[0], elem))
            elif len(node.pipe.decl) == 2:
                self.vars += [(node.pipe.decl[0], key), (node.pipe.decl[1], elem)]
            try:
                self.run(node.body, elem, out)
            except _Break:
                break
            except _Continue:
                continue
        if not pairs:
            self.run(node.orelse, dot, out)
        del self.vars[mark:]

    def pipe(self, pipe: _Node, dot: object, *, declare: bool = True) -> object:
        value: object = _MISSING
        for cmd in pipe.args:
            value = self.command(cmd, dot, value)
        if pipe.decl and declare:
            if pipe.assign:
                for k in range(len(self.vars) - 1, -1, -1):
                    if self.vars[k][0] == pipe.decl[0]:
                        self.vars[k] = (pipe.decl[0], value)
                        break
            else:
                self.vars.append((pipe.decl[0], value))
        return value

    def command(self, cmd: _Node, dot: object, final: object) -> object:
        head, rest = cmd.args[0], cmd.args[1:]
        if head.kind == "func":
            args = [self.arg(a, dot) for a in rest] + ([final] if final is not _MISSING else [])
            return self.call(str(head.value), args, head, cmd)
        if rest or final is not _MISSING:
            if head.kind in ("field", "chain", "var") and head.names:
                raise self.fail(head, f"{head.names[-1]} is not a method but has arguments")
            raise self.fail(head, f"can't give argument to non-function {head.text}")
        return self.arg(head, dot)

    def arg(self, node: _Node, dot: object) -> object:
        if node.kind == "dot":
            return dot
        if node.kind == "lit":
            return node.value
        if node.kind == "nil":
            raise self.fail(node, "nil is not a command")
        if node.kind == "func":
            return self.call(str(node.value), [], node, node)
        if node.kind == "field":
            return self.fields(dot, node.names, node)
        if node.kind == "var":
            base = next(v for name, v in reversed(self.vars) if name == node.value)
            return self.fields(base, node.names, node)
        if node.kind == "paren":
            assert node.pipe is not None
            return self.pipe(node.pipe, dot)
        if node.kind == "chain":
            assert isinstance(node.value, _Node)
            return self.fields(self.arg(node.value, dot), node.names, node)
        raise self.fail(node, f"can't evaluate {node.kind}")

    def fields(self, value: object, names: list[str], node: _Node) -> object:
        for name in names:
            if isinstance(value, GoMap):
                value = value.get(name, NO_VALUE)
            elif isinstance(value, Mapping):
                if name not in value:
                    if self.type_name:
                        raise self.fail(node, f"can't evaluate field {name} in type {self.type_name}")
                    raise self.fail(node, f"map has no entry for key {go_quote(name)}")
                value = value[name]
            elif isinstance(value, _Nil | _NoValue) or value is None:
                raise self.fail(node, f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise self.fail(node, f"can't evaluate field {name} in type {_go_type_name(value)}")
        return value

    def call(self, name: str, args: list[object], ident: _Node, cmd: _Node) -> object:
        low, high = _FUNCS[name]
        if len(args) < low or (high is not None and len(args) > high):
            want = f"at least {low}" if high is None else str(low)
            raise self.fail(ident, f"wrong number of args for {name}: want {want} got {len(args)}")
        try:
            return _CALLS[name](*args)
        except _CallError as e:
            raise self.fail(cmd, f"error calling {name}: {e}") from None
        except _ArgError as e:
            raise self.fail(cmd, str(e)) from None


_MISSING = object()


class _CallError(Exception):
    pass


class _ArgError(Exception):
    pass


def _want_str(value: object) -> str:
    if not isinstance(value, str):
        raise _ArgError(f"wrong type for value; expected string; got {_go_type_name(value)}")
    return value


def _want_int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _ArgError(f"wrong type for value; expected int; got {_go_type_name(value)}")
    return value


def _index(item: object, *keys: object) -> object:
    for key in keys:
        if isinstance(item, Mapping):
            if not isinstance(key, str):
                raise _CallError(f"value has type {_go_type_name(key)}; should be string")
            item = item.get(key, item.zero if isinstance(item, GoMap) else NO_VALUE)
        elif isinstance(item, list | str | _Nil):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _CallError(f"cannot index slice/array with type {_go_type_name(key)}")
            if isinstance(item, _Nil) and item.kind == "map":
                raise _CallError(f"value has type {_go_type_name(key)}; should be string")
            size = len(item)
            if not 0 <= key < size:
                raise _CallError(f"index out of range: {key}")
            item = item[key] if isinstance(item, list) else item.encode()[key]  # type: ignore[index]
        elif item is None or isinstance(item, _NoValue):
            raise _CallError("index of untyped nil")
        else:
            raise _CallError(f"can't index item of type {_go_type_name(item)}")
    return item


def _compare(op: str) -> Callable[..., bool]:
    def compare(a: object, *others: object) -> bool:
        if not others:
            raise _CallError("missing argument for comparison")
        for b in others:
            for v in (a, b):
                if not isinstance(v, bool | int | float | str):
                    raise _CallError("invalid type for comparison")
            if isinstance(a, str) != isinstance(b, str) or isinstance(a, bool) != isinstance(b, bool):
                raise _CallError("incompatible types for comparison")
            if op == "eq" and a == b:
                return True
            if op != "eq":
                return {"ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]  # type: ignore[operator]
        return False

    return compare


def _and(*args: object) -> object:
    for a in args:
        if not _truth(a):
            return a
    return args[-1]


def _or(*args: object) -> object:
    for a in args:
        if _truth(a):
            return a
    return args[-1]


def _sprint(*args: object) -> str:
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_print(a))
    return "".join(out)


_VERB_RE = re.compile(r"%([-+# 0]*)([0-9]+)?(?:\.([0-9]+))?([a-zA-Z%])")


def _sprintf(fmt: object, *args: object) -> str:
    """fmt.Sprintf for the verbs templates use: %v %s %d %q %t %x %X %%."""
    text, out, used, last = _want_str(fmt), [], 0, 0
    for m in _VERB_RE.finditer(text):
        out.append(text[last : m.start()])
        last = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        if verb in "vs":
            piece = go_print(arg)[: int(prec)] if prec else go_print(arg)
        elif verb == "d" and isinstance(arg, int) and not isinstance(arg, bool):
            piece = str(arg)
        elif verb == "q" and isinstance(arg, str):
            piece = go_quote(arg)
        elif verb == "t" and isinstance(arg, bool):
            piece = go_print(arg)
        elif verb in "xX" and isinstance(arg, int | str) and not isinstance(arg, bool):
            piece = format(arg, verb) if isinstance(arg, int) else arg.encode().hex()
            piece = piece.upper() if verb == "X" else piece
        else:
            piece = f"%!{verb}({_go_type_name(arg)}={go_print(arg)})"
        if width:
            width = str(min(int(width), 4096))
            fill = "0" if "0" in flags and "-" not in flags and verb in "dxX" else " "
            piece = piece.ljust(int(width)) if "-" in flags else piece.rjust(int(width), fill)
        out.append(piece)
    out.append(text[last:])
    if used < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_go_type_name(a)}={go_print(a)}" for a in args[used:]) + ")")
    return "".join(out)


def _len(value: object) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list | Mapping | _Nil):
        return len(value)
    raise _CallError(f"len of type {_go_type_name(value)}")


def _join(items: object, sep: object) -> str:
    if not isinstance(items, list | _Nil) or not all(isinstance(i, str) for i in items or []):
        raise _ArgError(f"wrong type for value; expected []string; got {_go_type_name(items)}")
    return _want_str(sep).join(items or [])  # type: ignore[arg-type]


_CALLS: dict[str, Callable[..., object]] = {
    "and": _and,
    "or": _or,
    "not": lambda v: not _truth(v),
    "len": _len,
    "index": _index,
    "print": _sprint,
    "printf": _sprintf,
    "println": lambda *a: " ".join(go_print(v) for v in a) + "\n",
    "eq": _compare("eq"),
    "ne": _compare("ne"),
    "lt": _compare("lt"),
    "le": _compare("le"),
    "gt": _compare("gt"),
    "ge": _compare("ge"),
    "json": _to_json,
    "split": lambda s, sep: _want_str(s).split(_want_str(sep)) if sep else list(_want_str(s)),
    "join": _join,
    "title": lambda s: re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), _want_str(s)),
    "lower": lambda s: _want_str(s).lower(),
    "upper": lambda s: _want_str(s).upper(),
    "pad": lambda s, before, after: (
        " " * min(_want_int(before), 4096) + _want_str(s) + " " * min(_want_int(after), 4096)
    ),
    "truncate": lambda s, n: _want_str(s)[: _want_int(n)],
}


def _execute(tmpl: Template, obj: object, type_name: str, *, prefix: str = "Template parsing error: ") -> str:
    out: list[str] = []
    try:
        _Exec(tmpl, obj, type_name).run(tmpl.nodes, obj, out)
    except TemplateError as e:
        raise TemplateError(e.detail, prefix) from None
    except (_Break, _Continue):
        pass
    return "".join(out)


def render_format(template: str, obj: Mapping, *, type_name: str = "") -> str:
    """Execute a `docker inspect -f` template over an inspect object (no trailing newline); TemplateError."""
    # type_name switches the missing-field error to Go's typed form ("can't evaluate field X in type T").
    return _execute(parse_template(template), _go_typed(obj), type_name)
