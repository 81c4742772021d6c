"""Docker's embedded DNS server (127.0.0.11 in containers on user-defined networks), per sandbox.

As in dockerd, the server runs in the daemon, outside every container, on sockets that were made
inside each container's network namespace: a per-sandbox `nslab-sockets` helper (topology.guest)
makes them. It runs in the sandbox's outer user and pid namespaces, where the student can neither
see nor signal it, and enters a container's namespace only to make a socket there. The daemon's
thread answers from the engine's `Directory` of each container and forwards other names to the
Docker host's nameservers: 19.03 from the container's namespace (so the query leaves through the
bridge and MASQUERADE), 28 from the host's (its resolv.conf servers count as "host loopback"); a
container's `--dns` servers instead, from its namespace in both versions.
Started lazily, at the first container that joins a user-defined network.
"""

from __future__ import annotations

import functools
import logging
import os
import selectors
import socket
import struct
import subprocess
import threading
from dataclasses import dataclass

from topology.docker import dnsmsg
from topology.docker.model import Container, Network, dns_names
from topology.sandbox import Sandbox

log = logging.getLogger("topology.docker.resolver")
ADDRESS = "127.0.0.11"
UPSTREAM_TIMEOUT = 4.0  # libnetwork's extIOTimeout
MAX_UPSTREAMS = 3
# Forwarded queries and TCP clients in flight per sandbox (libnetwork allows 1024 per container): a
# student's flood of unknown names must not grow the daemon's threads without bound.
MAX_CONCURRENT = 64


def nat_rules(udp_port: int, tcp_port: int) -> str:
    """The container's nat table as libnetwork's setup-resolver leaves it (iptables-restore text).

    moby inserts (-I) udp then tcp into each chain, so the tcp rule comes first (19.03 and 28 alike).
    """
    a = ADDRESS
    return (
        "*nat\n:DOCKER_OUTPUT - [0:0]\n:DOCKER_POSTROUTING - [0:0]\n"
        f"-A OUTPUT -d {a}/32 -j DOCKER_OUTPUT\n"
        f"-A POSTROUTING -d {a}/32 -j DOCKER_POSTROUTING\n"
        f"-A DOCKER_OUTPUT -d {a}/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination {a}:{tcp_port}\n"
        f"-A DOCKER_OUTPUT -d {a}/32 -p udp -m udp --dport 53 -j DNAT --to-destination {a}:{udp_port}\n"
        f"-A DOCKER_POSTROUTING -s {a}/32 -p tcp -m tcp --sport {tcp_port} -j SNAT --to-source :53\n"
        f"-A DOCKER_POSTROUTING -s {a}/32 -p udp -m udp --sport {udp_port} -j SNAT --to-source :53\n"
        "COMMIT\n"
    )


def directories(
    version: str, containers: list[Container], networks: dict[str, Network]
) -> dict[str, dnsmsg.Directory]:
    """What each container's resolver knows: libnetwork's service records of its user-defined
    networks (name, network aliases and short id of every container on them, 28 also the hostname:
    its DNSNames; the name for PTR)."""
    names: dict[str, dict[str, list[str]]] = {}
    reverse: dict[str, dict[str, str]] = {}
    for c in containers:
        for ep in c.endpoints:
            net = networks.get(ep.network)
            if net is None or not net.user_defined:
                continue
            table = names.setdefault(ep.network, {})
            for name in dict.fromkeys(n.lower() for n in dns_names(version, c, ep.aliases)):
                table.setdefault(name, []).append(ep.ip)
            reverse.setdefault(ep.network, {}).setdefault(ep.ip, f"{c.name}.{ep.network}")
    views = {}
    for c in containers:
        joined = [ep.network for ep in c.endpoints if ep.network in names]
        back: dict[str, str] = {}
        for net in reversed(joined):  # the first network that knows an address names it
            back.update(reverse[net])
        links = {alias.lower(): name for name, alias in c.links}
        views[c.id] = dnsmsg.Directory({net: names[net] for net in joined}, back, links)
    return views


@dataclass
class Listener:
    """One container's resolver: its two sockets, its namespace and whether it may reach upstream."""

    udp: socket.socket
    tcp: socket.socket
    netns: str  # the container's /proc/PID/ns/net, as the daemon names it
    external: bool = True  # False when the container is only on internal networks
    servers: tuple[tuple[str, bool], ...] = ()  # upstreams: (address, asked from the host's namespace)


