"""`docker network create`: docker/cli's IPAM checks and the bridge driver's reading of its options.

Pure, like `cli`: the request builder of `network create` with Docker's exact error texts per era.
"""

from __future__ import annotations

import ipaddress
import re

from topology.docker.clierrors import CliError, daemon_error
from topology.docker.flags import Command, Parsed
from topology.docker.gotext import GoError, go_bool, go_parse_ip, go_quote
from topology.docker.model import Version
from topology.docker.requests import NetworkCreateRequest, Request

PREDEFINED_NETWORKS = ("bridge", "host", "none", "default")

_BRIDGE_BOOL_OPTS = {
    "com.docker.network.bridge.enable_icc": "icc",
    "com.docker.network.bridge.enable_ip_masquerade": "masquerade",
}


def _cidr(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Go's net.ParseCIDR (host bits allowed); raises GoError("invalid CIDR address: …")."""
    addr, slash, bits = value.partition("/")
    if not slash or not go_parse_ip(addr) or not re.fullmatch(r"[0-9]+", bits):
        raise GoError(f"invalid CIDR address: {value}")
    try:
        return ipaddress.ip_network(f"{go_parse_ip(addr)}/{int(bits)}", strict=False)
    except ValueError:
        raise GoError(f"invalid CIDR address: {value}") from None


def _subnet_matches(subnet: str, data: str) -> bool:
    """docker/cli's subnetMatches."""
    try:
        net = _cidr(subnet)
    except GoError as e:
        raise GoError(f"invalid subnet: {e}") from None
    ip = str(_cidr(data).network_address) if "/" in data else go_parse_ip(data)
    return bool(ip) and ipaddress.ip_address(ip) in net


def _consolidate_ipam(subnets: list[str], ranges: list[str], gateways: list[str]) -> None:
    """docker/cli's consolidateIpam checks (network create); errors exit 1 without framing."""
    if len(subnets) < len(ranges) or len(subnets) < len(gateways):
        raise GoError("every ip-range or gateway must have a corresponding subnet")
    for i, s in enumerate(subnets):
        for other in subnets[:i]:
            if _subnet_matches(s, other) or _subnet_matches(other, s):
                raise GoError("multiple overlapping subnet configuration is not supported")
    for r in ranges:
        if not any(_subnet_matches(s, r) for s in subnets):
            raise GoError(f"no matching subnet for range {r}")
    seen: dict[str, str] = {}
    for g in gateways:
        matched = False
        for s in subnets:
            if not _subnet_matches(s, g):
                continue
            if s in seen:
                raise GoError(
                    f"cannot configure multiple gateways ({g}, {seen[s]}) for the same subnet ({s})"
                )
            seen[s], matched = g, True
        if not matched:
            raise GoError(f"no matching subnet for gateway {g}")


def build_network_create(cmd: Command, p: Parsed) -> Request:
    v, version, name = p.values, p.version, p.args[0]
    subnets, ranges, gateways = list(v["subnet"]), list(v["ip_range"]), list(v["gateway"])
    try:
        _consolidate_ipam(subnets, ranges, gateways)
    except GoError as e:
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
        except GoError as e:
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
        if req.ip_range:
            rng = _cidr(req.ip_range)
            if str(rng) != req.ip_range and version == "28":
                raise daemon_error(
                    "network create",
                    f"invalid network config:\ninvalid ip-range {req.ip_range}: it should be {rng}",
                    version,
                )
            req.ip_range = str(rng)
    _bridge_options(req, version)
    return req


def _bridge_options(req: NetworkCreateRequest, version: Version) -> None:
    """libnetwork's bridge driver reading of `-o` options (parseErr texts)."""

    def fail(label: str, value: str, err: str) -> CliError:
        return daemon_error("network create", f"failed to parse {label} value: {value} ({err})", version)

    for label, value in req.options.items():
        if label in _BRIDGE_BOOL_OPTS:
            try:
                setattr(req, _BRIDGE_BOOL_OPTS[label], go_bool(value))
            except GoError as e:
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
