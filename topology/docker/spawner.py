"""The Docker host's daemons start its processes, so that `ps` shows them where a Docker host does:
`containerd` a container's shim (28's shim a child of init, as once it has daemonized), `dockerd`
the docker-proxies.

They are the guest's stand-ins (topology/guest/shim.c), each serving a socket in the Docker host that
answers only this daemon (a peer outside the sandbox's pid namespace). A request carries the argv,
the environment and the fds of the process; the answer is a pidfd of it, held as a `HeldProcess`. A
stand-in the student killed is started again, as systemd restarts a Docker host's services.
"""

from __future__ import annotations

import ctypes
import os
import shlex
import signal
import socket
import subprocess
import threading

from topology.fdwait import readable
from topology.sandbox import Sandbox, start_time, student_env

# Docker's daemons in the Docker host, and where each listens (the same paths as in topology/guest/guest.c).
STANDINS = {
    "dockerd": ["dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"],
    "containerd": ["containerd"],
}
SOCKETS = {"dockerd": "/run/docker/nslab-dockerd.sock", "containerd": "/run/containerd/containerd.sock"}
LOST_EXIT = 255  # the exit status of a process whose status nobody could read (libcontainerd's code)
_restarting = threading.Lock()


class KernelError(Exception):
    """A kernel step inside the sandbox failed."""


class HeldProcess:
    """A process of the sandbox that this daemon did not fork: held through a pidfd (signals never
    reach a process that reused its pid), its exit status read from `status_fd` (written by a shim
    once it has reaped the process, or by the shim itself as it ends; LOST_EXIT when the writer ended
    without), else LOST_EXIT. The subset of `subprocess.Popen` the engine uses; thread-safe."""

    def __init__(self, pid: int, started: int, *, pidfd: int = -1, status_fd: int = -1):
        self.pid = pid
        self.started = started
        self.returncode: int | None = None
        self._status_fd = status_fd
        self._lock = threading.Lock()  # the engine's watcher and an attached `docker run` both wait
        if pidfd < 0 and pid > 0:
            try:
                pidfd = os.pidfd_open(pid) if start_time(pid) == started else -1
            except ProcessLookupError:
                pidfd = -1
        self._pidfd = pidfd
        # Its end: the status arriving (or the writer gone) where there is one, else its exit.
        self._ends = status_fd if status_fd >= 0 else pidfd
        if pidfd < 0:
            self._ended()

    @classmethod
    def of_pidfd(cls, pidfd: int, *, status_fd: int = -1) -> HeldProcess:
        """The process a pidfd refers to (its pid as this daemon sees it, from the pidfd's fdinfo)."""
        with open(f"/proc/self/fdinfo/{pidfd}") as f:
            pid = next(int(line.split()[1]) for line in f if line.startswith("Pid:"))
        if pid <= 0:  # it has already ended (and been reaped)
            os.close(pidfd)
            return cls(0, 0, status_fd=status_fd)
        return cls(pid, start_time(pid), pidfd=pidfd, status_fd=status_fd)

    def poll(self) -> int | None:
        if self.returncode is None and readable([self._ends], 0):
            self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not readable([self._ends], timeout):
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            self._ended()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _ended(self) -> None:
        with self._lock:
            if self.returncode is not None:
                return
            code = LOST_EXIT
            if self._status_fd >= 0 and readable([self._status_fd], 0):
                text = os.read(self._status_fd, 64).decode(errors="replace").strip()
                code = int(text) if text.isdigit() else code
            self.returncode = code

    def __del__(self) -> None:
        # Closed only here: another thread may be waiting on them when the process ends.
        for fd in (getattr(self, "_pidfd", -1), getattr(self, "_status_fd", -1)):
            if fd >= 0:
                os.close(fd)


