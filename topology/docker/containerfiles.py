"""What a container is given at start besides its network: its /etc/hosts, resolv.conf and hostname,
and its legacy links (`--link`), as the daemon checks and writes them.

The texts come from `etcfiles`; this module picks them per network mode and resolves the links
against the engine's containers (`lookup`: a name or id to a Container, or None).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from topology.docker import etcfiles
from topology.docker.model import DEFAULT_PATH, Container, Endpoint, ExposedPort, Network, Version
from topology.docker.runtime import heredoc
from topology.sandbox import HOST_HOSTS, HOST_RESOLV_CONF, HOSTNAME

Lookup = Callable[[str], Container | None]


class LinkError(Exception):
    """The daemon refuses a link; the text is the daemon's."""


def check_link(lookup: Lookup, ref: str, user_net: bool) -> tuple[str, str]:
    """A `--link NAME[:ALIAS]` checked as the daemon's registerLinks does (not on user networks,
    where the alias only becomes a name in the embedded DNS)."""
    name, _, alias = ref.partition(":")
    name = name.lstrip("/")
    if not user_net:
        child = lookup(name)
        if child is None:
            raise LinkError(f"could not get container for {name}: No such container: {name}")
        if child.network_mode == "host":
            raise LinkError(
                "conflicting options: host type networking can't be used with links. "
                "This would result in undefined behavior"
            )
        name = child.name
    return name, alias or name


def links(lookup: Lookup, version: Version, c: Container) -> tuple[list[tuple[str, str]], list[str]]:
    """The /etc/hosts lines and environment variables of a container's legacy links (default
    bridge), checked at start as the daemon's setupLinkedContainers does."""
    lines, env = [], []
    for name, alias in c.links:
        child = lookup(name)
        if child is None or child.status != "running":
            raise LinkError(f"Cannot link to a non running container: /{name} AS /{c.name}/{alias}")
        ep = next((e for e in child.endpoints if e.network == "bridge"), None)
        if ep is None:
            raise LinkError(f"Cannot link to /{child.name}, as it does not belong to the default network")
        lines.append((ep.ip, etcfiles.link_names(alias, child.hostname, child.name)))
        child_env = [f"PATH={DEFAULT_PATH}", *child.env]
        env += link_env(version, f"/{c.name}/{alias}", ep.ip, child.exposed, child_env)
    return lines, env


def link_env(
    version: Version, name: str, ip: str, ports: list[ExposedPort], child_env: list[str]
) -> list[str]:
    """moby's links.ToEnv for link `name` (/parent/alias): ALIAS_PORT, ALIAS_PORT_<port>_<PROTO>...
    (19.03 and 28 order them differently), ALIAS_NAME, then ALIAS_ENV_<var> of the child's Config.Env."""
    alias = name.rsplit("/", 1)[1].upper().replace("-", "_")
    env = (_ports_env_1903 if version == "19.03" else _ports_env_28)(alias, ip, ports)
    env.append(f"{alias}_NAME={name}")
    for item in child_env:
        key, eq, value = item.partition("=")
        if eq and key not in ("HOME", "PATH"):
            env.append(f"{alias}_ENV_{key}={value}")
    return env


def _port_vars(alias: str, ip: str, p: ExposedPort) -> list[str]:
    prefix = f"{alias}_PORT_{p.port}_{p.proto.upper()}"
    url = f"{p.proto}://{ip}:{p.port}"
    return [f"{prefix}={url}", f"{prefix}_ADDR={ip}", f"{prefix}_PORT={p.port}", f"{prefix}_PROTO={p.proto}"]


def _ports_env_1903(alias: str, ip: str, ports: list[ExposedPort]) -> list[str]:
    """19.03: the lowest port, the runs of three or more numbers (nextContiguous), then each port."""
    ordered = sorted(ports, key=lambda p: (p.port, p.proto != "tcp"))
    env = [f"{alias}_PORT={ordered[0].proto}://{ip}:{ordered[0].port}"] if ordered else []
    i = 0
    while i < len(ordered):
        j = _next_contiguous(ordered, i)
        if j <= i + 1:
            i += 1
            continue
        p, q = ordered[i], ordered[j]
        head, end = f"{alias}_PORT_{p.port}_{p.proto.upper()}", f"{alias}_PORT_{p.port}_{q.proto.upper()}"
        env += [
            f"{head}_START={p.proto}://{ip}:{p.port}",
            f"{head}_ADDR={ip}",
            f"{head}_PROTO={p.proto}",
            f"{head}_PORT_START={p.port}",
            f"{end}_END={q.proto}://{ip}:{q.port}",
            f"{end}_PORT_END={q.port}",
        ]
        i = j + 1
    for p in ordered:
        env += _port_vars(alias, ip, p)
    return env


