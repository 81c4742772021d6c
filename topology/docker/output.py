"""Docker's output tables and texts: ps, network ls, images, port, version, info.

Pure functions over `topology.docker.model` objects that the caller has already chosen (filtered);
every function that prints relative times takes `now`. Output strings are exactly what Docker
writes to stdout, newline-terminated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from topology.docker.clierrors import CliError
from topology.docker.gotemplate import GoMap, execute, parse_format
from topology.docker.gotext import go_quote, human_since, join_host_port, parse_time, tabwrite, time_or_now
from topology.docker.images import IMAGES, image_id
from topology.docker.model import (
    DEFAULT_VERSION,
    Container,
    Network,
    Version,
    is_running,
    network_names,
    port_entries,
)


def _minwidth(version: Version) -> int:
    return 20 if version == "19.03" else 10


def _render_rows(
    fmt: str, rows: Sequence[dict], headers: dict[str, str], type_name: str, version: Version
) -> str:
    """docker/cli's formatter: `table` formats get a header line and tabwriter alignment."""
    table, tmpl = fmt.startswith("table"), parse_format(fmt)
    out = [execute(tmpl, GoMap(headers), "") + "\n"] if table else []
    out += [execute(tmpl, row, type_name) + "\n" for row in rows]
    text = "".join(out)
    return tabwrite(text, _minwidth(version)) if table else text


def _natural_key(s: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", s) if part]


def _truncate(s: str, width: int) -> str:
    """docker/cli's Ellipsis for ASCII-width text: keep width-1 characters and append "…"."""
    return s if len(s) <= width else s[: width - 1] + "…"


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


def container_status(c: Container, now: str | datetime | None = None) -> str:
    """The daemon's State.String(): "Up 3 seconds", "Exited (0) 2 minutes ago", "Created"…"""
    t = time_or_now(now)
    if c.status == "running":
        return f"Up {human_since(c.started_at, t)}"
    if c.status == "paused":
        return f"Up {human_since(c.started_at, t)} (Paused)"
    if c.status == "restarting":
        return f"Restarting ({c.exit_code}) {human_since(c.finished_at, t)} ago"
    if c.status == "removing":
        return "Removal In Progress"
    if c.status == "dead":
        return "Dead"
    if not parse_time(c.started_at):
        return "Created"
    if not parse_time(c.finished_at):
        return ""
    return f"Exited ({c.exit_code}) {human_since(c.finished_at, t)} ago"


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


def ps_row(
    c: Container,
    now: str | datetime | None = None,
    *,
    no_trunc: bool = False,
    version: Version = DEFAULT_VERSION,
) -> dict:
    """The fields a `docker ps --format` template sees for one container."""
    t = time_or_now(now)
    command = _command_line(c)
    image_size = next((size for name, _, _, _, size in IMAGES if name == c.image), "0B")
    return {
        "ID": c.id if no_trunc else c.short_id,
        "Image": c.image,
        "Command": go_quote(command if no_trunc else _truncate(command, 20)),
        "CreatedAt": _go_time(c.created),
        "RunningFor": f"{human_since(c.created, t)} ago",
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
    *,
    quiet: bool = False,
    no_trunc: bool = False,
    now: str | datetime | None = None,
    size: bool = False,
    template: str = "",
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker ps` of the containers chosen (filters.list_containers), in their order."""
    t = time_or_now(now)
    fmt = "{{.ID}}" if quiet else template or (_PS_FORMAT + ("\t{{.Size}}" if size else ""))
    rows = [ps_row(c, t, no_trunc=no_trunc, version=version) for c in containers]
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
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker network ls` of the networks chosen (filters.list_networks), sorted by name like docker/cli."""
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


def format_images(
    images: Iterable[tuple],
    *,
    now: str | datetime | None = None,
    quiet: bool = False,
    no_trunc: bool = False,
    template: str = "",
    version: Version = DEFAULT_VERSION,
) -> str:
    """`docker images` of the image rows chosen (filters.list_images), newest first."""
    t = time_or_now(now)
    rows = [
        {
            "Repository": name,
            "Tag": image_tag,
            "ID": image_id(name) if no_trunc else short,
            "CreatedSince": f"{human_since(created, t)} ago",
            "CreatedAt": _go_time(created),
            "Size": size,
            "Digest": "<none>",
        }
        for name, image_tag, short, created, size in sorted(images, key=lambda i: i[3], reverse=True)
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


def format_top(ps_output: str, pids: set[int]) -> str:
    """`docker top`: the daemon's parsePSOutput (the header, then the lines of the container's pids;
    a thread line "-" follows its process) printed by the CLI's tabwriter (minwidth 20, padding 3)."""
    lines = ps_output.split("\n")
    titles = lines[0].split()
    if "PID" not in titles:
        raise ValueError("Couldn't find PID field in ps output")
    column, rows, inside = titles.index("PID"), [titles], False
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        if fields[column] != "-":
            inside = int(fields[column]) in pids
        if inside:
            rows.append([*fields[: len(titles) - 1], " ".join(fields[len(titles) - 1 :])])
    return tabwrite("".join("\t".join(row) + "\n" for row in rows), 20)


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
