"""Kernel side of the emulated engine: container processes, veths, bridges and rule programs.

Every step runs inside the sandbox (nsenter as the sandbox's root), so nothing here can touch the
machine's own namespaces or files.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from topology.docker import capabilities
from topology.docker.model import PortBinding, Privileges
from topology.docker.spawner import HeldProcess, KernelError, spawn
from topology.docker.terminal import write_all
from topology.fdwait import readable
from topology.sandbox import USR_ETC, USR_ROOT_ARGS, Sandbox, child_pids, parent_pid, student_env

CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GUEST = "nslab-guest"  # spawn_container's `program` for the guest binary (the web servers' stand-in)


def random_veth() -> str:
    """Docker's host-side veth name: veth + 7 hex characters."""
    return "veth" + secrets.token_hex(4)[:7]


def exit_status(returncode: int) -> int:
    """The status Docker reports for a process (containerd's exit status): its exit code, or 128 plus
    the signal that killed it (Popen's -N), so a SIGSEGV is 139 and a SIGKILL 137."""
    return returncode if returncode >= 0 else 128 - returncode


def host_script(sb: Sandbox, script: str, *, timeout: float = 20) -> str:
    """Run a shell script in the Docker host's network namespace; raise KernelError on failure."""
    r = sb.run("host", ["sh", "-ec", script], timeout=timeout)
    if r.returncode != 0:
        raise KernelError((r.stderr or b"").decode(errors="replace").strip() or f"exit {r.returncode}")
    return r.stdout.decode(errors="replace")


def iptables_save(sb: Sandbox) -> str:
    """The Docker host's IPv4 ruleset."""
    return iptables_save_started(sb)()


