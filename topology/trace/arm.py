"""Arming a trace for one packet: the nft table that marks it, and the command that sends it.

The table is the trace's own (`table inet nslab_trace_<mark>`: traces at once do not meet), made in
each namespace the packet may cross and deleted right after): chains at priority -600 on prerouting
and output, ahead of raw (-300) and conntrack (-200), whose rules set `meta nftrace` for the walked
packet and its reply only (a filter on the source port the sender binds, or the ICMP echo id; TCP
only SYN and RST: the handshake's first packet and its answer); empty chains at priority 600 on
input, forward and postrouting show the packet once filter and NAT are done with it. A student's own
tables are never touched; snapshots and the change stream leave this table out.
"""

from __future__ import annotations

from dataclasses import dataclass

from topology.snapshot.netfilter import TRACE_TABLE

__all__ = ["TABLE", "Probe", "arm_script", "disarm_script", "mark_script", "sender_argv", "sync_script"]

TABLE = TRACE_TABLE
PRIORITY = -600
AFTER = 600  # the trace table's input, forward and postrouting chains: after filter and NAT


@dataclass(frozen=True)
class Probe:
    """The walked packet: protocol, destination, and the source port (or ICMP echo id) that marks it.

    Armed for a packet the student makes (`mark` None: its source port is not known yet), every
    new connection's first packet and its answer (TCP SYN and RST; UDP; ICMP echo) is marked while
    the trace waits, and the walk keeps the student's packet's alone (`with_mark`)."""

    proto: str  # tcp | udp | icmp
    dst: str
    dport: int | None
    mark: int | None  # the source port the sender binds, or the ICMP echo id; None: armed
    ident: int = 0  # names the trace's table (the mark when there is one)

    @property
    def table(self) -> str:
        """The name of this trace's table."""
        return f"{TABLE}_{self.ident or self.mark}"

    def with_mark(self, mark: int) -> Probe:
        return Probe(self.proto, self.dst, self.dport, mark, self.ident or mark)

    def matches(self) -> list[str]:
        """nft matches of the packet and of its reply (and ICMP errors about them)."""
        errors = "icmp type { destination-unreachable, time-exceeded }"
        if self.mark is None:
            broad = {"tcp": "tcp flags & (syn | rst) != 0", "udp": "meta l4proto udp"}
            return [broad.get(self.proto, "icmp type { echo-request, echo-reply }"), errors]
        if self.proto == "icmp":
            return [f"icmp id {self.mark}", errors]
        if self.proto == "tcp":
            flags = "tcp flags & (syn | rst) != 0"
            return [f"tcp sport {self.mark} {flags}", f"tcp dport {self.mark} {flags}", errors]
        return [f"udp sport {self.mark}", f"udp dport {self.mark}", errors]


def arm_script(probe: Probe, *, marking: bool = True) -> str:
    """The `nft -f -` script that creates the trace table (after deleting a leftover one); without
    `marking`, its chains mark nothing yet (`mark_script` adds the rules)."""
    rules = "".join(f"    {m} meta nftrace set 1\n" for m in probe.matches()) if marking else ""
    chains = "".join(
        f"  chain {hook} {{\n    type filter hook {hook} priority {PRIORITY}; policy accept;\n{rules}  }}\n"
        for hook in ("prerouting", "output")
    ) + "".join(
        f"  chain {hook} {{\n    type filter hook {hook} priority {AFTER}; policy accept;\n  }}\n"
        for hook in ("input", "forward", "postrouting")
    )
    t = probe.table
    return f"add table inet {t}\ndelete table inet {t}\ntable inet {t} {{\n{chains}}}\n"


def mark_script(probe: Probe) -> str:
    """The marking rules of a table armed without them."""
    return "".join(
        f"add rule inet {probe.table} {hook} {m} meta nftrace set 1\n"
        for hook in ("prerouting", "output")
        for m in probe.matches()
    )


def sync_script(probe: Probe, n: int) -> str:
    """A change the capture waits to see in a namespace's monitor (then it listens)."""
    return f"add chain inet {probe.table} sync{n}\n"


def disarm_script(probe: Probe) -> str:
    return f"delete table inet {probe.table}\n"


# Sends one packet and says what became of it: exit 0 answered (TCP connected, UDP answer),
# 1 refused (RST, ICMP port unreachable), 2 no answer in time, 3 the kernel refused to send.
_SENDER = r"""
import socket, sys
proto, dst = sys.argv[1], sys.argv[2]
dport, sport, timeout = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(timeout)
try:
    s.bind(("0.0.0.0", sport))
    s.connect((dst, dport))
    if proto == "udp":
        s.send(b"nslab trace\n")
        s.recv(512)
except ConnectionRefusedError:
    sys.exit(1)
except (socket.timeout, TimeoutError):
    sys.exit(2)
except OSError as e:
    print(e.strerror or e, file=sys.stderr)
    sys.exit(3)
"""


def sender_argv(probe: Probe, timeout: float) -> list[str]:
    """The command that sends the probe's packet from a namespace (python3 and ping of the sandbox's /usr)."""
    if probe.proto == "icmp":
        return ["ping", "-n", "-c", "1", "-W", f"{max(1, round(timeout))}", "-e", str(probe.mark), probe.dst]
    return [
        "python3",
        "-I",  # isolated, and no site-packages: a faster start, nothing of the namespace's paths
        "-S",
        "-c",
        _SENDER,
        probe.proto,
        probe.dst,
        str(probe.dport or 0),
        str(probe.mark),
        f"{timeout:g}",
    ]
