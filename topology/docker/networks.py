"""A Docker host's user-defined bridge networks made and removed (`docker network create`/`rm`): the
pool, the bridge and its rules; attaching containers to them is the engine's (`Engine.connect`)."""

from __future__ import annotations

import ipaddress
import secrets

from topology.docker import ipam as ipam_mod
from topology.docker import rules
from topology.docker.engine import Engine, EngineError, now
from topology.docker.model import Network
from topology.docker.runtime import bridge_up_script, host_script, iptables_save, restore


def create_network(
    engine: Engine,
    *,
    name: str,
    subnet: str = "",
    gateway: str = "",
    internal: bool = False,
    options: dict[str, str] | None = None,
    driver: str = "bridge",
    masquerade: bool = True,
    ip_range: str = "",
) -> Network:
    options = dict(options or {})
    if driver != "bridge":
        raise EngineError(f'plugin "{driver}" not found')
    if any(n.name == name for n in engine.networks.values()):
        raise EngineError(f"network with name {name} already exists")
    nid = secrets.token_hex(32)
    icc = options.get("com.docker.network.bridge.enable_icc", "true").lower() not in ("false", "0")
    bridge = options.get("com.docker.network.bridge.name") or f"br-{nid[:12]}"
    if len(bridge) > 15:
        raise EngineError(f"failed to create network {name}: Error: interface name {bridge} too long")
    if any(n.bridge == bridge for n in engine.networks.values()):
        raise EngineError(f"bridge name {bridge} already in use")
    try:
        if user_subnet := bool(subnet):
            pool = engine.ipam.request_subnet(subnet, gateway=gateway or None, ip_range=ip_range)
        else:
            pool = engine.ipam.allocate_pool(host_routes=_host_routes(engine), gateway=gateway or None)
        subnet, gateway = pool.subnet, pool.gateway
    except ipam_mod.IpamError as exc:
        raise EngineError(f"{exc}") from None
    net = Network(
        id=nid,
        name=name,
        driver="bridge",
        created=now(),
        subnet=subnet,
        gateway=gateway,
        bridge=bridge,
        internal=internal,
        icc=icc,
        masquerade=masquerade,
        ip_range=ip_range,
        options=options,
        user_subnet=user_subnet,
    )
    try:
        program = rules.network_create(
            engine.version,
            rules.Ruleset.parse(iptables_save(engine.sb)),
            bridge=bridge,
            subnet=subnet,
            internal=internal,
            icc=icc,
            masquerade=masquerade,
        )
        before, up = bridge_up_script(
            bridge=bridge,
            mac=ipam_mod.bridge_mac(engine.version),
            gateway=gateway,
            prefixlen=ipaddress.ip_network(subnet).prefixlen,
            last_ifindex=engine.ifindex,
        )
        engine.note_ifindex(host_script(engine.sb, before + restore(program.render()) + up))
    except BaseException:
        engine.ipam.release_pool(subnet)
        raise
    engine.networks[nid] = net
    engine.emit("network", name, "create")
    engine.network_event(net, "create")
    return net


def _host_routes(engine: Engine) -> list[tuple[str, str]]:
    """The Docker host's routes with a destination, as (destination, scope) pairs."""
    out = host_script(engine.sb, "ip -4 route show table main")
    routes = []
    for line in out.splitlines():
        words = line.split()
        if words and words[0][0].isdigit():
            scope = words[words.index("scope") + 1] if "scope" in words else "global"
            routes.append((words[0], scope))
    return routes


def remove_network(engine: Engine, net: Network) -> None:
    if net.name in ("bridge", "host", "none"):
        raise EngineError(f"{net.name} is a pre-defined network and cannot be removed")
    if any(ep.network == net.name for c in engine.containers.values() for ep in c.endpoints):
        raise EngineError(
            f"error while removing network: network {net.name} id {net.id} has active endpoints"
        )
    program = rules.network_remove(
        engine.version,
        rules.Ruleset.parse(iptables_save(engine.sb)),
        bridge=net.bridge,
        subnet=net.subnet,
        internal=net.internal,
        icc=net.icc,
    )
    host_script(engine.sb, restore(program.render()) + f"ip link del {net.bridge} 2>/dev/null || true\n")
    engine.ipam.release_pool(net.subnet)
    del engine.networks[net.id]
    engine.emit("network", net.name, "destroy")
    engine.network_event(net, "destroy")
