"""What a wrong typed answer names in the live lab: diagnoses that say what the student gave instead
("172.17.0.2:8080 pairs the container's address with the host's port", "that is the bridge's address").

`describe_answer(given, how, arg, snap)` reads the answer's shape (an address with or without a port, a
MAC address, a number, an interface name) and finds it in the snapshot; it returns `diagnosis` dicts
(possibly none: a free-text answer the lab cannot place). `how` and `arg` are the question's `expect`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from topology.checks.lookup import as_ip
from topology.checks.messages import diagnosis

_MAC = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$", re.IGNORECASE)
_ADDRESS_PORT = re.compile(r"^\[?([0-9a-fA-F.:]+?)\]?:(\d{1,5})$")


def _subject(how: str, arg: Any) -> str | None:
    """The container the question asks about, if any."""
    if how == "host_port" and isinstance(arg, Mapping):
        return str(arg.get("container"))
    if how in ("container_ip", "container_pid", "veth_of"):
        return str(arg)
    return None


def _containers(snap: Mapping) -> list[Mapping]:
    return list((snap.get("docker") or {}).get("containers") or ())


def _ns_kind(snap: Mapping, ns: str) -> str:
    return next((n.get("kind", "") for n in snap.get("namespaces") or () if n.get("name") == ns), "")


def _container_in(snap: Mapping, ns: str) -> str:
    """The name of the container whose network namespace is `ns` (the namespace's name otherwise)."""
    for c in _containers(snap):
        if (c.get("namespace") or c.get("name")) == ns:
            return str(c.get("name"))
    return ns


def _link(snap: Mapping, ns: str, name: str) -> Mapping:
    return next((x for x in (snap.get("links") or {}).get(ns) or () if x.get("name") == name), {})


def _address(snap: Mapping, text: str, subject: str | None) -> list[dict]:
    """Whose address `text` is: the host's, a bridge's, a container's (another one), the outside's."""
    ip = as_ip(text)
    if ip is None:
        return []
    address = str(ip)
    if ip.is_loopback:
        return [diagnosis("answer.address_loopback", address=address)]
    for ns, addrs in (snap.get("addresses") or {}).items():
        for a in addrs:
            if as_ip(a.get("address", "")) != ip:
                continue
            link, kind = a.get("ifname", ""), _ns_kind(snap, ns)
            if kind == "container":
                container = _container_in(snap, ns)
                if subject and container != subject:
                    return [
                        diagnosis(
                            "answer.address_other_container",
                            address=address,
                            container=container,
                            expected=subject,
                        )
                    ]
                return [
                    diagnosis("answer.address_container", address=address, container=container, link=link)
                ]
            if kind == "host":
                if _link(snap, ns, link).get("kind") == "bridge":
                    return [diagnosis("answer.address_bridge", address=address, link=link)]
                return [diagnosis("answer.address_host", address=address, link=link)]
            return [diagnosis("answer.address_outside", address=address, ns=ns, link=link)]
    return [diagnosis("answer.address_unknown", address=address)]


def _bindings(snap: Mapping) -> list[tuple[str, int, int]]:
    """(container, host port, container port) of every published port."""
    return [
        (str(c.get("name")), int(p.get("host_port") or 0), int(p.get("container_port") or 0))
        for c in _containers(snap)
        for p in c.get("ports") or ()
    ]


def _port(snap: Mapping, port: int, subject: str | None) -> list[dict]:
    """Which side of a published port `port` is: the host's, or the container's own."""
    bindings = _bindings(snap)
    for container, host_port, container_port in bindings:
        if host_port == port and (subject is None or container == subject):
            return [
                diagnosis("answer.port_host", port=port, container=container, container_port=container_port)
            ]
    for container, host_port, container_port in bindings:
        if container_port == port and (subject is None or container == subject):
            return [diagnosis("answer.port_container", port=port, container=container, host_port=host_port)]
    for container, host_port, _container_port in bindings:
        if host_port == port:
            return [
                diagnosis("answer.port_other_container", port=port, container=container, expected=subject)
            ]
    return [diagnosis("answer.port_unknown", port=port)]


def _address_port(snap: Mapping, text: str, address: str, port: int, subject: str | None) -> list[dict]:
    """An address with a port: the mix of a container's address with the host's port is named as such."""
    about = _address(snap, address, None)
    code = about[0]["code"] if about else ""
    owner = str(about[0]["params"].get("container", "")) if about else ""
    for container, host_port, container_port in _bindings(snap):
        if code == "answer.address_container" and container == owner and host_port == port != container_port:
            return [
                diagnosis(
                    "answer.container_address_host_port",
                    answer=text,
                    container=container,
                    port=port,
                    container_port=container_port,
                )
            ]
        if code in ("answer.address_host", "answer.address_bridge") and container_port == port != host_port:
            return [
                diagnosis(
                    "answer.host_address_container_port",
                    answer=text,
                    container=container,
                    port=port,
                    host_port=host_port,
                )
            ]
    return _address(snap, address, subject) + _port(snap, port, subject)


def _mac(snap: Mapping, mac: str) -> list[dict]:
    wanted = mac.lower().replace("-", ":")
    for ns, links in (snap.get("links") or {}).items():
        for link in links:
            if str(link.get("mac", "")).lower() == wanted:
                return [diagnosis("answer.mac_of", mac=wanted, link=link.get("name"), ns=ns)]
    return [diagnosis("answer.mac_unknown", mac=wanted)]


def _pid(snap: Mapping, pid: int, subject: str | None) -> list[dict]:
    for c in _containers(snap):
        if int(c.get("pid") or 0) == pid and c.get("name") != subject:
            return [
                diagnosis("answer.pid_other_container", pid=pid, container=c.get("name"), expected=subject)
            ]
    if pid == 1:
        return [diagnosis("answer.pid_one", expected=subject)]
    process = next((p for p in (snap.get("processes") or {}).get("host") or () if p.get("pid") == pid), None)
    if process is not None:
        return [diagnosis("answer.pid_process", pid=pid, command=str(process.get("command", ""))[:60])]
    return [diagnosis("answer.pid_unknown", pid=pid)]


def _namespace_of(snap: Mapping, container: str | None) -> str | None:
    c = next((c for c in _containers(snap) if c.get("name") == container), None)
    return (c.get("namespace") or c.get("name")) if c else None


def _interface(snap: Mapping, name: str, subject: str | None) -> list[dict]:
    # The asked container's own namespace first: "eth0" names its interface more likely than the host's.
    first = _namespace_of(snap, subject)
    for ns, links in sorted((snap.get("links") or {}).items(), key=lambda item: item[0] != first):
        link = next((x for x in links if x.get("name") == name), None)
        if link is None:
            continue
        if _ns_kind(snap, ns) == "container":
            container = _container_in(snap, ns)
            if subject is None or container == subject:
                return [diagnosis("answer.link_inside", link=name, container=container)]
            return [
                diagnosis("answer.link_other_container", link=name, container=container, expected=subject)
            ]
        peer = link.get("peer_namespace")
        if peer and _ns_kind(snap, peer) == "container":
            container = _container_in(snap, peer)
            if subject is None or container == subject:
                return [diagnosis("answer.veth_host_end", link=name, container=container)]
            return [diagnosis("answer.veth_of_other", link=name, container=container, expected=subject)]
        return [diagnosis("answer.link_of", link=name, ns=ns, kind=link.get("kind", ""))]
    return []


def describe_answer(given: str, how: str, arg: Any, snap: Mapping) -> list[dict]:
    """Diagnoses that say what a wrong answer names in the lab (none when it cannot be placed)."""
    text, subject = given.strip(), _subject(how, arg)
    mixed = _ADDRESS_PORT.match(text)
    if mixed and as_ip(mixed.group(1)) is not None:
        return _address_port(snap, text, mixed.group(1), int(mixed.group(2)), subject)
    if as_ip(text) is not None:
        return _address(snap, text, subject)
    if _MAC.match(text):
        return _mac(snap, text)
    if text.isdigit() and how == "host_port":
        return _port(snap, int(text), subject)
    if text.isdigit() and how == "container_pid":
        return _pid(snap, int(text), subject)
    if re.fullmatch(r"[\w.-]{1,15}(@\S+)?", text):
        return _interface(snap, text.split("@")[0], subject)
    return []
