"""The lab-node daemon: owns the sandboxes of one machine and serves its clients over a unix socket.

One long-lived process per lab node, so each sandbox costs only its own processes. Sandboxes outlive
it (live-restore): each engine's state is saved after every change, and the next daemon on the same
state directory re-adopts the sandboxes a predecessor left, reaping (and reporting) only those whose
keeper died or whose state cannot be read. It paces mass teardown (the kernel frees network
namespaces slowly and asynchronously) and serves each sandbox's emulated Docker engine on the
sandbox's docker.sock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from multiprocessing.pool import ThreadPool
from pathlib import Path

from topology import guest, limits, protocol
from topology.docker import commands, liverestore, spawner, state
from topology.docker.engine import Engine
from topology.docker.envfile import ClientFileError, ClientSide
from topology.docker.model import VERSIONS
from topology.errors import NamespaceNotFound, SandboxNotFound, TopologyError, UnsupportedVersion
from topology.fdwait import readable
from topology.namespaces import SANDBOX_NAMESPACES
from topology.paths import UID_BASE, UID_RANGE, daemon_socket, state_dir
from topology.sandbox import Sandbox, create, kill_keeper

log = logging.getLogger("topology.daemon")
TEARDOWN_INTERVAL = 0.03  # seconds between two paced teardowns
LINGER_RETRY = 2.0  # seconds between two attempts to remove the cgroups of a destroyed sandbox
DOOMED = "removing"  # a sandbox directory's mark: down was asked, teardown may not have finished
ADOPT_THREADS = 8  # sandboxes re-adopted at once at start (each waits on /proc, pidfds, sockets)


class LabHandle:
    """The daemon's handle on one running lab: a sandbox with its engine and its docker.sock listener."""

    def __init__(self, sandbox: Sandbox, engine: Engine, listener: socket.socket, owner: str = ""):
        self.sandbox = sandbox
        self.owner = owner  # a free-form label of who asked for it (e.g. a web lab node)
        self.engine = engine
        self.listener = listener
        self.snapshots: dict = {}  # the last collection of each namespace (see snapshot.take's cache)
        self.saving = threading.Lock()  # one writer of the state file at a time, in change order
        self.saved = ""  # what the state file holds

    def save(self) -> None:
        """Write the engine's state to disk (after each change), for a restarted daemon to re-adopt."""
        with self.saving:
            try:
                self.saved = liverestore.save(self.engine, Path(self.sandbox.directory), self.saved)
            except Exception:  # noqa: BLE001 - the command did its work; only a restart would lose it
                if not self.engine.detached:  # else: destroyed with its directory meanwhile
                    log.exception("state of %s not saved", self.sandbox.id)

    def info(self) -> dict:
        return {**self.sandbox.to_dict(), "owner": self.owner, "containers": len(self.engine.containers)}