def _ports_env_28(alias: str, ip: str, ports: list[ExposedPort]) -> list[str]:
    """28: tcp first; each port's variables, a run of consecutive ports (same protocol) closed by
    its _START/_END ones."""
    ordered = sorted(ports, key=lambda p: (p.proto != "tcp", p.proto, p.port))
    env = [f"{alias}_PORT={ordered[0].proto}://{ip}:{ordered[0].port}"] if ordered else []
    start = end = ordered[0] if ordered else None
    for i, p in enumerate(ordered):
        env += _port_vars(alias, ip, p)
        if p.port == end.port + 1 and p.proto == start.proto:
            end = p
            if i < len(ordered) - 1:
                continue
        if end != start:
            head = f"{alias}_PORT_{start.port}_{start.proto.upper()}"
            env += [
                f"{head}_START={start.proto}://{ip}:{start.port}",
                f"{head}_PORT_START={start.port}",
                f"{head}_END={end.proto}://{ip}:{end.port}",
                f"{head}_PORT_END={end.port}",
            ]
        start = end = p
    return env


def _next_contiguous(ports: list[ExposedPort], index: int) -> int:
    """moby 19.03's nextContiguous: where the run of port numbers from `index` ends."""
    value = ports[index].port
    for k in range(index + 1, len(ports)):
        if ports[k].port > value + 1:
            return k - 1
        value += 1
    return len(ports) - 1


def container_files(
    version: Version, lookup: Lookup, c: Container, nets: list[Network], host_gateway: str
) -> tuple[str, str, str]:
    """The container's /etc/hosts, /etc/resolv.conf and hostname for the bridge networks `nets` it
    joins (none: host, none or container: mode, or no network), one /etc/hosts line per endpoint;
    sets its links' environment (`c.link_env`)."""
    extra = etcfiles.extra_hosts(c.dns.extra_hosts, host_gateway)
    if c.network_mode == "host":
        resolv = etcfiles.resolv_conf(version, HOST_RESOLV_CONF, embedded=False, host_mode=True, dns=c.dns)
        # the host's file, unless there are extra hosts: then a file of their own (buildHostsFile)
        hosts = etcfiles.hosts(version, extra=extra, own=[], hostname=HOSTNAME) if extra else HOST_HOSTS
        return hosts, resolv, HOSTNAME
    c.link_env = []
    if any(net.is_default_bridge for net in nets):
        link_lines, c.link_env = links(lookup, version, c)
        extra += link_lines
    own = [ep.ip for ep in c.endpoints] if nets else []
    embedded = any(net.user_defined for net in nets)
    resolv = etcfiles.resolv_conf(version, HOST_RESOLV_CONF, embedded=embedded, dns=c.dns)
    hosts = etcfiles.hosts(version, extra=extra, own=own, hostname=c.hostname, domainname=c.dns.domainname)
    return hosts, resolv, c.hostname


def connected_script(version: Version, pid: int, c: Container, *, resolver: bool) -> str:
    """Shell text updating a running container's files after `docker network connect` (its last
    endpoint): libnetwork's addHostsEntries, and with its first embedded DNS (`resolver`)
    startResolver's resolv.conf for 127.0.0.11."""
    enter = f"nsenter -t {pid} -m -r sh -c"
    line = f"{c.endpoints[-1].ip}\t{etcfiles.own_names(c.hostname, c.dns.domainname)}\n"
    script = heredoc(f"{enter} 'cat >> /etc/hosts'", line)
    if resolver:
        resolv = etcfiles.resolv_conf(version, HOST_RESOLV_CONF, embedded=True, dns=c.dns)
        script += heredoc(f"{enter} 'cat > /etc/resolv.conf'", resolv)
    return script


def disconnected_script(version: Version, pid: int, c: Container, ep: Endpoint) -> str:
    """Shell text removing endpoint `ep`'s line from the container's /etc/hosts on `docker network
    disconnect`: 28's deleteHostsEntries (19.03 leaves the line)."""
    if version == "19.03":
        return ""
    line = f"{ep.ip}\t{etcfiles.own_names(c.hostname, c.dns.domainname)}"
    rewrite = """'h=$(grep -vxF -e "$1" /etc/hosts); printf "%s\\n" "$h" > /etc/hosts'"""
    return f"nsenter -t {pid} -m -r sh -c {rewrite} sh {shlex.quote(line)}\n"
