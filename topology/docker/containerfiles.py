"""What a container is given at start besides its network: its /etc/hosts, resolv.conf and hostname,
and its legacy links (`--link`), as the daemon checks and writes them.

The texts come from `etcfiles`; this module picks them per network mode and resolves the links
against the engine's containers (`lookup`: a name or id to a Container, or None).
"""

from __future__ import annotations

from collections.abc import Callable

from topology.docker import etcfiles
from topology.docker.model import Container, Network, Version
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


def link_hosts(lookup: Lookup, c: Container) -> list[tuple[str, str]]:
    """The /etc/hosts lines of a container's legacy links (default bridge), checked at start."""
    lines = []
    for name, alias in c.links:
        child = lookup(name)
        if child is None or child.status != "running":
            raise LinkError(f"Cannot link to a non running container: /{name} AS /{c.name}/{alias}")
        ep = next((e for e in child.endpoints if e.network == "bridge"), None)
        if ep is None:
            raise LinkError(f"Cannot link to /{child.name}, as it does not belong to the default network")
        lines.append((ep.ip, etcfiles.link_names(alias, child.hostname, child.name)))
    return lines


def container_files(
    version: Version, lookup: Lookup, c: Container, net: Network | None
) -> tuple[str, str, str]:
    """The container's /etc/hosts, /etc/resolv.conf and hostname for its network `net` (None:
    host, none or container: mode)."""
    if c.network_mode == "host":
        resolv = etcfiles.resolv_conf(version, HOST_RESOLV_CONF, embedded=False, host_mode=True)
        return HOST_HOSTS, resolv, HOSTNAME
    own = (c.endpoints[0].ip, c.hostname) if net is not None and c.endpoints else None
    extra = link_hosts(lookup, c) if net is not None and net.is_default_bridge else []
    embedded = net is not None and net.user_defined
    resolv = etcfiles.resolv_conf(version, HOST_RESOLV_CONF, embedded=embedded)
    return etcfiles.hosts(extra=extra, own=own), resolv, c.hostname
