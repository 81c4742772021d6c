"""The emulated Docker engine of one sandbox: containers and networks, with Docker's kernel effects.

State changes happen under one lock per engine; output is written to the client's fds after the
lock is released, so a client that does not read cannot stall the engine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from topology.docker import containerfiles, etcfiles, images, names, netconfig, resolver, rules
from topology.docker import ipam as ipam_mod
from topology.docker.errors import EngineError
from topology.docker.eventlog import EventLog
from topology.docker.model import (
    NO_DNS,
    Container,
    DnsConfig,
    Endpoint,
    ExposedPort,
    Network,
    PortBinding,
    process_env,
    published_endpoint,
)
from topology.docker.publishing import Publisher, PublishError
from topology.docker.runtime import (
    GUEST,
    KernelError,
    bridge_up_script,
    exit_status,
    heredoc,
    highest_ifindex,
    host_script,
    indexed_links,
    iptables_save,
    iptables_save_started,
    mount_sysfs,
    random_veth,
    restore,
    spawn_container,
    stop_process_tree,
)
from topology.sandbox import HOST_RESOLV_CONF, HOSTNAME, Sandbox

DEFAULT_SUBNET = "172.17.0.0/16"
WEB_ROOT = "/var/www/html"


@dataclass
class Output:
    """What a command prints; written to the client's fds after the engine lock is released."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def print(self, text: str = "") -> None:
        self.out.append(text + "\n")

    def warn(self, text: str) -> None:
        self.err.append(text + "\n")


