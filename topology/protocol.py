"""The wire format between the daemon and its clients: JSON lines, plus stdio fds passed with SCM_RIGHTS."""

from __future__ import annotations

import array
import json
import socket

MAX_LINE = 1 << 20
MAX_FDS = 3


def send(sock: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    """Send one message (and optionally file descriptors) as a JSON line."""
    data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.sendall(data)


class Reader:
    """Reads JSON lines (and the fds that came with them) from a stream socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""
        self.fds: list[int] = []

    def read(self) -> dict | None:
        """The next message, or None at end of stream. Raises ValueError on a malformed line."""
        while b"\n" not in self.buf:
            fds = array.array("i")
            data, ancdata, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_LEN(MAX_FDS * fds.itemsize))
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            self.fds.extend(fds)
            if not data:
                return None
            self.buf += data
            if len(self.buf) > MAX_LINE:
                raise ValueError("message too long")
        line, self.buf = self.buf.split(b"\n", 1)
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("a message is a JSON object")
        return message

    def take_fds(self) -> list[int]:
        """The fds received so far (the caller owns and closes them)."""
        fds, self.fds = self.fds, []
        return fds
