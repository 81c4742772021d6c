"""`-p/--publish` and `--expose` values, parsed like go-connections' nat package for each era."""

from __future__ import annotations

from topology.docker.gotext import GoError, go_parse_ip, go_split_host, parse_uint16
from topology.docker.model import PROTOCOLS, ExposedPort, PortBinding, Version


def port_range(ports: str, version: Version) -> tuple[int, int]:
    """go-connections' ParsePortRange."""
    if not ports:
        raise GoError(
            "Empty string specified for ports." if version == "19.03" else "empty string specified for ports"
        )
    if "-" not in ports:
        port = parse_uint16(ports)
        return port, port
    parts = ports.split("-")
    start, end = parse_uint16(parts[0]), parse_uint16(parts[1])
    if end < start:
        raise GoError(
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
            raise GoError(f"invalid publish opts format (should be name=value but got '{param}')")
        params[key] = value
    return f"{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def split_proto_port(value: str, version: Version) -> tuple[str, str]:
    """go-connections' SplitProtoPort: ("tcp", "80") for "80"; ("", "") when no port is given."""
    if version == "19.03":
        parts = value.split("/")
        if not value or not parts[0]:
            return "", ""
        return ("tcp" if len(parts) == 1 or not parts[1] else parts[1]), parts[0]
    port, _, proto = value.partition("/")
    return ("", "") if not port else (proto or "tcp", port)


def parse_publish(raw: str, version: Version) -> list[PortBinding]:
    """One `-p` value, like go-connections' ParsePortSpec: a binding per container port (a single
    container port with a host range: one binding whose host port is picked in that range);
    raises GoError with its text."""
    old = version == "19.03"
    spec = _long_publish(raw) if "=" in raw else raw
    ip, host_port, ctr = _split_parts(spec)
    proto, ctr = split_proto_port(ctr, version)
    if not old:
        if not ctr:
            raise GoError(f"no port specified: {spec}<empty>")
        if proto.lower() not in PROTOCOLS:
            raise GoError(f"invalid proto: {proto.lower()}")
    if old or ip.startswith("["):
        try:
            ip = go_split_host(ip + ":")
        except GoError as e:
            raise GoError(f"{'Invalid ip address' if old else 'invalid IP address'} {ip}: {e}") from None
    if ip and not go_parse_ip(ip):
        raise GoError(f"Invalid ip address: {ip}" if old else f"invalid IP address: {ip}")
    if not ctr:
        raise GoError(f"No port specified: {spec}<empty>")
    start, end = _checked_range(ctr, "Invalid containerPort: " if old else "invalid containerPort: ", version)
    host = (0, 0)
    if host_port:
        host = _checked_range(host_port, "Invalid hostPort: " if old else "invalid hostPort: ", version)
        if end - start != host[1] - host[0] and end != start:
            what = "ranges specified for container and host Ports"
            raise GoError(f"{'Invalid' if old else 'invalid'} {what}: {ctr} and {host_port}")
    if proto.lower() not in PROTOCOLS:
        raise GoError(f"Invalid proto: {proto}")
    if start == 0:
        raise GoError(f"container port 0 is not valid: {raw}")
    host_ip = go_parse_ip(ip) if ip else ""
    if start == end:  # one container port; a host range is where its dynamic host port comes from
        end_host = host[1] if host[1] != host[0] else 0
        return [PortBinding(start, proto.lower(), host_ip, host[0], end_host)]
    # a container range: one binding per port, host ports side by side (or each dynamic)
    return [
        PortBinding(port, proto.lower(), host_ip, host[0] + i if host_port else 0)
        for i, port in enumerate(range(start, end + 1))
    ]


def _checked_range(ports: str, prefix: str, version: Version) -> tuple[int, int]:
    try:
        return port_range(ports, version)
    except GoError:
        raise GoError(prefix + ports) from None


def parse_expose(value: str, version: Version) -> list[ExposedPort]:
    """docker/cli's --expose handling: `80`, `80/udp`, `8000-8010/tcp`."""
    if ":" in value:
        raise GoError(f"invalid port format for --expose: {value}")
    proto, port = split_proto_port(value, version)
    try:
        start, end = port_range(port, version)
    except GoError as e:
        raise GoError(f"invalid range format for --expose: {value}, error: {e}") from None
    return [ExposedPort(p, proto) for p in range(start, end + 1)]
