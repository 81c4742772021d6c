"""Sandboxes: a student's Docker host and its outside world, in namespaces of their own.

A sandbox is one process tree (see docs/architecture.md): a keeper that is pid 1 of the sandbox's
outer pid namespace and root in its outer user namespace, whose network namespace is the router;
the remote server and the external client in namespaces the keeper holds; and, under bwrap, the
student's Docker host in a child user namespace. Killing the keeper's parent frees everything.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from topology import limits, seccomp
from topology.errors import NamespaceNotFound, SandboxStartError
from topology.fdwait import readable
from topology.paths import SCRIPTS_DIR

HOSTNAME = "docker-host"
# bwrap arguments of a minimal root: the machine's /usr read-only and the usual links into it.
USR_ROOT_ARGS = (
    *("--ro-bind", "/usr", "/usr"),
    *("--symlink", "usr/bin", "/bin"),
    *("--symlink", "usr/sbin", "/sbin"),
    *("--symlink", "usr/lib", "/lib"),
    *("--symlink", "usr/lib64", "/lib64"),
)
# Per sandbox, in its outer user namespace: the student cannot raise these.
NAMESPACE_LIMIT = 64
SYS_PIDFD_GETFD = 438  # the same number on every architecture
STUDENT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
START_TIMEOUT = 20.0

# Host files that a root made of the host's /usr needs (loader cache, name services, iproute2's
# tables): the Docker host and the emulated containers show them read-only.
USR_ETC = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "protocols",
    "services",
    "nsswitch.conf",
    "iproute2",
    "localtime",
)
# Host files the student's root shows read-only (besides /usr): those, and the shell's settings.
HOST_ETC = (*USR_ETC, "ethertypes", "bash.bashrc", "inputrc", "mime.types")
# The Docker host's /etc/hosts and /etc/resolv.conf (a `--network host` container sees the same);
# the resolver is on the outside world's documentation network.
HOST_HOSTS = (
    f"127.0.0.1\tlocalhost\n127.0.1.1\t{HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
)
HOST_RESOLV_CONF = "nameserver 198.51.100.53\n"


@dataclass
class Sandbox:
    """A live sandbox, addressed by the host pids of its processes."""

    id: str
    docker_version: str
    root_uid: int  # the host uid that is root inside the sandbox
    holder_pid: int  # `unshare`, the keeper's parent (it exits when the keeper dies)
    keeper_pid: (
        int  # pid 1 of the outer pid namespace (SIGKILL destroys the sandbox); its netns is the router
    )
    keeper_start: int  # the keeper's start time in clock ticks, to tell it from a recycled pid
    host_pid: int  # pid 1 of the Docker host's pid namespace (bwrap's reaper)
    directory: str
    created: float
    cgroup: str = ""  # relative cgroup path when limits are applied
    guest: str = ""  # the daemon's nslab-guest binary (topology.guest), which starts its processes
    listener_fd: int = 0  # the holder's copy of the daemon's docker.sock listener (held_listener)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Sandbox:
        """The sandbox `to_dict` described (a previous daemon's, for live-restore)."""
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})

    # -- entering namespaces -------------------------------------------------------------

    def nsenter_argv(self, ns: str, *, student: bool = False, pid: int = 0) -> list[str]:
        """The nsenter prefix that runs a command in namespace `ns` (host, router, remote, client).

        With `student=True` the command also gets the Docker host's pid, mount, uts and ipc
        namespaces and its root, as a shell of the student's would. `pid` targets a container.
        """
        if pid:
            return [
                "nsenter",
                "-t",
                str(pid),
                "-U",
                "-n",
                "-p",
                "-m",
                "-u",
                "-i",
                "-r",
                "-w",
                "--preserve-credentials",
                "--",
            ]
        if ns == "host":
            argv = ["nsenter", "-t", str(self.host_pid), "-U", "-n", "--preserve-credentials"]
            if student:
                argv[6:6] = ["-p", "-m", "-u", "-i", "-r", "-w"]
            return [*argv, "--"]
        if ns == "router":
            return [
                "nsenter",
                "-t",
                str(self.keeper_pid),
                "-U",
                "-n",
                "-p",
                "-m",
                "--preserve-credentials",
                "--",
            ]
        if ns in ("remote", "client"):
            return [
                "nsenter",
                "-t",
                str(self.keeper_pid),
                "-U",
                "-p",
                "-m",
                f"--net=/proc/{self.keeper_pid}/root/run/netns/{ns}",
                "--preserve-credentials",
                "--",
            ]
        raise NamespaceNotFound(ns)

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        """Start a process as the sandbox's root user, charged to the sandbox's cgroup."""
        env = kwargs.pop("env", None) or student_env()
        kwargs.setdefault("start_new_session", True)  # outlives a signal to the daemon's group
        return _popen_as_root(self.guest, self.root_uid, self.cgroup, argv, env=env, **kwargs)

    def run(
        self,
        ns: str,
        argv: list[str],
        *,
        input: bytes | str | None = None,
        student: bool = False,
        pid: int = 0,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess:
        """Run `argv` in namespace `ns` of this sandbox and collect its output."""
        text = isinstance(input, str)
        proc = self.popen(
            [*self.nsenter_argv(ns, student=student, pid=pid), *argv],
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=text,
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def proc_root(self) -> Path:
        """The Docker host's root directory, as the daemon reaches it."""
        return Path(f"/proc/{self.host_pid}/root")

    def alive(self) -> bool:
        """True while the sandbox's keeper runs."""
        return start_time(self.keeper_pid) == self.keeper_start

    def held_listener(self) -> socket.socket:
        """The sandbox's docker.sock listener, from its holder (a restarted daemon takes it back:
        the socket never stopped listening, so a `docker` command typed meanwhile only waited)."""
        if not self.listener_fd or parent_pid(self.keeper_pid) != self.holder_pid:
            raise SandboxStartError(f"sandbox {self.id}: no docker.sock held")
        pidfd = os.pidfd_open(self.holder_pid)
        try:
            fd = pidfd_getfd(pidfd, self.listener_fd)
        finally:
            os.close(pidfd)
        listener = socket.socket(fileno=fd)
        if listener.getsockname() != str(Path(self.directory) / "docker.sock"):
            listener.close()
            raise SandboxStartError(f"sandbox {self.id}: fd {self.listener_fd} is not its docker.sock")
        return listener

    def destroy(self) -> None:
        """Kill every process of the sandbox; the kernel frees its namespaces."""
        kill_keeper(self.keeper_pid, self.keeper_start)


def student_env(**extra: str) -> dict[str, str]:
    """The environment of commands run inside a sandbox."""
    env = {
        "PATH": STUDENT_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "XTABLES_LOCKFILE": "/run/xtables.lock",
    }
    env.update(extra)
    return env


def _popen_as_root(
    guest: str, uid: int, cgroup: str, argv: list[str], *, lab_filter: bool = True, **kwargs
) -> subprocess.Popen:
    """Start `argv` in the sandbox's cgroup as its root uid, under the lab's seccomp filter: through
    the guest binary's nslab-enter, exec'd rather than run as a preexec_fn, so that Popen can vfork (a
    fork of the daemon, a thread per lab, costs milliseconds)."""
    procs = limits.procs_files(cgroup) if cgroup else []
    confine = []
    if lab_filter:
        fd = seccomp.lab_filter_fd(Path(guest).parent)
        kwargs["pass_fds"] = (*kwargs.get("pass_fds", ()), fd)
        confine = ["-f", str(fd)]
    return subprocess.Popen(
        ["nslab-enter", *confine, str(uid), *procs, "--", *argv], executable=guest, **kwargs
    )


def child_pids(pid: int) -> list[int]:
    """The pids of a process's children (empty when it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _nspid(pid: int) -> list[int]:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(p) for p in line.split()[1:]]
    return []


def _bwrap_args(directory: Path, version: str, guest: Path) -> list[str]:
    """The arguments that make the student's Docker host (passed to bwrap through a file)."""
    args = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-ipc",
        "--unshare-cgroup-try",
        "--as-pid-1",
        "--hostname",
        HOSTNAME,
        "--cap-add",
        "ALL",
        "--die-with-parent",
        *USR_ROOT_ARGS,
        "--bind",
        "/run/etc",
        "/etc",
    ]
    for name in HOST_ETC:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--ro-bind",
        "/run/sys",
        "/sys",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/run",
        "--dir",
        "/run/netns",
        "--dir",
        "/run/docker/netns",
        "--dir",
        "/var/lib/docker/containers",
        "--dir",
        "/var/log",
        "--dir",
        "/var/tmp",
        "--symlink",
        "../run",
        "/var/run",
        "--dir",
        "/root",
        "--chmod",
        "0700",
        "/root",
        "--tmpfs",
        "/usr/local",
        "--ro-bind",
        str(guest),
        "/usr/local/sbin/init",
        "--ro-bind",
        str(guest),
        "/usr/local/bin/docker",
        "--ro-bind",
        str(guest),
        "/usr/local/bin/docker-proxy",
        "--ro-bind",
        str(guest),
        "/usr/local/sbin/nslab-pty",
    ]
    for name in ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2"):  # for `ps`
        args += ["--ro-bind", str(guest), f"/usr/local/bin/{name}"]
    args += [
        "--bind",
        str(directory / "docker.sock"),
        "/run/docker.sock",
        "--setenv",
        "PATH",
        STUDENT_PATH,
        "--setenv",
        "HOME",
        "/root",
        "--setenv",
        "NSLAB_DOCKER_VERSION",
        version,
        "--chdir",
        "/",
    ]
    return args


