"""Coalesced kernel changes of a sandbox: netlink multicast and nf_tables notifications, pushed.

The daemon cannot enter a sandbox's namespaces itself (it may be unprivileged, and setns() in a
multi-threaded process moves one thread only), so `EventStream` starts `topology.watcher` as the
sandbox's root in the sandbox's OUTER user namespace, with the router's network namespace as its home.
The watcher keeps netlink sockets in every network namespace it is told about and writes one JSON line
per kernel change; `EventStream` coalesces a burst of them into one update:

    {"type": "kernel.changed", "namespaces": ["host"], "kinds": ["address", "route"], "count": 150,
     "first_at": 1700000000.123, "at": 1700000000.145}

`first_at` is when the first change of the burst reached the daemon, `at` when the update was made
(both `time.time()`). Kinds: link, address, route, neighbour, netfilter; also "namespace" (a watched
process exited, so its namespace is no longer watched) and "overflow" (the kernel dropped
notifications: something changed, unknown what).

`stream()` is what the daemon's "events" operation sends: these updates plus the engine's own events.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from topology.errors import TopologyError
from topology.fdwait import readable
from topology.namespaces import SANDBOX_NAMESPACES
from topology.sandbox import Sandbox, student_env
from topology.snapshot.netfilter import TRACE_TABLE

log = logging.getLogger("topology.events")

START_TIMEOUT = 10.0
COMMAND_TIMEOUT = 5.0
WINDOW = 0.004  # quiet time that ends a burst (one command's changes come within microseconds)
MAX_DELAY = 0.1  # longest a change waits for its burst to end
POLL = 0.2  # how often stream() looks at stop() when it has no stop_fds
PACKAGE_DIR = Path(__file__).resolve().parent


class WatcherError(TopologyError):
    """The watcher subprocess failed to start, refused a command or died."""


# -- starting the watcher --------------------------------------------------------------------


def _reachable(path: str, bit: int) -> bool:
    """True if any user may reach `path` (x on every directory) and has `bit` (S_IROTH/S_IXOTH) on it."""
    for candidate in {os.path.abspath(path), os.path.realpath(path)}:
        try:
            if not os.stat(candidate).st_mode & bit:
                return False
            parent = os.path.dirname(candidate)
            while True:
                if not os.stat(parent).st_mode & stat.S_IXOTH:
                    return False
                if parent == "/":
                    break
                parent = os.path.dirname(parent)
        except OSError:
            return False
    return True


def watcher_argv(sandbox: Sandbox) -> tuple[list[str], dict[str, str]]:
    """The command line (and environment) that runs the watcher for `sandbox`.

    The watcher runs as the sandbox's root uid, which may not reach the daemon's interpreter (a
    virtualenv under /root, say): then a system python3 runs it; it needs only the standard library.
    """
    same_uid = sandbox.root_uid == os.geteuid()
    python = os.environ.get("NSLAB_WATCHER_PYTHON") or next(
        (
            p
            for p in (sys.executable, "/usr/local/bin/python3", "/usr/bin/python3")
            if (same_uid and p == sys.executable) or _reachable(p, stat.S_IXOTH)
        ),
        sys.executable,
    )
    env = student_env(PYTHONDONTWRITEBYTECODE="1")
    if same_uid or _reachable(str(PACKAGE_DIR / "watcher.py"), stat.S_IROTH):
        env["PYTHONPATH"] = str(PACKAGE_DIR.parent)
        program = ["-m", "topology.watcher"]
    else:
        program = ["-c", (PACKAGE_DIR / "watcher.py").read_text()]
    keeper = sandbox.keeper_pid
    argv = [
        "nsenter",
        f"--user=/proc/{keeper}/ns/user",
        f"--net=/proc/{keeper}/ns/net",
        "--preserve-credentials",
        "--",
        python,
        "-s",
        *program,
    ]
    return argv, env


# -- the stream --------------------------------------------------------------------------------


class EventStream:
    """Kernel changes of one sandbox's network namespaces, coalesced into bursts.

    One thread consumes (`next_change`, `changes`); `add_namespace`, `remove_namespace` and `wake` may
    be called from any thread. Use it as a context manager or call `close()`.
    """

    def __init__(self, sandbox: Sandbox, *, namespaces: bool = True, timeout: float = START_TIMEOUT):
        self.sandbox = sandbox
        self.paths: dict[str, str] = {}  # watched namespaces: name -> path
        self._raw: collections.deque[tuple[float, float, dict]] = collections.deque()
        self._acks: dict[int, dict] = {}
        self._waiting: set[int] = set()
        self._next_id = 0
        self._cond = threading.Condition()
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._buf = b""
        self._eof = False
        self._woken = False
        self._proc: subprocess.Popen | None = None
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        if not sandbox.alive():
            self.close()
            raise WatcherError(f"sandbox {sandbox.id} is not running")
        argv, env = watcher_argv(sandbox)
        self._log = Path(sandbox.directory) / "watcher.log"
        try:
            stderr = open(self._log, "ab")  # noqa: SIM115 - the child keeps it
        except OSError:
            stderr, self._log = subprocess.DEVNULL, None
        try:
            self._proc = sandbox.popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, cwd="/"
            )
        finally:
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        self._fd = self._proc.stdout.fileno()
        os.set_blocking(self._fd, False)
        self._ready = False
        try:
            deadline = time.monotonic() + timeout
            while not self._ready:
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    raise WatcherError(f"the watcher did not start{self._log_tail()}")
                self._pump(left)
            if namespaces:
                self._add_many(sandbox_namespaces(sandbox), timeout=timeout)
        except BaseException:
            self.close()
            raise

    # -- namespaces --

    def add_namespace(
        self, name: str, path: str, *, wait: bool = True, timeout: float = COMMAND_TIMEOUT
    ) -> None:
        """Watch the network namespace at `path` (e.g. /proc/PID/ns/net) as `name`.

        With `wait` (the default) it returns once the watcher listens there, so every later change is
        seen, and raises WatcherError if it cannot; without, failures are only logged.
        """
        ident = self._send({"add": name, "path": path}, wait)
        self.paths[name] = path
        if wait:
            self._check(self._wait([ident], timeout)[ident], name)

    def remove_namespace(self, name: str, *, wait: bool = True, timeout: float = COMMAND_TIMEOUT) -> None:
        """Stop watching `name`; no change made there after this returns is reported."""
        self.paths.pop(name, None)
        ident = self._send({"remove": name}, wait)
        if wait:
            answer = self._wait([ident], timeout)[ident]
            if "error" in answer and "KeyError" not in answer["error"]:
                self._check(answer, name)

    def _add_many(self, namespaces: dict[str, str], timeout: float) -> None:
        idents = {self._send({"add": name, "path": path}, True): name for name, path in namespaces.items()}
        self.paths.update(namespaces)
        for ident, answer in self._wait(list(idents), timeout).items():
            self._check(answer, idents[ident])

    def _check(self, answer: dict, name: str) -> None:
        if "error" in answer:
            self.paths.pop(name, None)
            raise WatcherError(f"cannot watch namespace {name!r}: {answer['error']}")

    # -- talking to the watcher --

    def _send(self, command: dict, wait: bool) -> int:
        with self._write_lock:
            self._next_id += 1
            ident = self._next_id
            if wait:
                with self._cond:
                    self._waiting.add(ident)
            try:
                self._proc.stdin.write(json.dumps({**command, "id": ident}).encode() + b"\n")
                self._proc.stdin.flush()
            except (OSError, ValueError) as exc:
                raise WatcherError(f"the watcher is gone{self._log_tail()}") from exc
        return ident

    def _wait(self, idents: list[int], timeout: float) -> dict[int, dict]:
        """The watcher's answers to the commands `idents`; reads its output if no other thread does."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                with self._cond:
                    if all(i in self._acks for i in idents):
                        return {i: self._acks.pop(i) for i in idents}
                    if self._eof:
                        raise WatcherError(f"the watcher is gone{self._log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WatcherError("the watcher did not answer")
                if self._read_lock.acquire(blocking=False):
                    try:
                        self._pump_locked(min(left, 0.05))
                    finally:
                        self._read_lock.release()
                else:
                    with self._cond:
                        if not all(i in self._acks for i in idents) and not self._eof:
                            self._cond.wait(min(left, 0.05))
        finally:
            with self._cond:
                self._waiting.difference_update(idents)
                for i in idents:
                    self._acks.pop(i, None)

    def _pump(self, timeout: float | None, also: tuple[int, ...] = ()) -> None:
        with self._read_lock:
            self._pump_locked(timeout, also)

    def _pump_locked(self, timeout: float | None, also: tuple[int, ...] = ()) -> None:
        """Wait up to `timeout` for output of the watcher (or a wake(), or one of the fds `also` to be
        readable, which counts as a wake()) and take in what came."""
        if self._eof:
            return
        ready = readable([self._fd, self._wake_r, *also], timeout)
        if also and any(fd in ready for fd in also):
            self._woken = True
        if self._wake_r in ready:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            self._woken = True
        if self._fd not in ready:
            return
        chunks = []
        try:
            while chunk := os.read(self._fd, 1 << 16):
                chunks.append(chunk)
            self._eof = True  # end of file: the watcher exited
        except BlockingIOError:
            pass
        mono, wall = time.monotonic(), time.time()
        *lines, self._buf = (self._buf + b"".join(chunks)).split(b"\n")
        with self._cond:
            for line in lines:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "kind" in msg:
                    self._raw.append((mono, wall, msg))
                elif "gone" in msg:
                    self.paths.pop(msg["gone"], None)
                elif "ok" in msg or "error" in msg:
                    if msg.get("id") in self._waiting:
                        self._acks[msg["id"]] = msg
                    elif "error" in msg:
                        log.warning("watcher of sandbox %s: %s", self.sandbox.id, msg["error"])
                elif "ready" in msg:
                    self._ready = True
            self._cond.notify_all()

    def _log_tail(self) -> str:
        try:
            text = self._log.read_text(errors="replace").strip() if self._log else ""
        except OSError:
            text = ""
        return f": {text[-1000:]}" if text else ""

    # -- consuming --

    def wake(self) -> None:
        """Make a waiting `next_change` return None now (call it from another thread)."""
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass

    def fileno(self) -> int:
        """The watcher's output, readable when raw changes (or answers) arrive."""
        return self._fd

    def next_change(
        self,
        timeout: float | None = None,
        *,
        window: float = WINDOW,
        max_delay: float = MAX_DELAY,
        wake_fds: tuple[int, ...] = (),
    ) -> dict | None:
        """The next coalesced update; None after `timeout` seconds without a change, on wake(), or
        when one of `wake_fds` is readable while it waits for a first change.

        After the first raw change it waits until `window` seconds pass without another one, but
        no more than `max_delay` after the first. Raises WatcherError once the watcher has exited
        and every change it reported has been returned.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._woken = False
        raws: list = []
        while not raws:
            while not self._raw:
                if self._eof:
                    raise WatcherError(f"the watcher exited{self._log_tail()}")
                left = None if deadline is None else deadline - time.monotonic()
                if self._woken or (left is not None and left <= 0):
                    return None
                self._pump(left, wake_fds)
            first = self._raw[0][0]
            while not self._eof:
                until = min(self._raw[-1][0] + window, first + max_delay)
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._pump(left)
            with self._cond:
                raws = _without_packet_walks(list(self._raw))
                self._raw.clear()
        return {
            "type": "kernel.changed",
            "namespaces": sorted({m.get("ns", "?") for _, _, m in raws}),
            "kinds": sorted({m["kind"] for _, _, m in raws}),
            "count": sum(int(m.get("n", 1)) for _, _, m in raws),
            "first_at": raws[0][1],
            "at": time.time(),
        }

    def changes(
        self, window: float = WINDOW, *, max_delay: float = MAX_DELAY, idle: float | None = None
    ) -> Iterator[dict | None]:
        """Coalesced updates as they happen, until the watcher exits.

        With `idle`, also yields None after each `idle` seconds without an update (so that the caller
        can check a deadline or a stop flag); a wake() yields None too.
        """
        while True:
            try:
                update = self.next_change(idle, window=window, max_delay=max_delay)
            except WatcherError:
                return
            if update is not None or idle is not None:
                yield update

    # -- end --

    def close(self) -> None:
        """Stop the watcher (closing its stdin ends it) and release everything."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._eof = True
        for fd in (self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_proc", None) is not None:
            self.close()


def _without_packet_walks(raws: list) -> list:
    """A burst without a packet walk's tables (topology.trace: `inet nslab_trace_<mark>`, there for
    a moment), nor the generation notices of the namespaces they changed in it (the kernel sends a
    transaction's notices at once; a student's change in the same burst shows by its own objects)."""

    def walk_table(m: dict) -> bool:
        return m["kind"] == "netfilter" and str(m.get("detail", {}).get("table") or "").startswith(
            TRACE_TABLE
        )

    walked = {m.get("ns") for _, _, m in raws if walk_table(m)}
    return [
        (mono, wall, m)
        for mono, wall, m in raws
        if not walk_table(m)
        and not (
            m.get("ns") in walked and m["kind"] == "netfilter" and m.get("detail", {}).get("object") == "gen"
        )
    ]


def sandbox_namespaces(sandbox: Sandbox) -> dict[str, str]:
    """The network namespaces of a sandbox's own four places, as paths the watcher can open."""
    keeper = sandbox.keeper_pid
    return {
        "host": f"/proc/{sandbox.host_pid}/ns/net",
        "router": f"/proc/{keeper}/ns/net",
        "remote": f"/proc/{keeper}/root/run/netns/remote",
        "client": f"/proc/{keeper}/root/run/netns/client",
    }


# -- what the daemon sends ------------------------------------------------------------------------


def stream(
    sandbox: Sandbox,
    engine=None,
    stop: Callable[[], bool] = lambda: False,
    *,
    window: float = WINDOW,
    max_delay: float = MAX_DELAY,
    stop_fds: tuple[int, ...] = (),
) -> Iterator[dict]:
    """Coalesced kernel updates of `sandbox` and the events of its engine, until `stop()` is true.

    Without `stop_fds`, `stop` is called at least every POLL seconds. With them (e.g. the client's
    connection, readable once it hangs up), `stop` is called only when one of them is readable or an
    update comes: an idle stream then costs no wakeups at all. The stream also ends when the sandbox
    (its keeper process) or the watcher is gone. What this expects of `engine` (each part optional,
    `engine` may be None):

    - `engine.subscribe(callback)`: the engine then calls `callback(event)` (from any thread, without
      blocking on it) with JSON-serialisable dicts such as
      `{"type": "container.changed", "id": ..., "name": "web", "action": "start", "netns": PATH}`.
      They are passed on as they come (not coalesced). A "netns" key steers the watcher: a path
      (`/proc/<container host pid>/ns/net`) adds that namespace under the event's "name"; an empty
      value removes it. The key is not passed on (it holds daemon-side pids). A namespace whose
      process exits is dropped by the watcher anyway. `subscribe` may return a callable that
      unsubscribes; otherwise `engine.unsubscribe(callback)` is called if it exists.
    - `engine.namespaces()`: {name: path} of the running containers' own network namespaces, watched
      from the start (called after subscribing).

    Container namespaces named like one of the sandbox's own four are watched as "container:NAME".
    """
    pending: collections.deque[dict] = collections.deque()
    es = EventStream(sandbox)
    keeper = _pidfd(sandbox.keeper_pid)
    if keeper >= 0 and not sandbox.alive():  # the pid was reused: it is not the keeper's pidfd
        os.close(keeper)
        keeper = -1
    poll = POLL if not stop_fds or keeper < 0 else None
    wake_fds = (*stop_fds, keeper) if keeper >= 0 else tuple(stop_fds)

    def on_engine(event: dict) -> None:
        pending.append(dict(event))
        es.wake()

    unsubscribe = _subscribe(engine, on_engine)
    try:
        listing = getattr(engine, "namespaces", None)
        if callable(listing):
            for name, path in dict(listing()).items():
                es.add_namespace(_container_ns(name), str(path), wait=False)
        yield {"type": "stream.ready"}  # every namespace is watched from here on
        while not stop() and sandbox.alive():
            while pending:
                yield _follow(es, pending.popleft())
            try:
                update = es.next_change(poll, window=window, max_delay=max_delay, wake_fds=wake_fds)
            except WatcherError as exc:
                log.warning("event stream of sandbox %s ends: %s", sandbox.id, exc)
                return
            if update is not None:
                yield update
    finally:
        try:
            unsubscribe()
        finally:
            es.close()
            if keeper >= 0:
                os.close(keeper)


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except OSError:
        return -1


def _container_ns(name: str) -> str:
    return f"container:{name}" if name in SANDBOX_NAMESPACES else name


def _follow(es: EventStream, event: dict) -> dict:
    """Add or remove the namespace an engine event names; the event as the client gets it."""
    if "netns" not in event:
        return event
    netns = event.pop("netns")
    name = event.get("name")
    if name:
        try:
            if netns:
                es.add_namespace(_container_ns(str(name)), str(netns), wait=False)
            elif _container_ns(str(name)) in es.paths:
                es.remove_namespace(_container_ns(str(name)), wait=False)
        except WatcherError as exc:
            log.warning("sandbox %s: %s", es.sandbox.id, exc)
    return event


def _subscribe(engine, callback: Callable[[dict], None]) -> Callable[[], None]:
    subscribe = getattr(engine, "subscribe", None)
    if not callable(subscribe):
        return lambda: None
    result = subscribe(callback)
    if callable(result):
        return result
    unsubscribe = getattr(engine, "unsubscribe", None)
    if callable(unsubscribe):
        return lambda: unsubscribe(callback)
    return lambda: None