class Daemon:
    """Creates, lists, runs commands in and destroys sandboxes."""

    def __init__(self, state: Path | None = None):
        self.state = state or state_dir()
        self.labs: dict[str, LabHandle] = {}
        self.lock = threading.Lock()
        self.root = os.geteuid() == 0
        self.cgroups = limits.available()
        self.teardown: queue.Queue[LabHandle] = queue.Queue()
        # sid -> host uid slot, from reservation until the sandbox is destroyed: a sandbox still being
        # torn down keeps its uids, so that its processes can never signal a new sandbox's.
        self.slots: dict[str, int] = {}
        # Destroyed sandboxes whose cgroups a process outside their pid namespaces still holds.
        self.lingering: list[Sandbox] = []
        self.reaped: list[dict] = []  # sandboxes left by a previous daemon that could not be re-adopted
        self.unsaved: queue.Queue[LabHandle] = queue.Queue()  # changed outside a command (an exit)
        self.guest = self.state / "bin" / "nslab-guest"

    # -- lifecycle -----------------------------------------------------------------------

    def claim(self) -> bool:
        """Become the state directory's only daemon, for as long as this process lives; False when
        another one is. Clients that find no daemon each start one (several threads or processes at
        once): without this, the last to bind the socket would win, and an earlier one would reap
        the sandboxes made meanwhile and linger unreachable."""
        self.state.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state / "daemon.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._claim = fd  # held open: the lock goes with the process
        return True

    def prepare(self) -> None:
        """Create the state directory and re-adopt the sandboxes a previous daemon left behind."""
        (self.state / "sandboxes").mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o711)
        os.chmod(self.state / "sandboxes", 0o711)
        self.guest = guest.ensure_built(self.state / "bin")
        os.chmod(self.state / "bin", 0o755)
        if self.cgroups:
            limits.setup_parent()
        left = sorted(d.name for d in (self.state / "sandboxes").iterdir())
        start = time.monotonic()
        with ThreadPool(ADOPT_THREADS) as pool:
            pool.map(self._adopt, left)
        if left:
            took = (time.monotonic() - start) * 1000
            log.info("re-adopted %d of %d sandboxes in %.0f ms", len(self.labs), len(left), took)
        threading.Thread(target=self._teardown_loop, name="teardown", daemon=True).start()
        threading.Thread(target=self._save_loop, name="save", daemon=True).start()

    def _adopt(self, sid: str) -> None:
        """Serve again a sandbox a previous daemon left; reap it (and say why) when that cannot be."""
        directory = self.state / "sandboxes" / sid
        sb = None
        try:
            sb = Sandbox.from_dict(json.loads((directory / "sandbox.json").read_text()))
            if not sb.alive():
                raise state.StateError("its keeper is gone")
            if (directory / DOOMED).exists():
                raise state.StateError("it was being removed")
            listener = sb.held_listener()
            try:
                engine = liverestore.restore(sb, directory)
            except BaseException:
                listener.close()
                raise
        except (state.StateError, OSError, ValueError, TypeError, KeyError, TopologyError) as exc:
            self._reap(sid, sb, str(exc) or type(exc).__name__)
            return
        except Exception as exc:  # noqa: BLE001 - one sandbox must not keep the daemon from serving
            log.exception("re-adopting %s failed", sid)
            self._reap(sid, sb, f"internal error: {exc}")
            return
        lab = LabHandle(sb, engine, listener, "")
        owner = directory / "owner"
        lab.owner = owner.read_text() if owner.exists() else ""
        with self.lock:
            self.labs[sid] = lab
            self.slots[sid] = (sb.root_uid - UID_BASE) // UID_RANGE if self.root else 0
        self._serving(lab)

    def _reap(self, sid: str, sb: Sandbox | None, reason: str) -> None:
        directory = self.state / "sandboxes" / sid
        if sb is not None:
            kill_keeper(sb.keeper_pid, sb.keeper_start)
        shutil.rmtree(directory, ignore_errors=True)
        # Only this state's sandboxes: another daemon's (tests, a bench) may be alive.
        if self.cgroups and limits.relative(sid) in set(limits.leftovers()):
            if sb is None:  # its keeper is unknown: whatever still runs in its cgroups goes
                limits.kill(limits.relative(sid))
            limits.remove(limits.relative(sid), timeout=1)
        log.warning("reaped sandbox %s left by a previous daemon: %s", sid, reason)
        with self.lock:
            self.reaped.append({"id": sid, "reason": reason})

    def up(self, docker_version: str = "19.03", owner: str = "") -> LabHandle:
        """Create a sandbox running the given Docker version, labelled with `owner`."""
        if docker_version not in VERSIONS:
            raise UnsupportedVersion(
                f"Docker {docker_version} is not emulated; choose one of {', '.join(VERSIONS)}"
            )
        with self.lock:
            sid = secrets.token_hex(4)
            used = set(self.slots.values())
            slot = next(i for i in range(len(used) + 1) if i not in used)
            self.labs[sid] = None  # reserve the id
            self.slots[sid] = slot
        directory = self.state / "sandboxes" / sid
        root_uid, map_range = (UID_BASE + slot * UID_RANGE, UID_RANGE) if self.root else (os.geteuid(), 1)
        listener = None
        cgroup = ""
        try:
            directory.mkdir(parents=True)
            os.chmod(directory, 0o711)
            listener = _listen(directory)
            (directory / "owner").write_text(owner)
            if self.cgroups:
                cgroup = limits.create(sid, root_uid)
            engine = Engine(docker_version)
            sandbox = create(
                sid,
                docker_version=docker_version,
                host_script=engine.start_script(),
                directory=directory,
                root_uid=root_uid,
                map_range=map_range,
                guest=self.guest,
                cgroup=cgroup,
                listener=listener,
            )
            spawner.start_standins(sandbox)
            engine.attach(sandbox)
            state.write_atomically(directory / "sandbox.json", sandbox.to_dict())
        except BaseException:
            if listener:
                listener.close()
            shutil.rmtree(directory, ignore_errors=True)
            if cgroup:
                limits.remove(cgroup, timeout=1)
            with self.lock:
                self.labs.pop(sid, None)
                self.slots.pop(sid, None)
            raise
        lab = LabHandle(sandbox, engine, listener, owner)
        lab.save()
        with self.lock:
            self.labs[sid] = lab
        self._serving(lab)
        return lab

    def _serving(self, lab: LabHandle) -> None:
        """Serve the lab's docker.sock; save its state after changes no command made (an exit)."""
        lab.engine.subscribe(
            lambda event: self.unsaved.put(lab) if event["type"] == "container.changed" else None
        )
        name = f"docker-{lab.sandbox.id}"
        threading.Thread(target=self._serve_docker, args=(lab,), name=name, daemon=True).start()

    def _save_loop(self) -> None:
        while True:
            lab = self.unsaved.get()
            with self.lock:
                current = self.labs.get(lab.sandbox.id) is lab
            if current:
                lab.save()

    def get(self, sid: str) -> LabHandle:
        with self.lock:
            lab = self.labs.get(sid)
        if lab is None:
            raise SandboxNotFound(f"no sandbox {sid!r}")
        return lab

    def ls(self) -> list[dict]:
        with self.lock:
            labs = [lab for lab in self.labs.values() if lab]
        return [lab.info() for lab in labs]

    def down(self, sid: str, *, paced: bool = False) -> None:
        """Destroy a sandbox now, or queue it for paced teardown."""
        with self.lock:
            lab = self.labs.get(sid)
            if lab is None:
                raise SandboxNotFound(f"no sandbox {sid!r}")
            del self.labs[sid]
        # A restart before its teardown (paced, or interrupted) finishes it instead of re-adopting it.
        (Path(lab.sandbox.directory) / DOOMED).touch()
        if paced:
            self.teardown.put(lab)
        else:
            self._destroy(lab)

    def down_all(self, *, wait: bool = False) -> int:
        """Queue every sandbox for paced teardown; with `wait`, return once all are destroyed."""
        with self.lock:
            sids = [sid for sid, lab in self.labs.items() if lab]
        for sid in sids:
            self.down(sid, paced=True)
        if wait:
            self.teardown.join()
        return len(sids)

    def _teardown_loop(self) -> None:
        while True:
            try:
                lab = self.teardown.get(timeout=LINGER_RETRY)
            except queue.Empty:
                if self.lingering:
                    self._remove_lingering()
                continue
            try:
                self._destroy(lab)
            except Exception:  # noqa: BLE001 - one failed teardown must not stop the others
                log.exception("teardown of %s failed", lab.sandbox.id)
            finally:
                self.teardown.task_done()
            time.sleep(TEARDOWN_INTERVAL)

    def _destroy(self, lab: LabHandle) -> None:
        lab.engine.detach()
        _stop_listening(lab.listener)
        lab.sandbox.destroy()
        try:
            os.waitpid(lab.sandbox.holder_pid, 0)
        except ChildProcessError:
            pass
        if not self._free(lab.sandbox, timeout=1):
            with self.lock:
                self.lingering.append(lab.sandbox)

    def _free(self, sb: Sandbox, timeout: float = 0) -> bool:
        """Free what a destroyed sandbox leaves once its cgroups are empty: the cgroups, the directory
        and the uid slot (kept meanwhile, so that a lingering process can never signal a new sandbox's;
        the directory, until nothing of the sandbox is left). False while they are not."""
        if sb.cgroup and not limits.remove(sb.cgroup, timeout=timeout):
            return False
        shutil.rmtree(sb.directory, ignore_errors=True)
        with self.lock:
            self.slots.pop(sb.id, None)
        return True

    def _remove_lingering(self) -> None:
        with self.lock:
            lingering, self.lingering = self.lingering, []
        still = [sb for sb in lingering if not self._free(sb)]
        with self.lock:
            self.lingering.extend(still)

    # -- commands in a sandbox -----------------------------------------------------------

    def exec_argv(self, sid: str, ns: str, argv: list[str]) -> list[str]:
        """The full command line that runs `argv` in namespace `ns` as the student would."""
        lab = self.get(sid)
        if ns in SANDBOX_NAMESPACES:
            return [*lab.sandbox.nsenter_argv(ns, student=True), *argv]
        container = lab.engine.running_container(ns)
        if container is None:
            raise NamespaceNotFound(f"no namespace or running container {ns!r} in sandbox {sid}")
        return [*lab.sandbox.nsenter_argv(ns, pid=lab.engine.host_pid(container)), *argv]

    # -- serving -------------------------------------------------------------------------

    def serve(self, path: Path | None = None) -> None:
        """Accept clients on the control socket until killed."""
        path = path or daemon_socket()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        os.chmod(path, 0o600)
        server.listen(64)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        reader = protocol.Reader(conn)
        fds: list[int] = []
        try:
            request = reader.read()
            fds = reader.take_fds()
            if request is None:
                return
            self._dispatch(conn, request, fds)
        except TopologyError as exc:
            _reply(conn, {"ok": False, "error": str(exc), "kind": type(exc).__name__})
        except (ValueError, KeyError, TypeError) as exc:
            _reply(conn, {"ok": False, "error": f"bad request: {exc}", "kind": "BadRequest"})
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            log.exception("request failed")
            _reply(conn, {"ok": False, "error": f"internal error: {exc}", "kind": type(exc).__name__})
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()

    def _dispatch(self, conn: socket.socket, req: dict, fds: list[int]) -> None:
        op = req.get("op")
        if op == "up":
            lab = self.up(str(req.get("docker") or "19.03"), str(req.get("owner") or ""))
            _reply(conn, {"ok": True, "sandbox": lab.info()})
        elif op == "ls":
            with self.lock:
                reaped = list(self.reaped)
            _reply(conn, {"ok": True, "sandboxes": self.ls(), "reaped": reaped})
        elif op == "down":
            if req.get("all"):
                _reply(conn, {"ok": True, "count": self.down_all(wait=bool(req.get("wait")))})
            else:
                self.down(str(req["id"]))
                _reply(conn, {"ok": True})
        elif op == "exec":
            argv = [str(a) for a in req["argv"]]
            if not argv:
                raise ValueError("no command given")
            if len(fds) != 3:
                raise ValueError("exec needs stdin, stdout and stderr")
            full = self.exec_argv(str(req["id"]), str(req.get("ns") or "host"), argv)
            code = _run_attached(self.get(str(req["id"])).sandbox, full, fds, conn)
            _reply(conn, {"ok": True, "exit": code})
        elif op == "snapshot":
            from topology.snapshot import snapshot

            lab = self.get(str(req["id"]))
            names = req.get("namespaces")
            names = None if names is None else [str(n) for n in names]
            kinds = req.get("kinds")
            kinds = None if kinds is None else [str(k) for k in kinds]
            _reply(
                conn,
                {
                    "ok": True,
                    "snapshot": snapshot(
                        lab.sandbox, lab.engine, namespaces=names, kinds=kinds, cache=lab.snapshots
                    ),
                },
            )
        elif op == "events":
            from topology.events import stream

            lab = self.get(str(req["id"]))
            events = stream(lab.sandbox, lab.engine, stop=lambda: _closed(conn), stop_fds=(conn.fileno(),))
            next(events)  # the watcher is ready: no change after the reply goes unreported
            _reply(conn, {"ok": True})
            for event in events:
                protocol.send(conn, event)
        elif op == "ping":
            _reply(conn, {"ok": True, "pid": os.getpid()})
        else:
            raise ValueError(f"unknown op {op!r}")

    def _serve_docker(self, lab: LabHandle) -> None:
        """Accept on the lab's docker.sock until a teardown shuts it down; then close it (here, not
        there: closed while this thread may be about to accept, its number could be another lab's
        listener by then, and that lab's commands would reach this engine)."""
        try:
            while True:
                try:
                    conn, _ = lab.listener.accept()
                except OSError:
                    return
                threading.Thread(target=self._docker_client, args=(lab, conn), daemon=True).start()
        finally:
            lab.listener.close()

    def _docker_client(self, lab: LabHandle, conn: socket.socket) -> None:
        reader = protocol.Reader(conn)
        fds: list[int] = []
        try:
            request = reader.read()
            fds = reader.take_fds()
            if request is None or len(fds) != 3 or not isinstance(request.get("argv"), list):
                protocol.send(conn, {"exit": 1})
                return
            argv = [str(a) for a in request["argv"]]
            client = _client_side(request, conn, reader)
            code = commands.execute(
                lab.engine, argv, tuple(fds), tty=bool(request.get("tty")), conn=conn, client=client
            )
            lab.save()  # before the answer: a change the student saw is on disk
            protocol.send(conn, {"exit": code})
        except (OSError, ValueError):
            pass
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()


