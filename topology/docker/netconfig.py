"""A container's networks as its config keeps them (NetworkSettings.Networks): `docker network
connect` and `disconnect` on a running or stopped container, and what `docker start` joins, in which
order, with which endpoint as the sandbox's gateway.

As moby's daemon/container_operations.go (19.03.15 and 28.5.1) does it: ConnectToNetwork on a
container that is not running only records the endpoint settings (updateNetworkConfig: the checks of
validateNetworkingConfig/validateEndpointSettings, then updateNetworkSettings' conflicts; the same
network again is no change; a network not found is recorded under the name given) and logs no event.
DisconnectFromNetwork on it deletes the entry, 19.03 logging a disconnect event. allocateNetwork
joins the entries at start (connectToNetwork: a network gone fails the start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from topology.docker import ipam as ipam_mod
from topology.docker.errors import EngineError
from topology.docker.model import Container, Endpoint, Network, NetworkConfig, configured_networks, is_running

if TYPE_CHECKING:
    from topology.docker.engine import Engine

# runconfig/errors.go
SHARED = (
    "container sharing network namespace with another container or host "
    "cannot be connected to any other network"
)
NO_NETWORK = (
    "container cannot be connected to multiple networks with one of the networks in private (none) mode"
)
HOST_1903 = "container cannot be disconnected from host network or connected to host network"  # both ways
CONNECT_HOST_28 = "cannot connect container to host network - container must be created in host network mode"
DISCONNECT_HOST_28 = (
    "cannot disconnect container from host network - container was created in host network mode"
)


def materialize(c: Container) -> list[NetworkConfig]:
    """The container's NetworkSettings.Networks as a list of its own, to change."""
    if c.networks is None:
        own = configured_networks(c)
        c.networks = [NetworkConfig(cfg.name, cfg.ip, list(cfg.aliases), cfg.network_id) for cfg in own]
    return c.networks


def _ref(cfg: NetworkConfig) -> str:
    """How getNetworkID names an entry's network: a user network by the id it was joined with (a
    network made again under its name is another one), else by name."""
    return cfg.network_id if cfg.network_id and cfg.name not in ("bridge", "host", "none") else cfg.name


def _find(engine: Engine, cfg: NetworkConfig) -> Network | None:
    try:
        return engine.find_network(_ref(cfg))
    except EngineError:
        return None


def _check(engine: Engine, c: Container, net: Network, ip: str, aliases: list[str]) -> bool:
    """updateNetworkConfig's checks of connecting `c` to `net`; True when `c` already has it (no change)."""
    if err := ipam_mod.static_address_error(engine.version, ip, net.name, net, aliases=bool(aliases)):
        raise EngineError(err)
    if c.network_mode != "host" and net.driver == "host":
        raise EngineError(HOST_1903 if engine.version == "19.03" else CONNECT_HOST_28)
    for cfg in configured_networks(c):
        other = _find(engine, cfg)
        if other is None:
            continue
        if other.name == net.name:
            return True
        if "host" in (other.driver, net.driver):
            raise EngineError(SHARED)
        if "none" in (other.name, net.name):
            raise EngineError(NO_NETWORK)
    return False


def connect(
    engine: Engine, c: Container, ref: str, *, ip: str = "", aliases: list[str] | None = None
) -> None:
    """docker network connect: a running container joins at once, another only records it."""
    aliases = list(aliases or [])
    if not is_running(c):
        try:
            net = engine.find_network(ref)
        except EngineError:
            _record(c, NetworkConfig(ref, ip, aliases, connected=True))
            return
        if not _check(engine, c, net, ip, aliases):
            _record(c, NetworkConfig(net.name, ip, aliases, connected=True))
        return
    if c.network_mode.startswith("container:"):
        raise EngineError(SHARED)
    net = engine.find_network(ref)
    if _check(engine, c, net, ip, aliases) or any(ep.network == net.name for ep in c.endpoints):
        raise EngineError(f"endpoint with name {c.name} already exists in network {net.name}")
    engine.join_running(c, net, ip=ip, aliases=aliases)
    _record(c, NetworkConfig(net.name, ip, aliases, net.id, connected=True))


def _record(c: Container, cfg: NetworkConfig) -> None:
    """Set the entry of its name (Networks[name] = ...)."""
    configs = materialize(c)
    old = next((i for i, other in enumerate(configs) if other.name == cfg.name), None)
    if old is None:
        configs.append(cfg)
    else:
        configs[old] = cfg