def iptables_save_started(sb: Sandbox):
    """Start reading the Docker host's ruleset; the returned function waits for it."""
    proc = sb.popen(
        [*sb.nsenter_argv("host"), "iptables-save"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def result() -> str:
        out, err = proc.communicate(timeout=20)
        if proc.returncode != 0:
            raise KernelError(err.decode(errors="replace").strip() or "iptables-save failed")
        return out.decode()

    return result


def heredoc(command: str, body: str) -> str:
    """`command` fed with `body` on stdin, as shell text."""
    if not body.strip():
        return ""
    tag = "NSLAB_" + secrets.token_hex(4).upper()
    return f"{command} <<'{tag}'\n{body.rstrip()}\n{tag}\n"


def restore(rules: str, netns: str = "") -> str:
    """Shell text that applies an iptables-restore --noflush program (in another netns when a /proc
    path is given)."""
    prefix = f"nsenter --net={netns} " if netns else ""
    return heredoc(f"{prefix}iptables-restore --noflush -w", rules)


def ip_batch(lines: list[str], netns_path: str = "") -> str:
    """Shell text running `ip -batch` (inside another netns when a /proc path is given)."""
    prefix = f"nsenter --net={netns_path} " if netns_path else ""
    return heredoc(f"{prefix}ip -batch -", "\n".join(lines))


IFINDEX_MARK = "nslab-ifindex"


def indexed_links(create: str, *, count: int, last: int, then: tuple[str, ...] = ()) -> str:
    """Shell text running `ip -batch` with `create`, a line making `count` links of the Docker host
    (`{0}`, `{1}`... where each one's index goes), with the indexes its kernel would give them: above
    every link's and above `last`, the highest given before (the kernel's counter never goes back).
    That is how a veth pair created with its peer straight in a container's namespace gets Docker's
    numbers (eth0 N, its host veth N+1, as after a move of the peer, which would cost ~17 ms more).
    Prints IFINDEX_MARK and the highest index used; if an index is taken after all (a link made
    meanwhile), the kernel picks them. The scan reads sysfs with shell builtins (no process); the
    batch goes on with the lines `then`."""
    indexed = "\n".join([create.format(*(f" index $((ifindex + {k}))" for k in range(count))), *then])
    kernel_picks = ip_batch([create.format(*[""] * count), *then])
    return (
        f"ifindex={last}\n"
        "for f in /sys/class/net/*/ifindex; do\n"
        '  if read i < "$f" && [ "$i" -gt "$ifindex" ]; then ifindex=$i; fi\n'
        "done\n"
        "ifindex=$((ifindex + 1))\n"
        # An unquoted here-document: the shell expands the indexes.
        f"{{ ip -batch - 2>/dev/null <<NSLAB_INDEXED\n{indexed}\nNSLAB_INDEXED\n}}"
        f' && echo "{IFINDEX_MARK} $((ifindex + {count - 1}))" || {kernel_picks}'
    )


def highest_ifindex(output: str) -> int:
    """The highest index an `indexed_links` script printed (0 if none)."""
    marks = [int(line.split()[1]) for line in output.splitlines() if line.startswith(IFINDEX_MARK + " ")]
    return max(marks, default=0)


def bridge_up_script(
    *, bridge: str, mac: str, gateway: str, prefixlen: int, mtu: int = 0, last_ifindex: int | None = None
) -> tuple[str, str]:
    """Shell text creating a Docker bridge (before its rules) and bringing it up (after them); the
    kernel picks its index when `last_ifindex` is None (docker0: the sandbox's own links may still
    be in the making then)."""
    # dockerd's netlink request carries IFLA_TXQLEN 0 (a LinkAttrs literal's zero TxQLen): no "qlen 1000".
    create = f"link add name {bridge}{{0}} address {mac} txqueuelen 0 type bridge"
    rest = [f"link set dev {bridge} mtu {mtu}"] if mtu else []
    rest.append(f"addr add {gateway}/{prefixlen} brd + dev {bridge}")
    if last_ifindex is None:
        make = ip_batch([create.format("")])
    else:
        make = indexed_links(create, count=1, last=last_ifindex)
    before = make + f"echo 0 > /proc/sys/net/ipv6/conf/{bridge}/accept_ra\n" + ip_batch(rest)
    return before, ip_batch([f"link set {bridge} up"])


def mount_sysfs(sb: Sandbox, proc: ContainerProcess) -> str:
    """Shell text putting, as Docker does, a read-only sysfs of the container's network namespace on
    its /sys (`/sys/class/net/eth0/iflink` names the host-side veth), once bwrap has built its root
    (the guest's nslab-sysfs waits for that)."""
    return f"{sb.guest} nslab-sysfs {proc.host_pid} '{proc.blocked}'"


class ContainerProcess:
    """A running container: bwrap inside the Docker host's namespaces, held by the daemon."""

    def __init__(
        self,
        proc: HeldProcess,
        inner_pid: int,
        host_pid: int,
        block_w: int,
        block_fd: int,
        shim_status: int = -1,
    ):
        self.proc = proc  # the container's shim
        self.shim_status = shim_status  # the shim's copy of its status pipe's read end (live-restore)
        self.inner_pid = inner_pid  # as the student sees it
        self.host_pid = host_pid  # as the daemon sees it
        self._block_w = block_w
        # /proc/PID/syscall's start while bwrap's child waits on --block-fd: its setup is done.
        self.blocked = f"0 {block_fd:#x}"

    def release(self) -> None:
        """Let the container's command start (its network is ready). bwrap's monitor ends first, as
        runc exits once it has made the container: its first process becomes the shim's child."""
        if self._block_w >= 0:
            self._end_monitor()
            try:
                os.write(self._block_w, b"1")
            except BrokenPipeError:
                pass  # killed before its release (a failed start): nothing waits any more
            os.close(self._block_w)
            self._block_w = -1

    def _end_monitor(self) -> None:
        """SIGKILL bwrap's monitor (the parent bwrap keeps) once the container is built and waits."""
        try:
            self.wait_set_up()
        except KernelError:
            return  # it failed to start: nothing to detach
        monitor = parent_pid(self.host_pid)
        if not monitor or _binary(f"/proc/{monitor}/exe") != _bwrap():
            return
        try:
            pidfd = os.pidfd_open(monitor)
        except ProcessLookupError:
            return
        try:
            if parent_pid(self.host_pid) == monitor:  # still that process, not a reused pid
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        finally:
            os.close(pidfd)

    def wait_set_up(self, timeout: float = 5.0) -> None:
        """Wait until bwrap has built the container (namespaces, loopback, mounts) and blocks."""
        if self._block_w < 0:
            return  # released: its command runs
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{self.host_pid}/syscall") as f:
                    if f.read().startswith(self.blocked + " "):
                        return
            except OSError:
                raise KernelError("the container failed to start") from None
            time.sleep(0.0005)
        raise KernelError("the container did not start in time")

    def wait_started(self, timeout: float = 5.0) -> None:
        """Wait until the container's command runs (bwrap's child has exec'd it), as `docker run`
        returns once runc has started the process: until then its root is still being built."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _binary(f"/proc/{self.host_pid}/exe") == _bwrap():
            time.sleep(0.0005)

    @property
    def netns(self) -> str:
        return f"/proc/{self.host_pid}/ns/net"


@functools.cache
def _bwrap() -> tuple[int, int] | None:
    """bwrap's (device, inode): the program a container's process runs until it execs its command."""
    return _binary(shutil.which("bwrap") or "/usr/bin/bwrap")


def _binary(path: str) -> tuple[int, int] | None:
    """The (device, inode) of the file at `path` (a /proc/PID/exe: the program PID runs); None when
    it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def spawn_container(
    sb: Sandbox,
    *,
    cid: str,
    argv: list[str],
    hostname: str,
    files: dict[str, str],
    new_netns: bool,
    join_pid: int = 0,
    stdio: tuple[int, int, int] | None = None,
    env: dict[str, str] | None = None,
    tty: bool = False,
    privileges: Privileges | None = None,
    program: str = "",
    workdir: str = "",
) -> ContainerProcess:
    """Start a container's process, blocked until `release()`; its stdout goes to its log file.

    With `tty`, stdio is a fresh pty that becomes the process's controlling terminal, as runc does.
    bwrap keeps every capability; nslab-confine, the container's first program, sets Docker's.
    `program` is the file run with `argv` (GUEST: the guest binary); by default argv[0] in PATH.
    Another `program` stands for the image's own file of that name (busybox for the busybox and
    alpine images' applets): it is mounted over the one the container's PATH finds, so that the
    process runs under that name (its comm, /proc/PID/exe), as in the image. It starts in `workdir`
    (made when missing, as moby does), else in /."""
    # The container's own files travel through pipes into bwrap (--file), never through host paths.
    args = [
        "--unshare-pid",
        "--unshare-uts",
        "--unshare-ipc",
        "--as-pid-1",
        "--hostname",
        hostname,
        # A session of its own; `setsid -c` (it stays pid 1) also makes its pty the controlling terminal.
        *([] if tty else ["--new-session"]),
        "--cap-add",
        "ALL",
    ]
    # bwrap runs it in the container's root, where the guest binary has no path: through an fd (which
    # nslab-confine closes on its exec, so setsid runs first).
    guest_fd = _guest_fd(sb.guest)
    guest = f"/proc/self/fd/{guest_fd}"
    confine = confinement(sb, privileges or Privileges())
    found = shutil.which(argv[0], path=CONTAINER_PATH) if program not in ("", GUEST) else None
    image_file = os.path.realpath(found) if found and "/" not in argv[0] else ""
    if image_file.startswith("/usr/"):  # the container's /usr is the Docker host's, as here
        image_file_args, program = ["--ro-bind", program, image_file], ""
    else:
        image_file_args = []
    argv = [*confine.argv(guest, program=guest if program == GUEST else program), *argv]
    if tty:
        argv = ["setsid", "-c", *argv]
    if new_netns:
        args.append("--unshare-net")
    # The Docker host's sysfs: what --net=host sees; the others get one of their namespace (mount_sysfs).
    args += ["--ro-bind", "/sys", "/sys"]
    args += [
        *USR_ROOT_ARGS,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/run",
        "--dir",
        "/root",
        "--dir",
        "/var/log",
        "--symlink",
        "../run",
        "/var/run",
    ]
    for name in USR_ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += image_file_args
    pipes: list[int] = []
    keep: list[int] = []
    for dest, text in files.items():
        r, w = os.pipe()
        os.write(w, text.encode())
        os.close(w)
        pipes.append(r)
        args += ["--file", str(r), dest]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    info_r, info_w = os.pipe()
    block_r, block_w = os.pipe()
    args_r, args_w = os.pipe()
    # The command stays on bwrap's command line: bwrap takes only options from --args.
    workdir = ["--dir", workdir, "--chdir", workdir] if workdir else ["--chdir", "/"]  # moby makes it
    args += ["--info-fd", str(info_w), "--block-fd", str(block_r), *workdir]
    keep = [info_w, block_r, args_r, *pipes, guest_fd, *confine.fds()]
    log = f"/var/lib/docker/containers/{cid}-json.log"
    # The shim (the container's parent, as `ps` shows it) runs bwrap from a pipe, logging unless attached.
    shim_r, shim_w = os.pipe()
    status_r, status_w = os.pipe()
    keep += [shim_r, status_w]
    keep.append(status_r)  # the shim keeps a copy, which a restarted daemon takes back
    shim_env = student_env(
        NSLAB_SHIM_ARGV=str(shim_r),
        NSLAB_SHIM_STATUS=str(status_w),
        NSLAB_SHIM_STATUS_READ=str(status_r),
        NSLAB_SHIM_SOCKET=shim_socket(cid),
        **({} if stdio else {"NSLAB_SHIM_LOG": log}),
    )
    if join_pid:  # --net=container:: the shim enters that container's network namespace for bwrap
        netns = os.open(f"/proc/{join_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        keep.append(netns)
        shim_env["NSLAB_SHIM_NETNS"] = str(netns)
    fds = {fd: fd for fd in keep}
    if stdio:
        fds.update(zip((0, 1, 2), stdio, strict=True))
    try:
        proc = spawn(
            sb,
            "containerd",
            shim_argv(sb.docker_version, cid),
            fds=fds,
            env=shim_env,
            sibling=sb.docker_version != "19.03",
            status_fd=status_r,
        )
    except BaseException:
        for fd in (*keep, shim_w, args_w, info_r, block_w):
            os.close(fd)
        raise
    # bwrap reads its arguments from a pipe; write them after it started (they may exceed a pipe buffer).
    # The shim's first (it starts bwrap at its EOF), then bwrap's.
    for r, w, words in (
        (shim_r, shim_w, ["bwrap", "--args", str(args_r), "--", *argv]),
        (args_r, args_w, args),
    ):
        os.close(r)
        write_all(w, b"".join(a.encode() + b"\0" for a in words))
        os.close(w)
    for fd in (info_w, block_r, status_w, *pipes, *([netns] if join_pid else [])):
        os.close(fd)
    try:
        inner = _read_child_pid(info_r, proc)
        host_pid = _host_pid_of(proc.pid, inner)
    except BaseException:
        os.close(block_w)
        stop_process_tree(proc)
        raise
    finally:
        os.close(info_r)
    return ContainerProcess(proc, inner, host_pid, block_w, block_r, shim_status=status_r)


def shim_socket(cid: str) -> str:
    """Where a container's shim takes the daemon's `docker exec` requests (containerd 1.7's shims
    listen in /run/containerd/s/)."""
    return f"/run/containerd/s/{cid}"


def start_exec(
    sb: Sandbox, cid: str, argv: list[str], *, host_pid: int, fds: list[int], stdio: tuple[int, int, int], env
) -> HeldProcess:
    """Have the container's shim start a `docker exec` process (argv from `exec_argv`) as its child in
    the container's pid namespace, as runc exec leaves it; `host_pid` is the container's first process,
    `stdio` the process's fds 0-2 (-1: /dev/null)."""
    pidns = os.open(f"/proc/{host_pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        given = {fd: fd for fd in fds} | {n: fd for n, fd in enumerate(stdio) if fd >= 0}
        return spawn(sb, shim_socket(cid), argv, fds=given, env=env, pidns_fd=pidns)
    finally:
        os.close(pidns)


def shim_argv(version: str, cid: str) -> list[str]:
    """The containerd shim's command line, as `ps` shows it on a Docker host of `version`: 19.03's
    containerd (1.2/1.3) runs the v1 shim, 28's the runc v2 shim."""
    address = ["-address", "/run/containerd/containerd.sock"]
    if version == "19.03":
        return [
            "containerd-shim",
            "-namespace",
            "moby",
            "-workdir",
            f"/var/lib/containerd/io.containerd.runtime.v1.linux/moby/{cid}",
            *address,
            "-containerd-binary",
            "/usr/bin/containerd",
            "-runtime-root",
            "/var/run/docker/runtime-runc",
        ]
    # containerd 1.7 runs the v2 shim by its path
    return ["/usr/local/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", cid, *address]


def confinement(sb: Sandbox, privileges: Privileges, *, exec_privileged: bool = False):
    """A container process's capabilities and seccomp filter (compiled beside the guest binary)."""
    directory = Path(sb.guest).parent
    return capabilities.confinement(privileges, sb.docker_version, directory, exec_privileged=exec_privileged)


def exec_argv(
    sb: Sandbox,
    privileges: Privileges,
    *,
    pid: int,
    privileged: bool,
    workdir: str = "",
    tty: bool = False,
    report: int = -1,
) -> tuple[list[str], list[int]]:
    """The command prefix and the fds of a `docker exec` process (see `start_exec`): nslab-confine
    enters the container of `pid` (the Docker host's pid of its first process), in `workdir` if given,
    with its stdin as controlling terminal with `tty`, and gives the process its container's
    confinement; why runc would not start the command is reported on fd `report` (see `exec_report`)."""
    confine = confinement(sb, privileges, exec_privileged=privileged)
    guest_fd = _guest_fd(sb.guest)  # the Docker host has no path to it
    fds = [guest_fd, *confine.fds(), *([report] if report >= 0 else [])]
    guest = f"/proc/self/fd/{guest_fd}"
    return confine.argv(guest, join=pid, workdir=workdir, report=report, session=tty), fds


def exec_report(fd: int) -> str:
    """nslab-confine's report of a command it could not start ("" once the command runs), read until
    then; closes `fd`."""
    data = b""
    try:
        while chunk := os.read(fd, 4096):
            data += chunk
    finally:
        os.close(fd)
    return data.decode(errors="replace").strip()


@functools.cache
def _guest_fd(path: str) -> int:
    """An fd of the guest binary, which a container's process runs as /proc/self/fd/N."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def _read_child_pid(fd: int, proc: subprocess.Popen, timeout: float = 10) -> int:
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return json.loads(buf)["child-pid"]
        except (ValueError, KeyError):
            pass
        left = deadline - time.monotonic()
        if left <= 0 or not readable([fd], left):
            raise KernelError("the container did not start in time")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise KernelError(f"the container failed to start (exit {proc.wait()})")
        buf += chunk


def _host_pid_of(root: int, inner: int) -> int:
    """Find the daemon-side pid of the process that the Docker host's pid namespace calls `inner`."""
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for kid in kids:
            try:
                with open(f"/proc/{kid}/status") as f:
                    nspid = next(line.split()[1:] for line in f if line.startswith("NSpid:"))
            except (OSError, StopIteration):
                continue
            if len(nspid) >= 3 and int(nspid[2]) == inner:
                return kid
            stack.append(kid)
    raise KernelError("lost the container's process")


def start_proxy(sb: Sandbox, binding: PortBinding, *, container_ip: str) -> tuple[HeldProcess, int]:
    """Have dockerd start docker-proxy for a bound port; return it and the fd of its readiness (its
    fd 3 in the proxy)."""
    r, w = os.pipe()
    argv = [
        "/usr/local/bin/docker-proxy",
        "-proto",
        binding.proto,
        "-host-ip",
        binding.host_ip,
        "-host-port",
        str(binding.host_port),
        "-container-ip",
        container_ip,
        "-container-port",
        str(binding.container_port),
        # 28's daemon binds the port and passes the socket; here the proxy binds it (same line in ps)
        *(["-use-listen-fd"] if sb.docker_version != "19.03" else []),
    ]
    try:
        return spawn(sb, "dockerd", argv, fds={3: w}), r
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)


def stop_process_tree(proc: HeldProcess) -> None:
    """SIGKILL a process the stand-ins started and everything below it (a shim's bwrap and container),
    the lowest first, then wait for it."""
    pids, stack = [], child_pids(proc.pid)
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(child_pids(pid))
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.kill()
    proc.wait(timeout=5)


def wait_proxy(proc: subprocess.Popen, fd: int, timeout: float = 16) -> str:
    """Wait for docker-proxy's status: "" when it listens, else its error text."""
    try:
        if not readable([fd], timeout):
            return "timed out starting the userland proxy"
        data = os.read(fd, 4096).decode(errors="replace")
    finally:
        os.close(fd)
    if data.startswith("0"):
        return ""
    proc.wait()
    return data[2:].strip() or "proxy exited"