def start_standins(sb: Sandbox) -> None:
    """Start the Docker host's dockerd and containerd, as its boot would, in the background: they
    listen within milliseconds, and a request that comes first starts one itself (a second instance
    then waits for the first one's socket and leaves). Started from outside the Docker host (not by
    its init, which bwrap gave no_new_privs), so that what they start, `docker exec` processes
    included, runs without no_new_privs, as on a Docker host."""
    script = "".join(shlex.join(argv) + "\n" for argv in STANDINS.values())

    def start() -> None:
        sb.popen(
            [*sb.nsenter_argv("host", student=True), "sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ).wait()

    threading.Thread(target=start, name=f"standins-{sb.id}", daemon=True).start()


def spawn(
    sb: Sandbox,
    daemon: str,
    argv: list[str],
    *,
    fds: dict[int, int],
    env: dict[str, str] | None = None,
    sibling: bool = False,
    status_fd: int = -1,
    pidns_fd: int = -1,
) -> HeldProcess:
    """Have `daemon` start `argv` (argv[0] in the Docker host's PATH) with the daemon's fds `fds` as
    the numbers they map from, the others closed (0-2: /dev/null when absent). `daemon` is a stand-in
    (dockerd, containerd) or the socket of a container's shim, which also makes the process in the pid
    namespace `pidns_fd` and reports its exit status when it reaps it. `sibling`: a child of the
    stand-in's parent, init. `status_fd` is the read end of a pipe whose write end, in `fds`, the
    process writes its own exit status to (a shim's)."""
    env = env if env is not None else student_env()
    targets = list(fds)
    extra, flags = [], ["sibling"] if sibling else []
    reported = daemon not in SOCKETS  # a shim reaps its processes and reports their status
    if reported:
        status_fd, status_w = os.pipe()
        extra.append(status_w)
        flags.append("status")
    if pidns_fd >= 0:
        extra.append(pidns_fd)
        flags.append("pidns")
    request = b"\0".join(
        [
            " ".join(flags).encode(),
            " ".join(map(str, targets)).encode(),
            *(a.encode() for a in argv),
            b"",
            *(f"{k}={v}".encode() for k, v in env.items()),
        ]
    )
    try:
        with _connect(sb, daemon) as conn:
            socket.send_fds(conn, [request + b"\0"], [*(fds[t] for t in targets), *extra])
            if not readable([conn.fileno()], 10):
                raise KernelError(f"{_name(daemon)} did not answer")
            reply, got, _flags, _addr = socket.recv_fds(conn, 256, 1)
    except BaseException:
        if reported:
            os.close(status_fd)
        raise
    finally:
        if reported:
            os.close(status_w)
    if reply != b"ok" or len(got) != 1:
        for fd in got:
            os.close(fd)
        if reported:
            os.close(status_fd)
        detail = reply.decode(errors="replace") or "no answer"
        raise KernelError(f"{_name(daemon)}: {detail} starting {argv[0]}")
    return HeldProcess.of_pidfd(got[0], status_fd=status_fd)


def _name(daemon: str) -> str:
    return daemon if daemon in SOCKETS else "containerd-shim"


def _connect(sb: Sandbox, daemon: str) -> socket.socket:
    """A connection to a stand-in's socket (started first when it is gone) or a shim's."""
    path = SOCKETS.get(daemon, daemon)
    try:
        return _open(sb, path)
    except (FileNotFoundError, ConnectionRefusedError):
        if daemon not in SOCKETS:
            raise KernelError("the container's shim is gone") from None
    with _restarting:  # one restart at a time: two would race for the socket's path
        try:
            return _open(sb, path)  # another thread has just started it again
        except (FileNotFoundError, ConnectionRefusedError):
            r = sb.run("host", STANDINS[daemon], student=True, timeout=10)
        try:
            return _open(sb, path)
        except (FileNotFoundError, ConnectionRefusedError):
            detail = r.stderr.decode(errors="replace").strip() or f"exit {r.returncode}"
            raise KernelError(f"{daemon} is gone from the sandbox, starting it failed: {detail}") from None


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_SYS_OPENAT2, _RESOLVE_NO_MAGICLINKS, _RESOLVE_IN_ROOT = 437, 0x02, 0x10
_libc = ctypes.CDLL(None, use_errno=True)


def _open(sb: Sandbox, path: str) -> socket.socket:
    """Connect to the socket at `path` in the Docker host. The student owns its files: the path is
    resolved with the Docker host's root as / (openat2's RESOLVE_IN_ROOT), so no symlink of theirs
    can lead the daemon to a socket of the machine."""
    root = os.open(f"/proc/{sb.host_pid}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        how = _OpenHow(os.O_PATH | os.O_CLOEXEC, 0, _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS)
        name = path.lstrip("/").encode()
        fd = _libc.syscall(_SYS_OPENAT2, root, name, ctypes.byref(how), ctypes.sizeof(how))
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
    finally:
        os.close(root)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
    try:
        conn.connect(f"/proc/self/fd/{fd}")
    except BaseException:
        conn.close()
        raise
    finally:
        os.close(fd)
    return conn