class SocketMaker:
    """The sandbox's `nslab-sockets` helper: sockets made inside the sandbox's network namespaces."""

    def __init__(self, sb: Sandbox):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = ["nsenter", "-t", str(sb.keeper_pid), "-U", "-n", "-p", "--preserve-credentials", "--"]
        self.proc = sb.popen(
            [*argv, sb.guest, "nslab-sockets"],
            stdin=theirs,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = ours
        self.lock = threading.Lock()

    def make(self, kind: str, netns: str, address: str = "", port: int = 0) -> tuple[socket.socket, int]:
        """A socket of `kind` (udp, tcp, udp-client, tcp-client) in `netns`, with its bound port."""
        with self.lock:
            self.conn.sendall(f"{kind} {netns} {address or '-'} {port}".encode())
            msg, fds, _flags, _addr = socket.recv_fds(self.conn, 256, 1)
        text = msg.decode(errors="replace")
        if not fds:
            raise OSError(f"nslab-sockets: {text[2:] or 'exited'}")
        return socket.socket(fileno=fds[0]), int(text.split()[1])

    def close(self) -> None:
        self.conn.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class EmbeddedDns:
    """The embedded DNS servers of one sandbox's containers, served by one daemon thread."""

    def __init__(self, sb: Sandbox, version: str):
        self.sb = sb
        self.version = version
        self.maker = SocketMaker(sb)
        self.listeners: dict[str, Listener] = {}  # container id ->
        self.directories: dict[str, dnsmsg.Directory] = {}  # container id -> (replaced whole)
        self.selector = selectors.DefaultSelector()
        self.lock = threading.RLock()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)  # a full pipe wakes it all the same
        self.selector.register(self.wake_r, selectors.EVENT_READ)
        self.closed = False
        # Sockets detached, closed by the serving thread: closed here, a number the thread is about to
        # read could be reused meanwhile (another container's socket, or anything of the daemon's).
        self.retired: list[socket.socket] = []
        self.slots = threading.BoundedSemaphore(MAX_CONCURRENT)
        threading.Thread(target=self._serve, name="embedded-dns", daemon=True).start()

    # -- the engine's side ----------------------------------------------------------------

    def attach(
        self,
        cid: str,
        netns: str,
        *,
        external: bool,
        servers: list[tuple[str, bool]],
        ports: tuple[int, int] = (0, 0),
    ) -> tuple[int, int]:
        """Open the container's resolver sockets on 127.0.0.11 (on `ports`, or random ones); return
        their (udp, tcp) ports. `servers`: its upstreams (the host's nameservers, or its `--dns`
        ones) as (address, whether asked from the host's namespace)."""
        udp, udp_port = self.maker.make("udp", netns, ADDRESS, ports[0])
        tcp, tcp_port = self.maker.make("tcp", netns, ADDRESS, ports[1])
        for s in (udp, tcp):
            s.setblocking(False)
        listener = Listener(udp, tcp, netns, external, tuple(servers[:MAX_UPSTREAMS]))
        with self.lock:
            self.detach(cid)
            self.listeners[cid] = listener
            self.selector.register(udp, selectors.EVENT_READ, (cid, "udp"))
            self.selector.register(tcp, selectors.EVENT_READ, (cid, "tcp"))
        self._wake()
        return udp_port, tcp_port

    def attached(self, cid: str) -> bool:
        return cid in self.listeners

    def set_external(self, cid: str, external: bool) -> None:
        """Whether the container has a network with a gateway (28 forwards only then)."""
        if listener := self.listeners.get(cid):
            listener.external = external

    def detach(self, cid: str) -> None:
        """Stop serving a container; its sockets (they hold its network namespace alive) are closed
        right away by the serving thread."""
        with self.lock:
            listener = self.listeners.pop(cid, None)
            if listener is None:
                return
            for s in (listener.udp, listener.tcp):
                self.selector.unregister(s)
                self.retired.append(s)
        self._wake()

    def update(self, directories: dict[str, dnsmsg.Directory]) -> None:
        """The names each container's resolver answers (rebuilt by the engine on every change)."""
        self.directories = directories

    def close(self) -> None:
        """Stop serving: close every socket and the helper."""
        with self.lock:
            for cid in list(self.listeners):
                self.detach(cid)
            self.closed = True
        self._wake()
        self.maker.close()

    def _wake(self) -> None:
        """Make the serving thread look at its sockets again (once it has ended, nothing to do)."""
        with self.lock:
            if self.wake_w >= 0:
                try:
                    os.write(self.wake_w, b"x")
                except BlockingIOError:
                    pass

    # -- serving ----------------------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            with self.lock:
                for s in self.retired:
                    s.close()
                self.retired.clear()
                if self.closed:
                    os.close(self.wake_r)
                    os.close(self.wake_w)
                    self.wake_w = -1
                    self.selector.close()
                    return
            for key, _events in self.selector.select():
                if key.fileobj == self.wake_r:
                    os.read(self.wake_r, 512)
                    continue
                cid, proto = key.data
                try:
                    if proto == "udp":
                        data, peer = key.fileobj.recvfrom(4096)
                        send = functools.partial(_send_to, key.fileobj, peer)
                        self._handle(cid, data, send, "udp")
                    else:
                        conn, _peer = key.fileobj.accept()
                        self._in_thread(self._tcp_client, cid, conn, refused=conn.close)
                except OSError:
                    continue  # a client gone

    def _in_thread(self, work, *args, refused) -> None:
        """Run `work(*args)` in a thread of its own if a slot is free, else call `refused()`."""
        if not self.slots.acquire(blocking=False):
            refused()
            return

        def run() -> None:
            try:
                work(*args)
            finally:
                self.slots.release()

        threading.Thread(target=run, daemon=True).start()

    def _tcp_client(self, cid: str, conn: socket.socket) -> None:
        conn.settimeout(UPSTREAM_TIMEOUT * 2)
        with conn:
            try:
                while data := _read_framed(conn):
                    self._handle(cid, data, lambda reply: conn.sendall(_framed(reply)), "tcp", wait=True)
            except OSError:
                pass

    def _handle(self, cid: str, data: bytes, send, proto: str, *, wait: bool = False) -> None:
        try:
            q = dnsmsg.parse(data)
        except dnsmsg.BadMessage:
            return
        reply = dnsmsg.answer(q, self.directories.get(cid, dnsmsg.Directory()))
        if reply is not None:
            send(reply)
            return
        if wait:
            self._forward(cid, q, send, proto)
        else:  # as libnetwork past its limit: 19.03 drops the query, 28 refuses it
            answer = _ignore if self.version == "19.03" else send
            refused = functools.partial(answer, dnsmsg.error_reply(q, dnsmsg.RCODE_REFUSED))
            self._in_thread(self._forward, cid, q, send, proto, refused=refused)

    def _forward(self, cid: str, q: dnsmsg.Query, send, proto: str) -> None:
        """Ask the upstream servers as libnetwork does; 19.03 stays silent when none answers."""
        listener = self.listeners.get(cid)
        reply = None
        for server, host_loopback in listener.servers if listener else ():
            if self.version != "19.03" and host_loopback and not listener.external:
                continue  # 28: no host-namespace query for a container only on internal networks
            netns = f"/proc/{self.sb.host_pid}/ns/net" if host_loopback else listener.netns
            try:
                reply = self._exchange(netns, server, q.data, proto)
            except (OSError, ValueError, struct.error):
                reply = None
            if reply is None or len(reply) < 4:
                continue
            rcode = reply[3] & 0xF
            if rcode in (dnsmsg.RCODE_SERVFAIL, dnsmsg.RCODE_REFUSED):  # try the next one
                continue
            break
        if reply is None and self.version != "19.03":
            reply = dnsmsg.error_reply(q, dnsmsg.RCODE_SERVFAIL)
        if reply is not None:
            try:
                send(reply)
            except OSError:
                pass

    def _exchange(self, netns: str, server: str, data: bytes, proto: str) -> bytes | None:
        s, _port = self.maker.make(f"{proto}-client", netns)
        with s:
            s.settimeout(UPSTREAM_TIMEOUT)
            s.connect((server, 53))
            if proto == "tcp":
                s.sendall(_framed(data))
                return _read_framed(s)
            s.send(data)
            return s.recv(4096)


def _ignore(_reply: bytes) -> None:
    pass


def _send_to(s: socket.socket, peer, data: bytes) -> None:
    s.sendto(data, peer)


def _framed(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _read_framed(conn: socket.socket) -> bytes:
    head = _read_exactly(conn, 2)
    return _read_exactly(conn, struct.unpack("!H", head)[0]) if head else b""


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf
