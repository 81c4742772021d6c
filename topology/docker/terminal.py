"""A container's pseudo-terminal and the student's: `docker run -t` and `docker exec -t`.

As Docker's CLI does (cli/command/container/hijack.go setupInput), the client makes its terminal raw
and its keys reach the container only with -i and -t; with -t alone its terminal stays cooked (Ctrl-C
is the client's: `docker exec` ends with it, `docker run` proxies it) and typed keys stay on its side;
its window size follows the container's pty either way.

The engine tells the client on the docker connection: "raw\\n" (-it) or "tty\\n" (-t alone). The
client answers with lines of its own on that connection: {"size": [cols, rows]} at first and on each
SIGWINCH, and after "raw", {"ready": true} once its terminal is raw; output waits for that word, so
that no byte reaches the terminal before the mode change.

An attached `docker run` proxies the client's signals (docker/cli's --sig-proxy, default true: run.go's
ForwardAllSignals; with a TTY too since 19.03.5's "Do not disable sig-proxy when using a TTY"): the
engine says "proxy\\n" (after "raw\\n"/"tty\\n" with a TTY), and the client then catches the signals the
CLI forwards and sends each as {"signal": N}, which the engine delivers to the container as `docker
kill -s N` would, until the container exits. `docker exec` proxies none.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import subprocess
import termios

from topology.fdwait import readable

READY_TIMEOUT = 1.0  # seconds to wait for the client's terminal to be raw (an older client never says)


def open_pty(size: tuple[int, int] | None) -> tuple[int, int]:
    """A pseudo-terminal pair (master, slave) with the client's window size (columns, rows)."""
    master, slave = os.openpty()
    if size:
        set_winsize(master, *size)
    return master, slave


def set_winsize(fd: int, cols: int, rows: int) -> None:
    """Set a terminal's size (TIOCSWINSZ)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0))


def write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


class ClientLines:
    """The client's lines on the docker connection while its terminal is attached."""

    def __init__(self, conn, master: int = -1, on_signal=None):
        self.conn = conn
        self.master = master  # the pty that follows the client's window size; -1: none
        self.on_signal = on_signal  # called with each signal number the client proxies; None: ignored
        self.buf = b""
        self.ready = False

    def take(self) -> bool:
        """Read what the client sent and act on its complete lines; False once it hung up."""
        try:
            chunk = self.conn.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:
            return False
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if not isinstance(msg, dict):
                continue
            self.ready = self.ready or msg.get("ready") is True
            number = msg.get("signal")
            if self.on_signal and isinstance(number, int) and not isinstance(number, bool):
                self.on_signal(number)
            size = msg.get("size")
            if self.master >= 0 and isinstance(size, list) and len(size) == 2:
                try:
                    set_winsize(self.master, int(size[0]), int(size[1]))
                except (ValueError, TypeError, OSError):
                    pass
        return True


def attach_terminal(conn, interactive: bool, master: int = -1, on_signal=None) -> ClientLines | None:
    """Tell the client how to set its terminal: raw with `interactive` (-i with -t), where this waits
    (up to READY_TIMEOUT) for its word that it is; cooked otherwise. With `on_signal`, it proxies its
    signals too (see ClientLines). None if an interactive client hung up meanwhile (one with -t alone
    may go: what it ran runs on)."""
    lines = ClientLines(conn, master, on_signal)
    try:
        conn.sendall((b"raw\n" if interactive else b"tty\n") + (b"proxy\n" if on_signal else b""))
    except OSError:  # gone already (its Ctrl-C came before the word)
        return None if interactive else lines
    if interactive:
        while not lines.ready and readable([conn], READY_TIMEOUT):
            if not lines.take():
                return None
    return lines


def wait_proxying_signals(conn, proc: subprocess.Popen, deliver) -> int:
    """Wait for an attached container's process while the client proxies its signals: tell it to
    ("proxy"), then pass each signal it sends to `deliver`. Should the client go away, the process
    runs on and this waits for it."""
    lines = ClientLines(conn, on_signal=deliver)
    try:
        conn.sendall(b"proxy\n")
        pidfd = os.pidfd_open(proc.pid)
    except OSError:
        return proc.wait()
    try:
        while proc.poll() is None:
            if conn in readable([conn, pidfd], None) and not lines.take():
                break
    finally:
        os.close(pidfd)
    return proc.wait()


def relay_pty(
    master: int, stdin: int, stdout: int, conn, proc: subprocess.Popen, *, interactive: bool, on_signal=None
) -> int:
    """Relay a container's pty to the client until the process exits: its output to the client's
    stdout and, with `interactive`, the client's keys (its stdin) to it. Should the client go away, an
    interactive process is killed (its input is gone); with -t alone it runs on, as with Docker, and
    its output is read and dropped. `on_signal`: see attach_terminal."""
    lines = attach_terminal(conn, interactive, master, on_signal)
    if lines is None:  # only an interactive attach waits, for the client's word
        proc.kill()
        os.close(master)
        return proc.wait()
    sources = [master, *([stdin] if interactive else []), conn.fileno()]
    try:
        pidfd = os.pidfd_open(proc.pid)  # readable once it exits: no polling for that
        sources.append(pidfd)
    except OSError:
        pidfd = -1
    while True:
        try:
            ready = readable(sources, None if pidfd >= 0 else 0.1)
        except (OSError, ValueError):
            break
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:
                break
            if stdout >= 0:
                try:
                    write_all(stdout, data)
                except OSError:
                    stdout = -1
        if interactive and stdin in ready:
            data = os.read(stdin, 65536)
            if data:
                os.write(master, data)
            else:
                sources.remove(stdin)
        if conn.fileno() in ready and not lines.take():
            sources.remove(conn.fileno())
            if interactive:
                proc.kill()
                break
            stdout = -1  # the client is gone; the terminal it wrote to is no longer the container's
        if proc.poll() is not None and master not in readable([master], 0):
            break
    os.close(master)
    if pidfd >= 0:
        os.close(pidfd)
    return proc.wait()
