"""`docker inspect`: containers and networks in Docker's JSON shape, and `--format` over them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from topology.docker.images import image_id
from topology.docker.model import (
    DEFAULT_PATH,
    DEFAULT_VERSION,
    Container,
    Endpoint,
    Network,
    NetworkConfig,
    PortBinding,
    Version,
    configured_networks,
    dns_names,
    is_running,
    own_netns,
)

ZERO_TIME = "0001-01-01T00:00:00Z"


def _derived_id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _sorted_map(items: Iterable[tuple[str, object]]) -> dict:
    return dict(sorted(items))


def _host_port_text(b: PortBinding) -> str:
    """A binding's HostPort as the CLI sent it: "", "8080", or a range to pick in ("8000-8010")."""
    if not b.host_port:
        return ""
    return f"{b.host_port}-{b.host_port_end}" if b.host_port_end else str(b.host_port)


def _port_bindings(c: Container) -> dict:
    bindings: dict[str, list[dict]] = {}
    for b in c.published:
        bindings.setdefault(str(b.target), []).append({"HostIp": b.host_ip, "HostPort": _host_port_text(b)})
    return _sorted_map(bindings.items())


def _endpoint(
    c: Container,
    net: Network | None,
    version: Version,
    *,
    ep: Endpoint | None = None,
    live: bool = False,
    cfg: NetworkConfig | None = None,
) -> dict:
    """One NetworkSettings.Networks entry (EndpointSettings), in the Go struct's field order. An
    entry `docker network connect` made keeps what its CLI sent: IPAMConfig, Aliases and DriverOpts
    even empty ({}, [], {}); NetworkID is set once the container joined it."""
    connected = cfg is not None and cfg.connected
    user_net = net is not None and net.name not in ("bridge", "host", "none")
    aliases = list(ep.aliases) if ep is not None else list(cfg.aliases) if connected else []
    if version == "19.03" and user_net:
        # The daemon appends the short id to a user network's aliases (updateNetworkConfig).
        aliases_value = list(dict.fromkeys([*aliases, c.short_id]))
    else:
        aliases_value = aliases if connected else aliases or None
    ip = cfg.ip if cfg is not None else c.requested_ip
    if connected:
        ipam = {"IPv4Address": ip} if ip else {}
    else:
        ipam = {"IPv4Address": ip} if ip and user_net else None
    # --link on a user network is the first network's endpoint option (docker/cli sends it there)
    first_user_net = user_net and net.name == c.network_mode
    links = [n if a == n else f"{n}:{a}" for n, a in c.links] if first_user_net and c.links else None
    network_id = (net.id if live or cfg.network_id else "") if connected else net.id if net else ""
    driver_opts = {} if connected else None
    operational = {
        "NetworkID": network_id,
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
            "Links": links,
            "Aliases": aliases_value,
            **operational,
            "MacAddress": mac,
            "DriverOpts": driver_opts,
        }
    names = dns_names(version, c, aliases) if user_net else None
    return {
        "IPAMConfig": ipam,
        "Links": links,
        "Aliases": aliases_value,
        "MacAddress": mac,
        "DriverOpts": driver_opts,
        "GwPriority": 0,
        **operational,
        "DNSNames": names,
    }


def _network_settings(c: Container, nets: Mapping[str, Network], version: Version) -> dict:
    running = is_running(c)
    container_mode = c.network_mode.startswith("container:")
    networks: dict[str, dict] = {}
    configs = {cfg.name: cfg for cfg in configured_networks(c)}
    if running and c.endpoints:
        for ep in c.endpoints:
            cfg = configs.get(ep.network)
            networks[ep.network] = _endpoint(c, nets.get(ep.network), version, ep=ep, live=True, cfg=cfg)
    else:
        for name, cfg in configs.items():
            networks[name] = _endpoint(c, nets.get(name), version, live=running, cfg=cfg)
    ports: dict[str, list | None] = {}
    if running and own_netns(c):
        ports.update(dict.fromkeys(c.exposed))
        for b in c.ports:
            key = str(b.target)
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


def _config_env(c: Container) -> list[str]:
    """Config.Env: the image's PATH with the `-e` values replacing or appended (ReplaceOrAppendEnvValues)."""
    env = {"PATH": DEFAULT_PATH}
    for item in c.env:
        key, eq, value = item.partition("=")
        if eq:
            env[key] = value
    return [f"{k}={v}" for k, v in env.items()]


def _legacy_links(c: Container) -> list[str] | None:
    """HostConfig.Links: the daemon's link graph (`/child:/parent/alias`), default bridge only."""
    legacy = c.network_mode in ("default", "bridge")
    return [f"/{name}:/{c.name}/{alias}" for name, alias in c.links] if legacy and c.links else None


def inspect_container(
    container: Container, networks: Iterable[Network], *, version: Version = DEFAULT_VERSION
) -> dict:
    """`docker container inspect` of one container, in Docker's JSON shape (a subset of its fields)."""
    c = container
    running = is_running(c)
    base = f"/var/lib/docker/containers/{c.id}"
    config: dict[str, object] = {"Hostname": c.hostname, "Domainname": c.dns.domainname, "User": ""}
    if c.exposed:
        config["ExposedPorts"] = {p: {} for p in sorted(c.exposed)}
    config.update(
        {
            "Tty": c.tty,
            "OpenStdin": c.interactive,
            "StdinOnce": False,
            "Env": _config_env(c),
            "Cmd": list(c.cmd),
            "Image": c.image,
            "Volumes": None,
            "WorkingDir": c.workdir,
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
            "Error": c.error,
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
            "PortBindings": _port_bindings(c),
            "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
            "AutoRemove": c.auto_remove,
            "CapAdd": c.privileges.cap_add or None,
            "CapDrop": c.privileges.cap_drop or None,
            "Dns": list(c.dns.servers),
            "DnsOptions": list(c.dns.options),
            "DnsSearch": list(c.dns.search),
            "ExtraHosts": list(c.dns.extra_hosts) or None,
            "Links": _legacy_links(c),
            "Privileged": c.privileges.privileged,
            "PublishAllPorts": c.publish_all,
            "SecurityOpt": _security_opt(c),
        },
        "Mounts": [],
        "Config": config,
        "NetworkSettings": _network_settings(c, {n.name: n for n in networks}, version),
    }


def _security_opt(c: Container) -> list[str] | None:
    """HostConfig.SecurityOpt: as given, then "label=disable" for a privileged container without a
    label option (the daemon's generateSecurityOpt)."""
    given = c.privileges.security_opt
    labelled = any(opt.split("=")[0] == "label" for opt in given)
    return given + (["label=disable"] if c.privileges.privileged and not labelled else []) or None


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
        ipam_config.append(
            {
                "Subnet": n.subnet,
                **({"IPRange": n.ip_range} if n.ip_range else {}),
                **({"Gateway": n.gateway} if n.gateway else {}),
            }
        )
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