def now() -> str:
    """The current time as the daemon writes it (RFC 3339, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Engine:
    """One sandbox's Docker engine."""

    def __init__(self, version: str):
        self.version = version
        self.sb: Sandbox | None = None
        self.lock = threading.RLock()
        self.containers: dict[str, Container] = {}
        self.networks: dict[str, Network] = {}
        self.procs: dict[str, object] = {}  # container id -> ContainerProcess
        self.stopped: dict[str, threading.Event] = {}
        self.ipam = ipam_mod.Ipam(version)
        self.publisher = Publisher(version)
        self.ifindex = 0  # the highest interface index given to a link of the Docker host
        self.detached = False
        self.dns: resolver.EmbeddedDns | None = None  # started at the first user-network container
        self._subscribers: list = []
        self.events = EventLog()  # what `docker events` shows; lost with the daemon, as dockerd's
        self._default_networks()

    # -- start ---------------------------------------------------------------------------

    def _default_networks(self) -> None:
        created = now()
        bridge = Network(
            id=secrets.token_hex(32),
            name="bridge",
            driver="bridge",
            created=created,
            subnet=DEFAULT_SUBNET,
            gateway="172.17.0.1",
            bridge="docker0",
            options={
                "com.docker.network.bridge.default_bridge": "true",
                "com.docker.network.bridge.enable_icc": "true",
                "com.docker.network.bridge.enable_ip_masquerade": "true",
                "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                "com.docker.network.bridge.name": "docker0",
                "com.docker.network.driver.mtu": "1500",
            },
        )
        pool = self.ipam.default_bridge_pool()
        bridge.subnet, bridge.gateway = pool.subnet, pool.gateway
        for net in (
            bridge,
            Network(id=secrets.token_hex(32), name="host", driver="host", created=created),
            Network(id=secrets.token_hex(32), name="none", driver="null", created=created),
        ):
            self.networks[net.id] = net

    def start_script(self) -> str:
        """Shell text that does to a fresh Docker host what dockerd's first start does."""
        program = rules.daemon_start(self.version, rules.Ruleset.parse(""))
        before, up = bridge_up_script(
            bridge="docker0",
            mac=ipam_mod.bridge_mac(self.version),
            gateway="172.17.0.1",
            prefixlen=16,
            mtu=1500 if self.version != "19.03" else 0,
        )
        forward = "echo 1 > /proc/sys/net/ipv4/ip_forward\n"
        if self.version == "19.03":
            # 19.03 turns forwarding on at driver init, before it creates the bridge.
            return forward + before + restore(program.render()) + up
        # 28 also sets up its ip6tables chains at driver init. It touches only ip6 tables, so it
        # runs beside the rest (a few ms less to ready); like dockerd, a failure is only a warning.
        ip6 = heredoc(
            "ip6tables-restore --noflush -w", rules.daemon_start6(self.version, rules.Ruleset()).render()
        )
        warn = "echo 'ip6tables is enabled, but cannot set up ip6tables chains' >&2"
        ip6_job = "{\n" + ip6 + "} || " + warn + " &\nip6_job=$!\n"
        return ip6_job + before + forward + restore(program.render()) + up + 'wait "$ip6_job"\n'

    def attach(self, sb: Sandbox) -> None:
        self.sb = self.publisher.sb = sb

    def subscribe(self, callback):
        """Call `callback(event)` on every container and network change; returns the unsubscriber."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def emit(self, kind: str, name: str, action: str, netns: str | None = None) -> None:
        event = {"type": f"{kind}.changed", "name": name, "action": action}
        if netns is not None:
            event["netns"] = netns
        for callback in list(self._subscribers):
            callback(event)

    def container_event(self, c: Container, action: str, **attributes: str) -> None:
        """Log a container event as moby's LogContainerEventWithAttributes: the container's labels,
        then its image and name over them."""
        attributes = {**c.labels, **attributes, "image": c.image, "name": c.name}
        self.events.log("container", action, c.id, attributes)

    def network_event(self, net: Network, action: str, container: Container | None = None) -> None:
        """Log a network event as moby's LogNetworkEventWithAttributes (name and type, with the
        container's id for connect and disconnect)."""
        attributes = {"container": container.id} if container is not None else {}
        self.events.log("network", action, net.id, {**attributes, "name": net.name, "type": net.driver})

    def _attached_networks(self, c: Container) -> list[Network]:
        """The networks a running container has endpoints in, as libnetwork sees them: its bridge
        networks, or the host or none network of those modes (a container:... mode has none)."""
        if c.network_mode in ("host", "none"):
            return [self.find_network(c.network_mode)]
        return [n for ep in c.endpoints for n in self.networks.values() if n.name == ep.network]

    def namespaces(self) -> dict[str, str]:
        """Network namespaces of running containers with their own, by container name (daemon-side paths)."""
        with self.lock:
            return {
                c.name: self.procs[c.id].netns
                for c in self.containers.values()
                if c.status == "running"
                and c.id in self.procs
                and c.network_mode != "host"
                and not c.network_mode.startswith("container:")
            }

    def detach(self) -> None:
        """The sandbox is going away: stop watching container processes and serving their DNS."""
        self.detached = True
        self.events.close()
        if self.dns is not None:
            self.dns.close()

    # -- lookups -------------------------------------------------------------------------

    def find_container(self, ref: str) -> Container:
        c = self.lookup(ref)
        if c is None:
            raise EngineError(f"No such container: {ref}", not_found=True)
        return c

    def lookup(self, ref: str) -> Container | None:
        ref = ref.lstrip("/")
        for c in self.containers.values():
            if c.name == ref or c.id == ref:
                return c
        matches = [c for c in self.containers.values() if ref and c.id.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def running_container(self, ref: str) -> Container | None:
        with self.lock:
            c = self.lookup(ref)
            return c if c and c.status == "running" else None

    def host_pid(self, c: Container) -> int:
        return self.procs[c.id].host_pid

    def find_network(self, ref: str) -> Network:
        for n in self.networks.values():
            if n.name == ref or n.id == ref:
                return n
        matches = [n for n in self.networks.values() if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        raise EngineError(f"network {ref} not found", not_found=True)

    # -- containers ----------------------------------------------------------------------

    def create_container(
        self,
        *,
        image: str,
        cmd: list[str],
        name: str = "",
        network: str = "bridge",
        hostname: str = "",
        publish: list[PortBinding] | None = None,
        publish_all: bool = False,
        expose: list[ExposedPort] | None = None,
        ip: str = "",
        mac: str = "",
        auto_remove: bool = False,
        tty: bool = False,
        interactive: bool = False,
        labels: dict[str, str] | None = None,
        aliases: list[str] | None = None,
        links: list[str] | None = None,
        dns: DnsConfig = NO_DNS,
        env: list[str] | None = None,
    ) -> Container:
        """Register a container (docker create): validates names, image, network and links."""
        base = image.split(":")[0]
        if base not in images.DEFAULTS:
            raise EngineError(
                f"pull access denied for {base}, repository does not exist or may require 'docker login': "
                "denied: requested access to the resource is denied",
                preamble=f"Unable to find image '{image if ':' in image else image + ':latest'}' locally",
            )
        cid = secrets.token_hex(32)
        if name:
            self._check_name_free(name)
        else:
            name = names.random_name({c.name for c in self.containers.values()})
        # The network (or container) named is only looked up at start: a missing one fails there.
        requested_network, net = network, None
        if network.startswith("container:"):
            target = self.lookup(network.split(":", 1)[1])
            network = f"container:{target.id}" if target is not None else network
        elif network not in ("host", "none"):
            with contextlib.suppress(EngineError):
                net = self.find_network(network)
                network = net.name
        user_net = network not in ("bridge", "host", "none") and not network.startswith("container:")
        # 28 checks a missing network's endpoint settings without it (validateEndpointSettings, nil nw).
        err = (net or not user_net) and ipam_mod.static_address_error(self.version, ip, network, net)
        if err and self.version != "19.03":  # 28 checks the endpoint settings at create
            raise EngineError(f"invalid config for network {requested_network}: {err}")
        default_cmd, exposed = images.DEFAULTS[base]
        try:
            c_links = [containerfiles.check_link(self.lookup, ref, user_net) for ref in links or []]
        except containerfiles.LinkError as exc:
            raise EngineError(str(exc)) from None
        c = Container(
            id=cid,
            name=name,
            image=image,
            cmd=cmd or default_cmd,
            created=now(),
            network_mode="default" if network == "bridge" else network,
            hostname=hostname or (HOSTNAME if network == "host" else cid[:12]),
            tty=tty,
            interactive=interactive,
            labels=dict(labels or {}),
            auto_remove=auto_remove,
            publish_all=publish_all,
            published=list(publish or []),
            requested_ip=ip,
            requested_mac=mac,
            aliases=list(aliases or []),
            links=c_links,
            dns=dns,
            env=list(env or []),
        )
        # Sorted as text, like Docker's nat.Port ("443/tcp" before "80/tcp"): -P binds them in this order.
        c.exposed = sorted({*exposed, *(expose or []), *(b.target for b in c.published)})
        self.containers[cid] = c
        self.container_event(c, "create")
        return c

    def start_container(self, c: Container, stdio: tuple[int, int, int] | None = None) -> None:
        """Start a created or exited container: process, network, ports (docker start). A failure
        is kept in State.Error, with exit code 128, as the daemon's containerStart does."""
        if c.status == "running":
            return
        try:
            self._start(c, stdio)
        except EngineError as exc:
            c.error = exc.message
            c.exit_code = c.exit_code or 128
            raise

    def network_failure(self, message: str) -> EngineError:
        """An error of 28's allocateNetwork (after the task is created), or 19.03's."""
        prefix = "failed to set up container networking: " if self.version != "19.03" else ""
        return EngineError(prefix + message)

    def _start(self, c: Container, stdio: tuple[int, int, int] | None) -> None:
        sb = self.sb
        mode, join_pid = c.network_mode, 0
        if mode.startswith("container:"):
            target = self.containers.get(mode.split(":", 1)[1]) or self.lookup(mode.split(":", 1)[1])
            if target is None:
                raise EngineError(f"No such container: {mode.split(':', 1)[1]}")
            mode = c.network_mode = f"container:{target.id}"
            if target.status != "running":
                raise EngineError(f"cannot join network of a non running container: {target.id}")
            join_pid = self.procs[target.id].host_pid
        joins = netconfig.plan_joins(self, c)  # (network, endpoint: none for host and none types)
        bridges = [(n, ep) for n, ep in joins if ep is not None]
        *passed, gateway = netconfig.gateway_history(self.version, [n for n, _ in bridges]) or [None]
        try:
            hosts_text, resolv, hostname = self._container_files(c, [n for n, _ in bridges])
        except EngineError:
            self.release_addresses(c)
            raise
        if join_pid:
            target_nets = [self.find_network(ep.network) for ep in target.endpoints]
            hosts_text, resolv, hostname = self._container_files(target, target_nets)
            c.hostname, hostname = target.hostname, target.hostname  # as the daemon copies them
            c.dns = replace(c.dns, domainname=target.dns.domainname)
        files = {
            "/etc/hosts": hosts_text,
            "/etc/resolv.conf": resolv,
            "/etc/hostname": hostname + "\n",
        }
        files["/etc/passwd"], files["/etc/group"] = images.accounts(c.image.split(":")[0])
        program, argv = self._argv(c, files)
        env = process_env(c, c.tty)
        ruleset = iptables_save_started(sb) if bridges else None  # read while the process starts
        try:
            proc = spawn_container(
                sb,
                cid=c.id,
                argv=argv,
                hostname=hostname,
                files=files,
                new_netns=mode != "host" and not join_pid,
                join_pid=join_pid,
                stdio=stdio,
                env=env,
                tty=c.tty and stdio is not None,
                privileges=c.privileges,
                program=program,
                workdir=c.workdir,
            )
        except BaseException:
            self.release_addresses(c)
            raise
        self.procs[c.id] = proc
        c.pid = proc.inner_pid
        try:
            try:  # gateway endpoints before the last join: their ports come and go
                for _ in [net for net in passed if not net.internal]:
                    self.publisher.churn(c)
            except PublishError as exc:
                raise self.network_failure(str(exc)) from None
            rs = rules.Ruleset.parse(ruleset()) if bridges else None
            for net, ep in bridges:  # in Docker's order: eth0, eth1...
                self._connect(c, net, proc, ep, gateway=net is gateway, rs=rs)
                rs = None
            if not bridges and mode != "host":  # none, container:: a sysfs of the namespace it has or joins
                script = mount_sysfs(sb, proc) + "\n"
                if not join_pid:
                    script += f"nsenter --net={proc.netns} sh -c {shlex.quote(self._netns_sysctls())}\n"
                host_script(sb, script)
        except BaseException:
            self._kill(proc)
            self._teardown_network(c)
            self.procs.pop(c.id, None)
            c.pid = 0
            raise
        c.status, c.error, c.exit_code = "running", "", 0
        self._dns_update()
        own_netns = mode != "host" and not join_pid
        self.emit("container", c.name, "start", proc.netns if own_netns else None)
        for attached in self._attached_networks(c):
            self.network_event(attached, "connect", c)
        self.container_event(c, "start")
        c.started_at = now()
        c.finished_at = "0001-01-01T00:00:00Z"
        done = threading.Event()
        self.stopped[c.id] = done
        proc.release()
        proc.wait_started()
        threading.Thread(target=self._watch, args=(c, proc, done), daemon=True).start()

    def _argv(self, c: Container, files: dict[str, str]) -> tuple[str, list[str]]:
        """The program (empty: argv[0] in PATH) and argv of the process standing for the image's."""
        base = c.image.split(":")[0]
        server = {"nginx": "nginx", "httpd-foreground": "httpd"}.get(c.cmd[0] if c.cmd else "")
        if base in ("nginx", "httpd") and c.cmd == images.DEFAULTS[base][0]:
            files[f"{WEB_ROOT}/index.html"] = (
                f"<!DOCTYPE html>\n<html><head><title>Welcome to {base}!</title></head>\n"
                f"<body><h1>Welcome to {base}!</h1>\n<p>Served by container {c.name} ({c.short_id}).</p>\n"
                "</body></html>\n"
            )
        if server:
            return GUEST, images.web_server(server, list(c.cmd), WEB_ROOT)
        cmd = list(c.cmd)
        if base in ("busybox", "alpine") and cmd and not cmd[0].startswith("/") and images.is_applet(cmd[0]):
            # Applets first, as in those images: `top`, `sleep`, `sh` are busybox's, under their names.
            return "/bin/busybox", cmd
        return "", cmd

    def _container_files(self, c: Container, nets: list[Network]) -> tuple[str, str, str]:
        try:
            gateway = self.find_network("bridge").gateway  # the daemon's host-gateway address
            return containerfiles.container_files(self.version, self.lookup, c, nets, gateway)
        except containerfiles.LinkError as exc:
            raise EngineError(str(exc)) from None

    def plan_endpoint(
        self, c: Container, net: Network, *, ip: str = "", aliases=(), mac: str = ""
    ) -> Endpoint:
        """Allocate the endpoint's address, MAC and veth names (no kernel work yet)."""
        try:
            ip = self.ipam.pool(net.subnet).request_address(ip or None, network=net.name, network_id=net.id)
        except ipam_mod.IpamError as exc:
            raise EngineError(str(exc)) from None
        ep = Endpoint(
            network=net.name,
            ip=ip,
            prefixlen=ipaddress.ip_network(net.subnet).prefixlen,
            gateway=net.gateway,
            mac=mac or ipam_mod.mac_for(self.version, ip),
            ifname=f"eth{len(c.endpoints)}",
            host_veth=random_veth(),
            aliases=list(aliases),
        )
        c.endpoints.append(ep)
        return ep

    def _netns_sysctls(self, ifname: str = "") -> str:
        """Shell text of the sysctls a container's own network namespace gets. 19.03's libnetwork turns
        IPv6 off for `all` (so `default` and lo too: no ::1) in every new sandbox; 28 only on each
        interface without IPv6 (lo keeps ::1), and its OCI spec allows low ports and ping sockets."""
        if self.version == "19.03":
            return "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"
        own = f"echo 1 > /proc/sys/net/ipv6/conf/{ifname}/disable_ipv6; " if ifname else ""
        # The kernel refuses the ping range here (its top gid is unmapped in the sandbox's user
        # namespace; rootless Docker skips it): leave it at its default.
        return (
            own + "echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start; "
            '{ echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range; } 2>/dev/null || :'
        )

    def _endpoint_script(self, c: Container, ep: Endpoint, net: Network, proc, *, gateway: bool) -> str:
        """Shell text wiring an endpoint as Docker does: veth pair, container end renamed and addressed."""
        peer, ifname, mtu = random_veth(), ep.ifname, 1500 if self.version != "19.03" else 0
        # The peer is created straight in the container's netns, with the index a move would keep.
        create = (
            f"link add name {ep.host_veth}{{1}} txqueuelen 0 type veth peer name {peer}{{0}} txqueuelen 0 "
            f"netns {proc.host_pid}"
        )
        outside = []
        if mtu:
            outside.append(f"link set {ep.host_veth} mtu {mtu}")
        outside += [f"link set {ep.host_veth} master {net.bridge}", f"link set {ep.host_veth} up"]
        inside = [
            f"link set {peer} down",
            f"link set {peer} name {ifname}",
            f"link set {ifname} address {ep.mac}",
        ]
        if mtu:
            inside.append(f"link set {ifname} mtu {mtu}")
        inside += [f"addr add {ep.ip}/{ep.prefixlen} brd + dev {ifname}", f"link set {ifname} up"]
        if gateway and net.gateway and not (net.internal and self.version != "19.03"):
            inside.append(f"route add default via {net.gateway} dev {ifname}")
        sysctl = self._netns_sysctls(peer)
        inside_command = f"nsenter --net={proc.netns} sh -c {shlex.quote(sysctl + '; exec ip -batch -')}"
        script = indexed_links(create, count=2, last=self.ifindex, then=tuple(outside))
        script += heredoc(inside_command, "\n".join(inside))
        if not c.sandbox_key:
            script = f"{mount_sysfs(self.sb, proc)} &\nsysfs=$!\n{script}wait $sysfs\n"
            key = secrets.token_hex(6)
            c.sandbox_key = f"/var/run/docker/netns/{key}"
            target = f"/run/docker/netns/{key}"
            script += (
                f"nsenter -t {self.sb.host_pid} -m sh -c "
                f"': > {target} && exec mount --bind /proc/{c.pid}/ns/net {target}'\n"
            )
        return script

    def _connect(self, c: Container, net: Network, proc, ep: Endpoint, *, gateway: bool, rs=None) -> None:
        """Attach a started container to a network: endpoint, rules, its ports if the gateway
        endpoint, embedded DNS."""
        ep.is_gateway = gateway
        rs = rs or rules.Ruleset.parse(iptables_save(self.sb))
        program = rules.endpoint_add(self.version, rs, bridge=net.bridge, ip=ep.ip, internal=net.internal)
        rules_text = restore(program.render())
        proxies = []
        if gateway and not net.internal:
            try:
                text, proxies = self.publisher.publish(c, net, ep, program.ruleset)
            except PublishError as exc:
                raise self.network_failure(str(exc)) from None
            rules_text += text
        if net.user_defined:
            rules_text += self._dns_attach(c, proc)
        # Rules and links are independent: program them side by side.
        script = f"(\n{rules_text}) &\nrules=$!\n" if rules_text else ""
        script += self._endpoint_script(c, ep, net, proc, gateway=gateway)
        script += "wait $rules\n" if rules_text else ""
        try:
            self.note_ifindex(host_script(self.sb, script))
        finally:  # a later endpoint (network connect) publishes nothing: keep the first one's proxies
            self.publisher.keep(c, proxies)
        if failure := self.publisher.failure(c, ep, proxies):
            raise self.network_failure(failure)

    def note_ifindex(self, output: str) -> None:
        self.ifindex = max(self.ifindex, highest_ifindex(output))

    def _dns_attach(self, c: Container, proc) -> str:
        """Open the container's embedded DNS (the first user network it joins); the shell text of the
        NAT rules that send its 127.0.0.11:53 to the server's ports."""
        if self.dns is None:
            self.dns = resolver.EmbeddedDns(self.sb, self.version)
        if self.dns.attached(c.id):
            return ""
        # A socket bound while bwrap still sets up the loopback may send from 127.0.0.1: wait.
        proc.wait_set_up()
        servers = etcfiles.external_servers(self.version, HOST_RESOLV_CONF, c.dns)
        udp, tcp = self.dns.attach(c.id, proc.netns, external=True, servers=servers)
        return restore(resolver.nat_rules(udp, tcp), netns=proc.netns)

    def _dns_update(self) -> None:
        """Give the embedded DNS the names each container can resolve now (after any endpoint change)."""
        if self.dns is None:
            return
        running = [c for c in self.containers.values() if c.status == "running" or c.endpoints]
        for c in running:
            nets = [self.find_network(ep.network) for ep in c.endpoints]
            self.dns.set_external(c.id, any(not n.internal for n in nets))
        networks = {n.name: n for n in self.networks.values()}
        self.dns.update(resolver.directories(self.version, running, networks))

    def _teardown_network(self, c: Container) -> None:
        """Undo what start did to the Docker host: proxies, rules, conntrack entries, veths, addresses."""
        self.publisher.stop_proxies(c)
        if not c.endpoints and not c.ports:
            return
        script = ""
        try:
            rs = rules.Ruleset.parse(iptables_save(self.sb))
            if ep := published_endpoint(c):
                rs, unpublish = self.publisher.unpublish_script(rs, c, self.find_network(ep.network), ep)
                script += unpublish
            for ep in c.endpoints:
                net = self.find_network(ep.network)
                program = rules.endpoint_remove(self.version, rs, bridge=net.bridge, ip=ep.ip)
                rs = program.ruleset
                script += restore(program.render())
                script += (
                    f"conntrack -D -s {ep.ip} >/dev/null 2>&1 || true\n"
                    f"conntrack -D -d {ep.ip} >/dev/null 2>&1 || true\n"
                    f"ip link del {ep.host_veth} 2>/dev/null || true\n"
                )
            if c.sandbox_key:  # busybox's umount: util-linux's needs a /proc/self, absent outside its pid ns
                name = c.sandbox_key.rsplit("/", 1)[1]
                script += (
                    f"nsenter -t {self.sb.host_pid} -m sh -c 'busybox umount /run/docker/netns/{name}; "
                    f"rm -f /run/docker/netns/{name}' 2>/dev/null || true\n"
                )
            if not self.detached:
                host_script(self.sb, script)
        except (KernelError, EngineError, subprocess.TimeoutExpired, OSError):
            pass  # OSError: the sandbox is being destroyed with its daemon's files
        self.release_addresses(c)
        if self.dns is not None and not self.detached:
            self.dns.detach(c.id)
            self._dns_update()

    def release_addresses(self, c: Container) -> None:
        """Give the container's host ports and addresses back to the allocators."""
        self.publisher.release(c)
        for ep in c.endpoints:
            self.ipam.pool(self.find_network(ep.network).subnet).release_address(ep.ip)
        c.endpoints = []
        c.sandbox_key = ""

    def _watch(self, c: Container, proc, done: threading.Event) -> None:
        code = proc.proc.wait()
        with self.lock:
            if self.procs.get(c.id) is proc:
                attached = self._attached_networks(c)
                self._teardown_network(c)
                self.procs.pop(c.id, None)
                c.status = "exited"
                self.emit("container", c.name, "die", "")
                c.exit_code = exit_status(code)
                c.finished_at = now()
                c.pid = 0
                self._exit_events(c, attached)
                if c.auto_remove:
                    self.containers.pop(c.id, None)
                    self.emit("container", c.name, "destroy")
                    self.container_event(c, "destroy")
        done.set()

    def _exit_events(self, c: Container, attached: list[Network]) -> None:
        """die and the network disconnects of releaseNetwork: 19.03 logs die before its cleanup,
        28 after it, with the seconds the container ran (execDuration)."""
        try:
            started = datetime.strptime(c.started_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            ran = int((datetime.now(UTC) - started).total_seconds())
        except ValueError:
            ran = 0
        if self.version == "19.03":
            self.container_event(c, "die", exitCode=str(c.exit_code))
        for net in attached:
            self.network_event(net, "disconnect", c)
        if self.version != "19.03":
            self.container_event(c, "die", exitCode=str(c.exit_code), execDuration=str(ran))

    @staticmethod
    def _kill(proc) -> None:
        try:
            os.kill(proc.host_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.release()
        stop_process_tree(proc.proc)

    def _signal(self, c: Container, number: int) -> None:
        """Send a signal to the container's first process, as containerd does (the kernel decides),
        and log the kill event; under the lock, as moby's killWithSignal holds the container's, so
        that the die its exit causes comes after it."""
        with self.lock:
            proc = self.procs.get(c.id)
            if proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.host_pid, number)
                self.container_event(c, "kill", signal=str(number))

    def stop_container(self, c: Container, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds (docker stop)."""
        done = self.stopped.get(c.id)
        if c.id not in self.procs or done is None:
            return
        self._signal(c, signal.SIGTERM)
        if not done.wait(max(timeout, 0)):
            self._signal(c, signal.SIGKILL)
        done.wait(10)
        with self.lock:
            self.container_event(c, "stop")

    def kill_container(self, c: Container, number: int = signal.SIGKILL) -> None:
        """Send a signal (docker kill); after SIGKILL, return once the container has exited, whose
        teardown is that of any exit. Another signal may leave it running."""
        done = self.stopped.get(c.id)
        if c.status != "running" or done is None:
            raise EngineError(f"{'C' if self.version == '19.03' else 'c'}ontainer {c.id} is not running")
        self._signal(c, number)
        if number == signal.SIGKILL:
            done.wait(10)

    def rename_container(self, c: Container, new: str) -> None:
        """docker rename (moby's ContainerRename): links naming it and its embedded DNS names follow;
        files already written (the /etc/hosts of containers linked to it) keep the old name."""
        new = new if new.startswith("/") else "/" + new
        if new == "/" + c.name:
            raise EngineError("Renaming a container with the same name as its current name")
        try:
            if not names.valid_name(new):
                raise EngineError(f"Invalid container name ({new}), only {names.VALID_CHARS} are allowed")
            self._check_name_free(new[1:])
        except EngineError as exc:
            raise EngineError("Error when allocating new name: " + exc.message) from None
        netns = self.namespaces().get(c.name)
        old, c.name = c.name, new[1:]
        for other in self.containers.values():
            other.links = [(c.name if child == old else child, alias) for child, alias in other.links]
        if netns:  # the event stream watches it under its name
            self.emit("container", old, "rename", "")
        self.emit("container", c.name, "rename", netns)
        self.container_event(c, "rename", oldName="/" + old)
        self._dns_update()

    def _check_name_free(self, name: str) -> None:
        if other := next((c for c in self.containers.values() if c.name == name), None):
            raise EngineError(
                f'Conflict. The container name "/{name}" is already in use by container "{other.id}". '
                "You have to remove (or rename) that container to be able to reuse that name."
            )

    def remove_container(self, c: Container, force: bool = False) -> None:
        if c.status == "running":
            if not force:
                raise EngineError(
                    f"You cannot remove a running container {c.id}. "
                    "Stop the container before attempting removal or force remove"
                )
            done = self.stopped.get(c.id)
            self._signal(c, signal.SIGKILL)  # moby's Kill, then a containerStop that finds it stopped
            if done is not None:
                done.wait(10)
        self.containers.pop(c.id, None)
        self.emit("container", c.name, "destroy")
        with self.lock:
            self.container_event(c, "destroy")

    # -- networks ------------------------------------------------------------------------

    def join_running(self, c: Container, net: Network, *, ip: str, aliases: list[str]) -> None:
        """A running container joins a network (network connect): endpoint, events, DNS, its files."""
        first_resolver = net.user_defined and not (self.dns and self.dns.attached(c.id))
        ep = self.plan_endpoint(c, net, ip=ip, aliases=aliases)
        self._connect(c, net, self.procs[c.id], ep, gateway=False)
        self._move_gateway(c)
        self.network_event(net, "connect", c)
        self._dns_update()
        pid = self.procs[c.id].host_pid
        host_script(self.sb, containerfiles.connected_script(self.version, pid, c, resolver=first_resolver))

    def _move_gateway(self, c: Container) -> None:
        """libnetwork's sbJoin and sbLeave: when another endpoint becomes the gateway endpoint (see
        netconfig.gateway_network), the old one's external connectivity (published ports) is revoked
        and the new one's programmed, and the default route follows (updateGateway)."""
        nets = {ep.network: self.find_network(ep.network) for ep in c.endpoints}
        best = netconfig.gateway_network(self.version, list(nets.values()))
        new = next((ep for ep in c.endpoints if best is not None and ep.network == best.name), None)
        old = published_endpoint(c)
        if new is None or new is old:
            return
        rs, script, proxies = rules.Ruleset.parse(iptables_save(self.sb)), "", []
        if old is not None:
            old.is_gateway = False
            rs, script = self.publisher.unpublish_script(rs, c, nets[old.network], old)
            self.publisher.stop_proxies(c)
            self.publisher.release(c)
        new.is_gateway, net = True, nets[new.network]
        if not net.internal:
            try:
                text, proxies = self.publisher.publish(c, net, new, rs)
            except PublishError as exc:
                raise EngineError(str(exc)) from None
            script += text
        if net.gateway and not (net.internal and self.version != "19.03"):
            route = f"ip route replace default via {net.gateway} dev {new.ifname}"
            script += f"nsenter --net={self.procs[c.id].netns} {route}\n"
        try:
            host_script(self.sb, script)
        finally:
            self.publisher.keep(c, proxies)
        if failure := self.publisher.failure(c, new, proxies):
            raise EngineError(failure)

    def leave_running(self, c: Container, net: Network, ep: Endpoint) -> None:
        """A running container leaves a network (network disconnect): its ports with its gateway endpoint."""
        rs = rules.Ruleset.parse(iptables_save(self.sb))
        script = ""
        if ep is published_endpoint(c) and c.ports:
            rs, unpublish = self.publisher.unpublish_script(rs, c, net, ep)
            script += unpublish
            self.publisher.stop_proxies(c)
            self.publisher.release(c)
        program = rules.endpoint_remove(self.version, rs, bridge=net.bridge, ip=ep.ip)
        script += restore(program.render()) + f"ip link del {ep.host_veth}\n"
        script += containerfiles.disconnected_script(self.version, self.procs[c.id].host_pid, c, ep)
        host_script(self.sb, script)
        self.ipam.pool(net.subnet).release_address(ep.ip)
        c.endpoints.remove(ep)
        self._move_gateway(c)
        # 19.03 logs it twice: as it leaves the network (disconnectFromNetwork), then again at the
        # end of DisconnectFromNetwork
        for _ in range(2 if self.version == "19.03" else 1):
            self.network_event(net, "disconnect", c)
        self._dns_update()


def _now_ts() -> float:
    return time.time()
