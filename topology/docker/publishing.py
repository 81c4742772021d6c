"""A Docker host's published ports (`-p`, `-P`): host ports, their DNAT rules and docker-proxies."""

from __future__ import annotations

import secrets
import subprocess

from topology.docker import ports as ports_mod
from topology.docker import rules
from topology.docker.model import Container, Endpoint, Network, PortBinding
from topology.docker.runtime import host_script, restore, start_proxy, stop_process_tree, wait_proxy
from topology.sandbox import Sandbox


class PublishError(Exception):
    """Publishing a port failed; str() is the daemon's message."""


class Publisher:
    """The published ports of one engine's containers: allocator, rules and proxies."""

    def __init__(self, version: str):
        self.version = version
        self.sb: Sandbox | None = None
        self.ports: ports_mod.PortAllocator | None = None  # made at the first publish, from the host's range
        self.proxies: dict[str, list[subprocess.Popen]] = {}

    def publish(self, c: Container, net: Network, ep: Endpoint, rs: rules.Ruleset) -> tuple[str, list]:
        """Allocate host ports, return the rules to apply and the docker-proxies started for them."""
        c.ports = self._bind(c)
        text = ""
        for binding in c.ports:
            if ":" in binding.host_ip:  # an IPv4-only container's IPv6 binding: docker-proxy's alone
                continue
            program = rules.port_publish(
                self.version, rs, bridge=net.bridge, container_ip=ep.ip, binding=binding
            )
            rs = program.ruleset
            text += restore(program.render())
        # The proxies start while the kernel is being programmed; their status is read afterwards.
        proxies = [(*start_proxy(self.sb, b, container_ip=ep.ip), b) for b in c.ports]
        return text, proxies

    def churn(self, c: Container) -> None:
        """The ports a start programs on an endpoint that its next join makes no longer the gateway
        one (libnetwork's sbJoin revokes them): taken and given back, so that the allocator's next
        dynamic port has moved on, as dockerd's."""
        for b in self._bind(c):
            self.ports.release(b.host_ip, b.proto, b.host_port)

    def _bind(self, c: Container) -> list[PortBinding]:
        """Host ports for the bindings `c` asks for (-p, and -P's exposed ports), in Docker's order;
        PublishError (with none of them kept) when one cannot be had."""
        wanted = list(c.published)
        if c.publish_all:
            explicit = {b.target for b in wanted}
            wanted += [PortBinding(e.port, e.proto) for e in c.exposed if e not in explicit]
        if wanted and self.ports is None:
            port_range = host_script(self.sb, "cat /proc/sys/net/ipv4/ip_local_port_range")
            self.ports = ports_mod.PortAllocator(self.version, port_range)
        bound: list[PortBinding] = []
        try:
            for b in ports_mod.sort_bindings(self.version, wanted):
                ips = self.addresses(b)
                host_port = self.ports.request(
                    ips if self.version != "19.03" else ips[0], b.proto, b.host_port, b.host_port_end or None
                )
                bound += [PortBinding(b.container_port, b.proto, ip, host_port) for ip in ips]
        except ports_mod.PortError as exc:
            for b in bound:
                self.ports.release(b.host_ip, b.proto, b.host_port)
            raise PublishError(
                f"driver failed programming external connectivity on endpoint {c.name} "
                f"({secrets.token_hex(32)}): {exc}"
            ) from None
        return bound

    def keep(self, c: Container, proxies: list) -> None:
        """Own the proxies `publish` started for `c` (a later endpoint publishes none: keep these)."""
        self.proxies.setdefault(c.id, []).extend(proxy for proxy, _fd, _b in proxies)

    def failure(self, c: Container, ep: Endpoint, proxies: list) -> str:
        """Wait for the proxies `publish` started: "" when all listen, else the daemon's error."""
        failure = ""
        for proxy, fd, b in proxies:
            err = wait_proxy(proxy, fd)
            failure = failure or (err and self._bind_failure(c, b, ep, b.host_ip, err))
        return failure

    def addresses(self, b: PortBinding) -> list[str]:
        """The host addresses a requested binding is bound on: 28 binds one without an address on
        0.0.0.0 and :: (one binding each, as inspect shows them; moby's addPortMappings), 19.03 on
        0.0.0.0."""
        if self.version != "19.03" and not b.host_ip:
            return ["0.0.0.0", "::"]
        return [b.host_ip or "0.0.0.0"]

    def _bind_failure(self, c: Container, b: PortBinding, ep: Endpoint, host_ip: str, err: str) -> str:
        if self.version == "19.03":
            return (
                "driver failed programming external connectivity on endpoint "
                f"{c.name} ({secrets.token_hex(32)})"
                f": Error starting userland proxy: listen {b.proto} {host_ip}:{b.host_port}: bind: {err}"
            )
        return (
            f"driver failed programming external connectivity on endpoint {c.name} "
            f"({secrets.token_hex(32)}): failed to bind host port for "
            f"{host_ip}:{b.host_port}:{ep.ip}:{b.container_port}/{b.proto}: {err}"
        )

    def stop_proxies(self, c: Container) -> None:
        """Stop the container's docker-proxy processes (nsenter's child is the proxy itself)."""
        for proc in self.proxies.pop(c.id, []):
            stop_process_tree(proc)

    def unpublish_script(
        self, rs: rules.Ruleset, c: Container, net: Network, ep: Endpoint
    ) -> tuple[rules.Ruleset, str]:
        """The ruleset after removing `c`'s published ports on endpoint `ep`, and the restore script."""
        script = ""
        for b in c.ports:
            if ":" in b.host_ip:  # no rules: docker-proxy's alone
                continue
            program = rules.port_unpublish(self.version, rs, bridge=net.bridge, container_ip=ep.ip, binding=b)
            rs = program.ruleset
            script += restore(program.render())
        return rs, script

    def release(self, c: Container) -> None:
        """Give the container's host ports back to the allocator."""
        for b in c.ports:
            if self.ports is not None:
                self.ports.release(b.host_ip, b.proto, b.host_port)
        c.ports = []