def disconnect(engine: Engine, c: Container, ref: str, *, force: bool = False) -> None:
    """docker network disconnect: a running container leaves at once; for another one (or with
    --force, a network not found) only its entry goes."""
    try:
        net, missing = engine.find_network(ref), None
    except EngineError as exc:
        net, missing = None, exc
    if not is_running(c) or (missing and force):
        name = net.name if net is not None else ref
        configs = materialize(c)
        cfg = next((cfg for cfg in configs if cfg.name == name), None)
        if cfg is None:
            raise EngineError(f"container {c.id} is not connected to the network {name}")
        configs.remove(cfg)
        if net is not None and engine.version == "19.03":
            engine.network_event(net, "disconnect", c)
        return
    if missing:
        raise missing
    if c.network_mode == "host" and net.driver == "host":
        raise EngineError(HOST_1903 if engine.version == "19.03" else DISCONNECT_HOST_28)
    ep = next((e for e in c.endpoints if e.network == net.name), None)
    if ep is None:
        raise EngineError(f"container {c.id} is not connected to network {net.name}")
    engine.leave_running(c, net, ep)
    materialize(c)[:] = [cfg for cfg in c.networks if cfg.name != net.name]


def join_order(version: str, c: Container) -> list[NetworkConfig]:
    """The entries `docker start` joins, in order (eth0, eth1...). allocateNetwork ranges over a Go
    map: 19.03 joins the default bridge first, then the others; 28 all of them in the map's order.
    Go starts a small map's iteration at a random slot: Docker's order is mostly, not always, the
    order the entries were added; nslab takes that order. With no entry, 19.03 adds its network
    mode's network again (updateContainerNetworkSettings on an empty map); 28 joins none."""
    configs = materialize(c)
    if c.network_mode.startswith("container:"):
        return []
    if not configs and version == "19.03":
        configs.append(NetworkConfig("bridge" if c.network_mode == "default" else c.network_mode))
    if version == "19.03":
        return sorted(configs, key=lambda cfg: cfg.name != "bridge")
    return list(configs)


def plan_joins(engine: Engine, c: Container) -> list[tuple[Network, Endpoint | None]]:
    """The networks a start joins with their endpoints planned (addresses taken; none on a host or
    null network); a network gone or refused fails the start, as connectToNetwork."""
    if c.network_mode.startswith("container:") and engine.version != "19.03" and materialize(c):
        raise engine.network_failure(SHARED)  # 28 joins them; 19.03's allocateNetwork skips the mode
    mode_net = "bridge" if c.network_mode == "default" else c.network_mode
    joins = []
    try:
        for cfg in join_order(engine.version, c):
            net = _find(engine, cfg)
            if net is None:
                raise engine.network_failure(f"network {_ref(cfg)} not found")
            if err := ipam_mod.static_address_error(engine.version, cfg.ip, net.name, net):
                raise EngineError(err) if engine.version == "19.03" else engine.network_failure(err)
            cfg.network_id = net.id
            if net.driver in ("host", "null"):
                joins.append((net, None))
                continue
            mac = c.requested_mac if cfg.name == mode_net and not cfg.connected else ""
            try:
                ep = engine.plan_endpoint(c, net, ip=cfg.ip, aliases=cfg.aliases, mac=mac)
            except EngineError as exc:
                raise engine.network_failure(exc.message) from None
            joins.append((net, ep))
    except EngineError:
        engine.release_addresses(c)
        raise
    return joins


def gateway_network(version: str, nets: list[Network]) -> Network | None:
    """The network of the sandbox's gateway endpoint (default route, published ports): libnetwork's
    endpoint order (Endpoint.Less: non-internal first, then by network name) and the first one with a
    gateway (getGatewayEndpoint; since 25.0 an internal network gives none)."""
    candidates = [n for n in nets if version == "19.03" or not n.internal]
    return min(candidates, key=lambda n: (n.internal, n.name), default=None)


def gateway_history(version: str, nets: list[Network]) -> list[Network]:
    """The gateway networks a start goes through as it joins `nets` in order (sbJoin elects the
    gateway endpoint again at each join, revoking the old one's published ports): the last one is
    the gateway_network of them all."""
    history: list[Network] = []
    for k in range(len(nets)):
        gateway = gateway_network(version, nets[: k + 1])
        if gateway is not None and (not history or history[-1] is not gateway):
            history.append(gateway)
    return history