def _etc_files(directory: Path) -> None:
    """The Docker host's own /etc files (copied into the sandbox at start)."""
    etc = directory / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    files = {
        "hostname": f"{HOSTNAME}\n",
        "hosts": HOST_HOSTS,
        "resolv.conf": HOST_RESOLV_CONF,
        "passwd": "root:x:0:0:root:/root:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        "group": "root:x:0:\nnogroup:x:65534:\n",
        "shells": "/bin/sh\n/bin/bash\n",
        "os-release": 'PRETTY_NAME="nslab Docker host (Debian GNU/Linux 12)"\nNAME="Debian GNU/Linux"\n'
        'VERSION_ID="12"\nID=debian\n',
        "profile": 'export PS1="\\u@\\h:\\w# "\n',
    }
    for name, text in files.items():
        (etc / name).write_text(text)


def create(
    sandbox_id: str,
    *,
    docker_version: str,
    host_script: str,
    directory: Path,
    root_uid: int,
    map_range: int,
    guest: Path,
    cgroup: str = "",
    listener: socket.socket | None = None,
) -> Sandbox:
    """Build a sandbox; `host_script` runs inside the new Docker host before it counts as ready.

    `guest` is the binary that the sandbox runs as `docker` and `docker-proxy` (see topology.guest).
    `listener`, the daemon's docker.sock, is held by the sandbox's holder too (not by the keeper or
    anything below it), so that it outlives the daemon (see Sandbox.held_listener).
    """
    directory.mkdir(parents=True, exist_ok=True)
    _etc_files(directory)
    (directory / "bwrap.args").write_bytes(
        b"".join(a.encode() + b"\0" for a in _bwrap_args(directory, docker_version, guest))
    )
    init = (
        "set -e\nmount -t sysfs sysfs /sys\n"
        + host_script
        + "\necho docker-ready >&6\nexec 6>&- 8<&- 2>/dev/null </dev/null >/dev/null\n"
        + "exec /usr/local/sbin/init\n"
    )
    (directory / "host-init.sh").write_text(init)
    log = open(directory / "keeper.log", "wb")  # noqa: SIM115 - handed to the child, closed below
    # The keeper loads the lab's filter once it is root in its user namespace (its uid mapped): there
    # the kernel lets it without no_new_privs, which would keep an unprivileged daemon's keeper from
    # gaining its namespace's capabilities at that exec.
    lab_filter = seccomp.lab_filter_fd(guest.parent)
    held = [listener.fileno()] if listener else []
    keeper = (
        "".join(f"exec {fd}>&-; " for fd in held)
        + f"read go && exec {guest} nslab-enter -f {lab_filter} 0 -- sh {SCRIPTS_DIR / 'keeper.sh'} "
        f"{directory / 'bwrap.args'} "
        f'{directory / "host-init.sh"} {NAMESPACE_LIMIT} "0 0 {map_range}" {directory / "etc"} {guest}'
    )
    proc = _popen_as_root(
        str(guest),
        root_uid,
        cgroup,
        [
            "unshare",
            "--user",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--mount-proc",
            "--net",
            "--propagation",
            "private",
            "--",
            "bash",  # dash cannot name fds above 9
            "-c",
            keeper,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        env=student_env(),
        close_fds=True,
        pass_fds=(lab_filter, *held),
        lab_filter=False,
        start_new_session=True,  # nothing aimed at the daemon's session or group reaches the sandbox
    )
    log.close()
    try:
        keeper_pid = _wait_userns(proc.pid)
        _write_map(proc.pid, root_uid, map_range)
        proc.stdin.write(b"go\n")
        proc.stdin.close()
        lines = _read_progress(proc, {"host", "outside-ready", "docker-ready"})
        host_inner = int(lines["host"].split()[1])
        host_pid = _find_descendant(keeper_pid, lambda p: _nspid(p)[1:2] == [host_inner])
    except Exception as exc:
        for pid in child_pids(proc.pid):
            kill_keeper(pid, start_time(pid))
        proc.kill()
        proc.wait()
        detail = (directory / "keeper.log").read_text(errors="replace")[-2000:]
        raise SandboxStartError(f"sandbox {sandbox_id} failed to start: {exc}\n{detail}") from exc
    proc.stdout.close()
    return Sandbox(
        id=sandbox_id,
        docker_version=docker_version,
        root_uid=root_uid,
        holder_pid=proc.pid,
        keeper_pid=keeper_pid,
        keeper_start=start_time(keeper_pid),
        host_pid=host_pid,
        directory=str(directory),
        created=time.time(),
        cgroup=cgroup,
        guest=str(guest),
        listener_fd=held[0] if held else 0,
    )


def _wait_userns(pid: int) -> int:
    """Wait until `unshare` has made its namespaces and forked the keeper; return the keeper's pid."""
    deadline = time.monotonic() + START_TIMEOUT
    own = os.stat("/proc/self/ns/user").st_ino
    while time.monotonic() < deadline:
        try:
            if os.stat(f"/proc/{pid}/ns/user").st_ino != own and (kids := child_pids(pid)):
                return kids[0]
        except FileNotFoundError as exc:
            raise SandboxStartError("unshare exited early") from exc
        time.sleep(0.0002)
    raise SandboxStartError("timed out waiting for the sandbox's user namespace")


def _write_map(pid: int, root_uid: int, count: int) -> None:
    if count == 1:
        with open(f"/proc/{pid}/setgroups", "w") as f:
            f.write("deny")
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 {root_uid} {count}\n")


def _read_progress(proc: subprocess.Popen, wanted: set[str]) -> dict[str, str]:
    """Read the keeper's progress lines until every wanted key has been seen."""
    seen: dict[str, str] = {}
    buf = b""
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + START_TIMEOUT
    while not wanted <= seen.keys():
        left = deadline - time.monotonic()
        if left <= 0 or not readable([fd], left):
            raise SandboxStartError(f"timed out; got {sorted(seen)}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise SandboxStartError(f"keeper exited (status {proc.poll()}); got {sorted(seen)}")
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            text = line.decode()
            seen[text.split()[0]] = text
    return seen


def _find_descendant(pid: int, match, depth: int = 3) -> int:
    for child in child_pids(pid):
        if match(child):
            return child
        if depth > 1 and (found := _find_descendant(child, match, depth - 1)):
            return found
    return 0


def parent_pid(pid: int) -> int:
    """A process's parent, as this pid namespace sees it (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def pidfd_getfd(pidfd: int, fd: int) -> int:
    """A copy of another process's descriptor (pidfd_getfd(2); ptrace rights over it needed)."""
    libc = ctypes.CDLL(None, use_errno=True)
    new = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if new < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pidfd_getfd: {os.strerror(err)}")
    return new


def start_time(pid: int) -> int:
    """A process's start time in clock ticks since boot (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def kill_keeper(pid: int, started: int) -> bool:
    """SIGKILL a sandbox's keeper (the kernel then kills its pid namespaces); False if it was gone."""
    if not pid or start_time(pid) != started:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
