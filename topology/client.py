"""Client of the lab-node daemon; starts the daemon when it is not running."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator

from topology import protocol
from topology.errors import DaemonUnavailable, TopologyError
from topology.paths import daemon_socket, state_dir

START_TIMEOUT = 10.0


class DaemonError(TopologyError):
    """The daemon refused a request; `kind` names the daemon-side error."""

    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind


class Client:
    """Talks to the daemon; one connection per request."""

    def __init__(self, *, autostart: bool = True):
        self.path = daemon_socket()
        self.autostart = autostart

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.path))
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if not self.autostart:
                raise DaemonUnavailable(f"the nslab daemon is not running ({self.path})") from None
        start_daemon()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.path))
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                time.sleep(0.02)
        raise DaemonUnavailable(f"the nslab daemon did not start; see {state_dir() / 'daemon.log'}")

    def request(self, message: dict, fds: list[int] | None = None) -> dict:
        """Send one request and return the daemon's answer; raise DaemonError when it failed."""
        with self._connect() as sock:
            try:
                protocol.send(sock, message, fds)
                reply = protocol.Reader(sock).read()
            except OSError as exc:  # the daemon went away mid-request (killed, restarted)
                raise DaemonError(f"the daemon closed the connection ({exc.strerror})") from None
        return _checked(reply)

    def stream(self, message: dict) -> Iterator[dict]:
        """Send a request whose answer is a stream of messages."""
        with self._connect() as sock:
            try:
                protocol.send(sock, message)
                reader = protocol.Reader(sock)
                _checked(reader.read())
                while (msg := reader.read()) is not None:
                    yield msg
            except OSError as exc:
                raise DaemonError(f"the daemon closed the connection ({exc.strerror})") from None

    def up(self, docker: str = "19.03", owner: str = "") -> dict:
        """Create a sandbox; `owner` labels it (ls shows it) so that a user of the daemon finds its own."""
        return self.request({"op": "up", "docker": docker, "owner": owner})["sandbox"]

    def ls(self) -> list[dict]:
        return self.request({"op": "ls"})["sandboxes"]

    def down(self, sid: str) -> None:
        self.request({"op": "down", "id": sid})

    def down_all(self, *, wait: bool = False) -> int:
        """Remove every sandbox (paced); with `wait`, answer once all are gone."""
        return self.request({"op": "down", "all": True, "wait": wait})["count"]

    def exec(
        self, sid: str, argv: list[str], *, ns: str = "host", stdio: tuple[int, int, int] = (0, 1, 2)
    ) -> int:
        return self.request({"op": "exec", "id": sid, "ns": ns, "argv": argv}, list(stdio))["exit"]

    def exec_started(
        self, sid: str, argv: list[str], *, ns: str = "host", stdio: tuple[int, int, int] = (0, 1, 2)
    ) -> socket.socket:
        """Start a command and return its connection: closing it kills the command (the daemon
        kills the command's process group when its client hangs up)."""
        sock = self._connect()
        protocol.send(sock, {"op": "exec", "id": sid, "ns": ns, "argv": argv}, list(stdio))
        return sock

    def snapshot(
        self, sid: str, namespaces: Iterable[str] | None = None, kinds: Iterable[str] | None = None
    ) -> dict:
        """The sandbox's kernel state (see topology.snapshot.take). With `namespaces` (names, as the
        event stream reports them) it is incremental: only those namespaces (and new ones) are
        collected, the others are as the daemon last collected them; `kinds` (the change kinds
        reported) may spare their netfilter sections; without, everything is collected."""
        request: dict = {"op": "snapshot", "id": sid}
        if namespaces is not None:
            request["namespaces"] = sorted(namespaces)
            if kinds is not None:
                request["kinds"] = sorted(kinds)
        return self.request(request)["snapshot"]

    def events(self, sid: str) -> Iterator[dict]:
        return self.stream({"op": "events", "id": sid})


def _checked(reply: dict | None) -> dict:
    if reply is None:
        raise DaemonError("the daemon closed the connection")
    if not reply.get("ok"):
        raise DaemonError(reply.get("error", "failed"), reply.get("kind", ""))
    return reply


def start_daemon() -> None:
    """Start the daemon in the background, detached from this process."""
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "daemon.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "topology", "daemon"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


OUTPUT_LIMIT = 1 << 20  # bytes of a command's output kept


class ClientAccess:
    """`topology.access.SandboxAccess` through the lab-node daemon (a `Client`)."""

    def __init__(self, sandbox_id: str, client: Client | None = None):
        self.sandbox_id = sandbox_id
        self.client = client if client is not None else Client()

    def snapshot(self) -> dict:
        return self.client.snapshot(self.sandbox_id)

    def run(self, ns: str, argv: list[str], timeout: float = 5.0) -> tuple[int, str, str]:
        """Run `argv` in namespace `ns`; killed after `timeout` seconds (exit status 137).

        Output is captured in memory files rather than pipes, so a chatty command never blocks on a
        full pipe and a background child keeping the descriptor open never delays the answer."""
        out = os.memfd_create("nslab-probe-out", os.MFD_CLOEXEC)
        err = os.memfd_create("nslab-probe-err", os.MFD_CLOEXEC)
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            code = self.client.exec(
                self.sandbox_id,
                ["timeout", "-s", "KILL", f"{timeout:g}", *argv],
                ns=ns,
                stdio=(null, out, err),
            )
            return code, _read(out), _read(err)
        finally:
            for fd in (out, err, null):
                os.close(fd)

    def snapshot_of(self, namespaces: list[str]) -> dict:
        """A snapshot with only `namespaces` (and new ones) collected now, the others as the daemon
        last collected them (`[]`: the daemon's last snapshot, cheap)."""
        return self.client.snapshot(self.sandbox_id, namespaces=namespaces)

    def spawn(self, ns: str, argv: list[str]) -> Spawned:
        """Start `argv` in namespace `ns`, its input and output (stdout, stderr) on pipes (`Spawned`)."""
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        in_read, in_write = os.pipe2(os.O_CLOEXEC)
        try:
            sock = self.client.exec_started(self.sandbox_id, argv, ns=ns, stdio=(in_read, write_fd, write_fd))
        except BaseException:
            os.close(read_fd)
            os.close(in_write)
            raise
        finally:
            os.close(write_fd)
            os.close(in_read)
        return Spawned(sock, os.fdopen(read_fd, "rb", buffering=0), os.fdopen(in_write, "wb", buffering=0))


class Spawned:
    """A command started through the daemon: `input` and `output` its pipes, `stop()` kills it (hang-up)."""

    def __init__(self, sock: socket.socket, output, input_):
        self.sock = sock
        self.output = output
        self.input = input_

    def wait(self) -> int | None:
        """The command's exit status, once it exits; None when stopped or the daemon went away."""
        try:
            reply = protocol.Reader(self.sock).read()
        except (OSError, ValueError):
            return None
        return reply.get("exit") if reply and reply.get("ok") else None

    def stop(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self.stop()
        self.sock.close()
        self.output.close()
        try:
            self.input.close()
        except OSError:  # the command is gone: nobody reads the pipe
            pass


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, size = [], 0
    while size < OUTPUT_LIMIT and (chunk := os.read(fd, 1 << 16)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode(errors="replace")