def _client_side(request: dict, conn: socket.socket, reader: protocol.Reader) -> ClientSide:
    """The student's side of a docker command: the environment its `docker` sent (hex of environ's
    NUL-separated entries), and its files, which that `docker` reads when the daemon asks ("read
    HEXPATH"; it answers {"file": HEX} or {"error": "open"|"read", "errno": N}): the daemon never
    opens a path a student names. And its terminal's size ("size": [columns, rows]) when it has one."""
    env: dict[str, str] = {}
    try:
        entries = bytes.fromhex(str(request.get("env", ""))).split(b"\0")
    except ValueError:
        entries = []
    for entry in entries:
        try:
            key, eq, value = entry.decode().partition("=")
        except UnicodeDecodeError:
            continue
        if key and eq:
            env.setdefault(key, value)  # Go's environment keeps a name's first entry

    def read(path: str) -> bytes:
        conn.sendall(b"read " + path.encode().hex().encode() + b"\n")
        answer = reader.read()
        if answer is None:
            raise OSError("the docker client went away")
        if isinstance(answer.get("file"), str):
            return bytes.fromhex(answer["file"])
        raise ClientFileError(str(answer.get("error", "read")), int(answer.get("errno", errno.EIO)))

    size = request.get("size")
    valid = isinstance(size, list) and len(size) == 2 and all(type(n) is int and 0 < n < 65536 for n in size)
    return ClientSide(env, read, (size[0], size[1]) if valid else None)


