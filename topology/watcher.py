"""The kernel-change watcher: a small single-threaded subprocess that listens to netlink multicast.

`topology.events` starts it as the sandbox's root in the sandbox's OUTER user namespace (and in the
router's network namespace, its "home"), because the daemon may be unprivileged and is multi-threaded
(setns(CLONE_NEWNET) changes only the calling thread and needs capabilities over the target). For each
network namespace it is told about, the watcher opens the namespace file, enters it, creates its
netlink sockets there and goes back home: a socket stays bound to the namespace it was made in.

Protocol (JSON lines).

stdin, one command per line; "id" is optional and echoed in the answer:
    {"add": NAME, "path": PATH, "id": N}   watch the netns at PATH (replaces an earlier NAME)
    {"remove": NAME, "id": N}              stop watching NAME
The watcher exits when stdin closes.

stdout:
    {"ready": PID}                           once, at start
    {"ok": true, "id": N} / {"error": TEXT, "id": N}   the answer to a command (after it took effect)
    {"ns": NAME, "kind": KIND, "action": "new"|"del", "detail": {...}}   one kernel change
        KIND: link, address, route, neighbour, netfilter; "n": COUNT is added when a flood of
        changes of one kind was folded into one line (see FOLD_AFTER).
    {"ns": NAME, "kind": "overflow", "action": "lost", "detail": {"socket": "route"|"netfilter"}}
        the kernel dropped notifications (socket buffer full): something changed, unknown what.
    {"ns": NAME, "kind": "namespace", "action": "del", "detail": {"reason": "exited"}}, then
    {"gone": NAME}
        the process named by a /proc/PID/... path exited: the watcher closed its sockets so that it
        does not keep the namespace (and e.g. a container's veth) alive.

Only the message type and a few fixed-offset fields are decoded; no pyroute2 (its import alone
costs about 80 ms).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import select
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1

# rtnetlink multicast groups (RTNLGRP_*)
RTNLGRP_LINK = 1
RTNLGRP_NEIGH = 3
RTNLGRP_IPV4_IFADDR = 5
RTNLGRP_IPV4_ROUTE = 7
RTNLGRP_IPV6_IFADDR = 9
RTNLGRP_IPV6_ROUTE = 11
ROUTE_GROUPS = (
    RTNLGRP_LINK,
    RTNLGRP_NEIGH,
    RTNLGRP_IPV4_IFADDR,
    RTNLGRP_IPV4_ROUTE,
    RTNLGRP_IPV6_IFADDR,
    RTNLGRP_IPV6_ROUTE,
)
NFNLGRP_NFTABLES = 7
NFNL_SUBSYS_NFTABLES = 10

RCVBUF = 1 << 20  # the kernel caps it at 2 * net.core.rmem_max
RECV_SIZE = 1 << 16
# Per socket and round of the poll loop: at most READS datagrams are read (so that output flows during
# a long burst) and FOLD_AFTER changes get a line each; the rest are only counted, per kind and action
# (a student's flood must not become a flood of JSON for the daemon).
READS = 256
FOLD_AFTER = 16

NUD_NONE, NUD_NOARP = 0x00, 0x40

# rtnetlink message type -> (kind, action)
RTM = {
    16: ("link", "new"),
    17: ("link", "del"),
    20: ("address", "new"),
    21: ("address", "del"),
    24: ("route", "new"),
    25: ("route", "del"),
    28: ("neighbour", "new"),
    29: ("neighbour", "del"),
}
# NFT_MSG_* -> (object, action); GET* never come as notifications.
NFT = {
    0: ("table", "new"),
    2: ("table", "del"),
    3: ("chain", "new"),
    5: ("chain", "del"),
    6: ("rule", "new"),
    8: ("rule", "del"),
    9: ("set", "new"),
    11: ("set", "del"),
    12: ("setelem", "new"),
    14: ("setelem", "del"),
    15: ("gen", "new"),
    18: ("obj", "new"),
    20: ("obj", "del"),
    22: ("flowtable", "new"),
    24: ("flowtable", "del"),
    26: ("table", "del"),
    27: ("chain", "del"),
    28: ("rule", "del"),
    29: ("set", "del"),
    30: ("setelem", "del"),
    31: ("obj", "del"),
    32: ("flowtable", "del"),
}
FAMILIES = {0: "unspec", 1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"}
PROC_PID = re.compile(r"^/proc/(\d+)/")

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int, nstype: int) -> None:
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


# -- decoding ------------------------------------------------------------------------------


def _attrs(data: bytes, start: int, end: int, wanted: tuple[int, ...]) -> dict[int, bytes]:
    """The payloads of the wanted top-level netlink attributes in data[start:end]."""
    found: dict[int, bytes] = {}
    while start + 4 <= end:
        alen, atype = struct.unpack_from("=HH", data, start)
        if alen < 4:
            break
        atype &= 0x3FFF  # NLA_F_NESTED, NLA_F_NET_BYTEORDER
        if atype in wanted:
            found[atype] = data[start + 4 : min(start + alen, end)]
        start += (alen + 3) & ~3
    return found


def _str(raw: bytes | None) -> str | None:
    return raw.split(b"\0", 1)[0].decode(errors="replace") if raw is not None else None


def _addr(family: int, raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return socket.inet_ntop(socket.AF_INET if family == socket.AF_INET else socket.AF_INET6, raw)
    except (ValueError, OSError):
        return None


def decode_route(data: bytes, off: int, end: int, mtype: int) -> dict:
    """A cheap summary of one rtnetlink message (its body is data[off:end])."""
    body = off + 16
    if mtype in (16, 17) and end - body >= 16:  # ifinfomsg
        index, flags = struct.unpack_from("=iI", data, body + 4)
        name = _str(_attrs(data, body + 16, end, (3,)).get(3))  # IFLA_IFNAME
        return {"ifindex": index, "ifname": name, "up": bool(flags & 1)}
    if mtype in (20, 21) and end - body >= 8:  # ifaddrmsg
        family, prefixlen, _flags, _scope, index = struct.unpack_from("=BBBBI", data, body)
        attrs = _attrs(data, body + 8, end, (1, 2))  # IFA_ADDRESS, IFA_LOCAL
        return {
            "ifindex": index,
            "address": _addr(family, attrs.get(2) or attrs.get(1)),
            "prefixlen": prefixlen,
        }
    if mtype in (24, 25) and end - body >= 12:  # rtmsg
        family, dst_len, _src, _tos, table = struct.unpack_from("=BBBBB", data, body)
        attrs = _attrs(data, body + 12, end, (1, 4, 15))  # RTA_DST, RTA_OIF, RTA_TABLE
        if 15 in attrs and len(attrs[15]) >= 4:
            table = struct.unpack_from("=I", attrs[15])[0]
        oif = struct.unpack_from("=i", attrs[4])[0] if len(attrs.get(4, b"")) >= 4 else None
        dst = _addr(family, attrs.get(1)) or ("0.0.0.0" if family == socket.AF_INET else "::")
        return {"dst": f"{dst}/{dst_len}", "table": table, "ifindex": oif}
    if mtype in (28, 29) and end - body >= 12:  # ndmsg
        family, index, state = struct.unpack_from("=BxxxiH", data, body)
        attrs = _attrs(data, body + 12, end, (1, 2))  # NDA_DST, NDA_LLADDR
        detail = {"ifindex": index, "family": FAMILIES.get(family, str(family)), "state": state}
        if family in (socket.AF_INET, socket.AF_INET6):
            detail["address"] = _addr(family, attrs.get(1))
        if 2 in attrs:
            detail["lladdr"] = attrs[2].hex(":")
        return detail
    return {}


def _unlisted_neighbour(data: bytes, off: int, end: int, mtype: int) -> bool:
    """True for a neighbour entry `ip neigh` does not list (NOARP or NONE state), such as the
    multicast entries IPv6 router solicitations make and the kernel soon collects: noise to a lab."""
    if mtype not in (28, 29) or end - off < 16 + 12:
        return False
    state = struct.unpack_from("=H", data, off + 16 + 8)[0]
    return state == NUD_NONE or bool(state & NUD_NOARP)


def decode_nft(data: bytes, off: int, end: int, msg: int) -> dict:
    """A cheap summary of one nf_tables notification (its body is data[off:end])."""
    obj = NFT[msg][0]
    body = off + 16
    if end - body < 4:
        return {"object": obj}
    family, _version, res_id = struct.unpack_from("=BBH", data, body)
    if obj == "gen":
        return {"object": obj, "genid": socket.ntohs(res_id)}
    # Attribute 1 is the table's name for every object; 2 is a rule's chain, 3 a chain's name.
    attrs = _attrs(data, body + 4, end, (1, 2, 3))
    detail = {"object": obj, "family": FAMILIES.get(family, str(family)), "table": _str(attrs.get(1))}
    if obj == "rule":
        detail["chain"] = _str(attrs.get(2))
    elif obj == "chain":
        detail["chain"] = _str(attrs.get(3))
    return detail


def decode(proto: int, data: bytes):
    """Yield (kind, action, detail) for each change notification in one datagram."""
    off = 0
    size = len(data)
    while off + 16 <= size:
        length, mtype = struct.unpack_from("=IH", data, off)
        if length < 16:
            break
        end = min(off + length, size)
        try:
            if proto == NETLINK_ROUTE:
                if mtype in RTM and not _unlisted_neighbour(data, off, end, mtype):
                    kind, action = RTM[mtype]
                    yield kind, action, decode_route(data, off, end, mtype)
            elif mtype >> 8 == NFNL_SUBSYS_NFTABLES and (mtype & 0xFF) in NFT:
                yield "netfilter", NFT[mtype & 0xFF][1], decode_nft(data, off, end, mtype & 0xFF)
        except struct.error:
            pass
        off += (length + 3) & ~3


# -- the watcher ---------------------------------------------------------------------------


class Namespace:
    """The sockets watching one network namespace."""

    def __init__(self, name: str, path: str):
        self.name = name
        self.path = path
        self.sockets: list[tuple[socket.socket, int, str]] = []  # (socket, protocol, label)
        self.pidfd = -1

    def close(self) -> None:
        for sock, _proto, _label in self.sockets:
            sock.close()
        self.sockets = []
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1


def _netlink(proto: int, groups: tuple[int, ...]) -> socket.socket:
    sock = socket.socket(
        socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, proto
    )
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.bind((0, 0))
        for group in groups:
            sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    except BaseException:
        sock.close()
        raise
    return sock


class SandboxWatcher:
    """The event stream's helper process: netlink and nf_tables changes of a sandbox's namespaces."""

    def __init__(self, out_fd: int = 1, in_fd: int = 0):
        self.out_fd = out_fd
        self.in_fd = in_fd
        self.home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.namespaces: dict[str, Namespace] = {}
        self.by_fd: dict[int, tuple[Namespace, socket.socket, int, str]] = {}
        self.by_pidfd: dict[int, Namespace] = {}
        self.poll = select.poll()
        self.poll.register(in_fd, select.POLLIN)
        self.out: list[bytes] = []
        self.inbuf = b""

    def emit(self, message: dict) -> None:
        self.out.append(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def flush(self) -> None:
        data = b"".join(self.out)
        self.out = []
        view = memoryview(data)
        while view:
            view = view[os.write(self.out_fd, view) :]

    # -- commands --

    def add(self, name: str, path: str) -> None:
        self.remove(name)
        ns = Namespace(name, path)
        try:
            if match := PROC_PID.match(path):
                ns.pidfd = os.pidfd_open(int(match.group(1)))
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(fd, CLONE_NEWNET)
            finally:
                os.close(fd)
            try:
                ns.sockets.append((_netlink(NETLINK_ROUTE, ROUTE_GROUPS), NETLINK_ROUTE, "route"))
                ns.sockets.append(
                    (_netlink(NETLINK_NETFILTER, (NFNLGRP_NFTABLES,)), NETLINK_NETFILTER, "netfilter")
                )
            finally:
                setns(self.home, CLONE_NEWNET)
            if ns.pidfd >= 0 and _exited(ns.pidfd):
                raise ProcessLookupError(f"the process of {path} exited")
        except BaseException:
            ns.close()
            raise
        self.namespaces[name] = ns
        for sock, proto, label in ns.sockets:
            self.by_fd[sock.fileno()] = (ns, sock, proto, label)
            self.poll.register(sock.fileno(), select.POLLIN)
        if ns.pidfd >= 0:
            self.by_pidfd[ns.pidfd] = ns
            self.poll.register(ns.pidfd, select.POLLIN)

    def remove(self, name: str) -> bool:
        ns = self.namespaces.pop(name, None)
        if ns is None:
            return False
        for sock, _proto, _label in ns.sockets:
            self.poll.unregister(sock.fileno())
            self.by_fd.pop(sock.fileno(), None)
        if ns.pidfd >= 0:
            self.poll.unregister(ns.pidfd)
            self.by_pidfd.pop(ns.pidfd, None)
        ns.close()
        return True

    def command(self, line: bytes) -> None:
        ident = None
        try:
            cmd = json.loads(line)
            ident = cmd.get("id")
            if "add" in cmd:
                self.add(str(cmd["add"]), str(cmd["path"]))
            elif "remove" in cmd:
                if not self.remove(str(cmd["remove"])):
                    raise KeyError(f"no namespace {cmd['remove']!r} is watched")
            else:
                raise ValueError("unknown command")
        except Exception as exc:  # noqa: BLE001 - every failure is an answer
            self.emit({"error": f"{type(exc).__name__}: {exc}", "id": ident})
            return
        self.emit({"ok": True, "id": ident})

    # -- reading --

    def read_socket(self, ns: Namespace, sock: socket.socket, proto: int, label: str) -> None:
        shown = 0
        folded: dict[tuple[str, str, str | None], int] = {}
        for _ in range(READS):
            try:
                data = sock.recv(RECV_SIZE)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.emit(
                        {"ns": ns.name, "kind": "overflow", "action": "lost", "detail": {"socket": label}}
                    )
                    continue
                raise
            for kind, action, detail in decode(proto, data):
                if shown < FOLD_AFTER:
                    shown += 1
                    self.emit({"ns": ns.name, "kind": kind, "action": action, "detail": detail})
                else:  # folded by table too: the stream leaves a packet walk's table out (events.py)
                    key = (kind, action, detail.get("table") if kind == "netfilter" else None)
                    folded[key] = folded.get(key, 0) + 1
        for (kind, action, table), count in folded.items():
            detail = {"table": table} if table else {}
            self.emit({"ns": ns.name, "kind": kind, "action": action, "detail": detail, "n": count})

    def gone(self, ns: Namespace) -> None:
        self.remove(ns.name)
        self.emit({"ns": ns.name, "kind": "namespace", "action": "del", "detail": {"reason": "exited"}})
        self.emit({"gone": ns.name})

    def run(self) -> None:
        self.emit({"ready": os.getpid()})
        self.flush()
        while True:
            for fd, _event in self.poll.poll():
                if fd == self.in_fd:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        return
                    self.inbuf += chunk
                    *lines, self.inbuf = self.inbuf.split(b"\n")
                    for line in lines:
                        if line.strip():
                            self.command(line)
                elif fd in self.by_fd:
                    self.read_socket(*self.by_fd[fd])
                elif fd in self.by_pidfd:
                    self.gone(self.by_pidfd[fd])
            if self.out:
                self.flush()


def _exited(pidfd: int) -> bool:
    """True once the process of `pidfd` has exited (poll: select fails on fds above 1023)."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return bool(poller.poll(0))


def main() -> None:
    try:
        SandboxWatcher().run()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