def _listen(directory: Path) -> socket.socket:
    """A new sandbox's docker.sock."""
    path = directory / "docker.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        os.chmod(path, 0o666)
        listener.listen(16)
    except BaseException:
        listener.close()
        raise
    return listener


def _stop_listening(listener: socket.socket) -> None:
    """Shut a docker.sock down: its accept() fails, and the thread serving it ends and closes it
    (a close alone would not wake that thread, which would stay for good)."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _reply(conn: socket.socket, message: dict) -> None:
    try:
        protocol.send(conn, message)
    except OSError:
        pass


def _closed(conn: socket.socket) -> bool:
    """True once the client hung up; bytes it sent meanwhile (it should send none) are dropped."""
    try:
        if not readable([conn], 0):
            return False
        return conn.recv(4096, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _run_attached(sb: Sandbox, argv: list[str], fds: list[int], conn: socket.socket) -> int:
    """Run a command on the client's stdio; kill it if the client goes away.

    It sleeps until the command exits or the client's connection becomes readable (hang-up): an open
    terminal costs no wakeups. The command gets a process group of its own, so that a hang-up kills
    nsenter and the command it forked (and what that started in the group), not nsenter alone."""
    proc = sb.popen(argv, stdin=fds[0], stdout=fds[1], stderr=fds[2], start_new_session=True)
    try:
        pidfd = os.pidfd_open(proc.pid)
    except OSError:
        pidfd = -1
    try:
        while True:
            if pidfd < 0:
                try:
                    return proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            elif pidfd in readable([pidfd, conn.fileno()], None):
                return proc.wait()
            if _closed(conn):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return proc.wait()
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    daemon = Daemon()
    if not daemon.claim():
        log.info("another daemon serves %s", daemon.state)
        return
    daemon.prepare()
    daemon.serve()
