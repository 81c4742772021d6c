"""The node agent: streams each watched lab's kernel state and terminal to the lab's group.

It receives on `labnode.<node>` (docs/web-lab.md): `lab.watch` / `lab.unwatch` (viewers by reply channel; the
watcher stops LINGER seconds after the last viewer left, and the shell is hung up HANG_UP_AFTER
seconds after it, as when a terminal window closes; a reload keeps the shell and its scrollback),
`lab.refresh`, `lab.release` (the sandbox goes away: stop everything of the lab), `tty.open` (reply
the scrollback), `tty.input` (reply `lab.tty.written` once it is in the pty: the consumer's
backpressure), `tty.resize`, `trace.request` (reply `trace.walk`: one packet walk at a time per lab).
Blocking daemon calls run in threads; every frame leaves through one outbox so that order is kept.
Embedded mode runs the agent in the web server's own event loop (`embedded_agent`); a Celery lab node
runs it in a thread with its own loop (`start_agent_thread`, from the worker_ready signal).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from labapp.labs.channels import lab_group, node_channel
from labapp.labs.hooks import STATE_LISTENERS
from labapp.labs.node.lifecycle import node_announce_start, node_heartbeat, node_load, node_reap_orphans
from labapp.labs.node.terminal import Shell
from labapp.labs.node.tracing import busy_frame, node_trace
from labapp.labs.node.watcher import Watcher
from labapp.labs.records import node_register

log = logging.getLogger(__name__)

LINGER = 10.0
HANG_UP_AFTER = 30.0
# Why a shell is new, which every page opening its terminal shows above the scrollback in its own
# language (`lab.tty.open`'s `notice`): the page's last viewer left and the old shell was hung up,
# or the lab node restarted under the page.
HUNG_UP, RESTARTED = "hung_up", "restarted"
# Browsers showing live counters ask for refreshes; one lab's viewers cannot ask more often than this.
REFRESH_MIN_INTERVAL = 1.0
OUTBOX_HIGH, OUTBOX_LOW = 500, 100
# Sandboxes created after this process started are its own tasks' work, never orphans.
PROCESS_STARTED = time.time()


class LabStream:
    """What the agent holds for one lab: viewers, the kernel watcher and the shell."""

    def __init__(self, agent: Agent, lab_id: int, sandbox_id: str):
        self.agent, self.lab_id, self.sandbox_id = agent, lab_id, sandbox_id
        self.group = lab_group(lab_id)
        self.viewers: set[str] = set()  # their reply channels: a socket asking twice counts once
        self.watcher: Watcher | None = None
        self.shell: Shell | None = None
        self.last_state: dict | None = None
        self.linger: asyncio.TimerHandle | None = None
        self.hang_up_timer: asyncio.TimerHandle | None = None
        self.hung_up = False
        self.notice: str | None = None  # why the current shell is new (HUNG_UP, RESTARTED), for its life
        self.refreshed_at = 0.0
        self.tracing = False

    def trace(self, message: dict) -> None:
        """A packet walk, in a thread of its own (an armed one waits up to a minute for the student's
        packet); its frame goes to the socket that asked."""
        reply = message["reply_channel"]
        if self.tracing:
            self.agent.queue(reply, busy_frame(message))
            return
        self.tracing = True

        def done(frame: dict) -> None:
            self.tracing = False
            self.agent.queue(reply, frame)

        def walk() -> None:
            try:
                frame = node_trace(self.sandbox_id, message)
            except Exception as exc:  # the daemon went away: say so rather than leave the page waiting
                log.exception("lab %s: trace failed", self.lab_id)
                frame = {"type": "trace.failed", "message": str(exc)}
            self.agent.loop.call_soon_threadsafe(done, frame)

        threading.Thread(target=walk, name=f"nslab-trace-{self.lab_id}", daemon=True).start()

    def refresh(self) -> None:
        """A full snapshot (fresh counters), at most one per REFRESH_MIN_INTERVAL whoever asks."""
        now = time.monotonic()
        if self.watcher and now - self.refreshed_at >= REFRESH_MIN_INTERVAL:
            self.refreshed_at = now
            self.watcher.request(None)

    def watch(self, viewer: str) -> None:
        self.viewers.add(viewer)
        for timer in (self.linger, self.hang_up_timer):
            if timer:
                timer.cancel()
        self.linger = self.hang_up_timer = None
        if self.watcher is None:
            self.watcher = Watcher(self.sandbox_id, self.agent.loop, self.publish_state)

    def unwatch(self, viewer: str) -> None:
        self.viewers.discard(viewer)
        if not self.viewers and self.watcher and not self.linger:
            self.linger = self.agent.loop.call_later(LINGER, self._stop_watcher)
        if not self.viewers and self.shell and not self.hang_up_timer:
            self.hang_up_timer = self.agent.loop.call_later(HANG_UP_AFTER, self._hang_up)

    def _hang_up(self) -> None:
        """Nobody has the page open: the shell and its jobs get SIGHUP, as in a closed terminal."""
        self.hang_up_timer = None
        if not self.viewers and self.shell and not self.shell.closed:
            self.shell.close()
            self.hung_up = True

    def _stop_watcher(self) -> None:
        self.linger = None
        if not self.viewers and self.watcher:
            self.watcher.stop()
            self.watcher = None

    def publish_state(self, watcher: Watcher, snapshot: dict, changed_at: float | None) -> None:
        """On the loop: a fresh snapshot from `watcher` goes to the group as `lab.state`."""
        if watcher is not self.watcher:
            return
        self.last_state = {
            "type": "lab.state",
            "seq": self.agent.next_seq(self.lab_id),
            "snapshot": snapshot,
            "changed_at": changed_at,
        }
        self.agent.queue(self.group, self.last_state, group=True)
        for listener in STATE_LISTENERS:  # other apps' (labapp.labs.hooks)
            try:
                listener(self.agent, self.lab_id, snapshot)
            except Exception:
                log.exception("lab %s: a state listener failed", self.lab_id)

    def open_shell(self, notice: str | None = None) -> Shell:
        """The shell, a new one (whose `notice` says why, if anything should) if there is none."""
        if self.shell is None or self.shell.closed:
            size = self.shell.size if self.shell else (80, 24)  # a new shell after `exit`: the old one's size
            self.shell = Shell(self.sandbox_id, self.agent.loop, self._tty_output, self._shell_exited, size)
            self.notice = notice
        return self.shell

    def tty_open(self, *, restarted: bool = False) -> dict:
        """What a terminal that opens now gets first (`lab.tty.open`): the shell's scrollback, its size,
        and why the shell is new (after a hang-up, or when a page asks again after the node
        `restarted` and gets a new shell) while that shell lives."""
        notice = HUNG_UP if self.hung_up else RESTARTED if restarted else None
        self.hung_up = False
        shell = self.open_shell(notice)
        cols, rows = shell.size
        return {
            "type": "lab.tty.open",
            "data": shell.scrollback_text(),
            "notice": self.notice,
            "cols": cols,
            "rows": rows,
        }

    def resize(self, cols: int, rows: int) -> None:
        """The student's page sized the terminal: the pty, and every watching page, take it."""
        if self.shell and self.shell.size != (cols, rows):
            self.shell.resize(cols, rows)
            self.agent.queue(self.group, {"type": "lab.tty.size", "cols": cols, "rows": rows}, group=True)

    def _tty_output(self, text: str) -> None:
        self.agent.queue(self.group, {"type": "lab.tty", "data": text}, group=True)
        self.agent.throttle(self.shell)

    def _shell_exited(self, shell: Shell) -> None:
        # The student typed `exit`: a new shell, unless this one died at once (sandbox gone).
        if shell is self.shell and shell.lived > 1.0 and self.agent.streams.get(self.lab_id) is self:
            self.agent.queue(self.group, {"type": "lab.tty.reset"}, group=True)
            self.open_shell()

    def close(self) -> None:
        for timer in (self.linger, self.hang_up_timer):
            if timer:
                timer.cancel()
        if self.watcher:
            self.watcher.stop()
        if self.shell:
            self.shell.close()
        self.watcher = self.shell = None


class Agent:
    def __init__(self, node: str, layer=None):
        self.node = node
        self.channel = node_channel(node)
        self.layer = layer or get_channel_layer()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.streams: dict[int, LabStream] = {}
        self.seqs: dict[int, int] = {}
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.paused: set[Shell] = set()
        self._tasks: list[asyncio.Task] = []

    async def run(self) -> None:
        """Serve the node channel until cancelled."""
        self.loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._send_loop()), asyncio.create_task(self._heartbeat_loop())]
        try:
            await database_sync_to_async(_node_start)(self.node, time.time())
            while True:
                try:
                    message = await self.layer.receive(self.channel)
                except Exception as exc:  # the channel layer's Redis restarts: listen again soon
                    log.warning("node %s: receiving failed: %s", self.node, exc)
                    await asyncio.sleep(1.0)
                    continue
                try:
                    self.handle(message)
                except Exception:
                    log.exception("node %s: message %r failed", self.node, message.get("type"))
        finally:
            self.close()

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for stream in self.streams.values():
            stream.close()
        self.streams.clear()

    # -- messages ------------------------------------------------------------------------

    def handle(self, message: dict) -> None:
        kind, lab_id = message.get("type"), message.get("lab_id")
        if kind == "lab.release":
            stream = self.streams.get(lab_id)
            if stream and message.get("sandbox_id") in (None, stream.sandbox_id):
                del self.streams[lab_id]
                stream.close()
                self.queue(stream.group, {"type": "lab.tty.reset"}, group=True)
            return
        if kind in ("lab.watch", "tty.open"):
            stream = self._stream(lab_id, message["sandbox_id"])
            reply = message["reply_channel"]
            if kind == "lab.watch":
                stream.watch(reply)
                if stream.last_state:
                    self.queue(reply, stream.last_state)
            else:
                self.queue(reply, stream.tty_open(restarted=bool(message.get("restarted"))))
            return
        stream = self.streams.get(lab_id)
        if kind == "tty.input":
            self._type(stream, message)
            return
        if stream is None:
            return
        if kind == "lab.unwatch":
            stream.unwatch(message.get("reply_channel", ""))
        elif kind == "lab.refresh":
            stream.refresh()
        elif kind == "trace.request" and message.get("reply_channel"):
            stream.trace(message)
        elif kind == "tty.resize":
            stream.resize(message["cols"], message["rows"])

    def _type(self, stream: LabStream | None, message: dict) -> None:
        """tty.input: into the shell; its sender hears when it is written (the consumer's window)."""
        reply, size = message.get("reply_channel"), len(message["data"])

        def written() -> None:
            if reply:
                self.queue(reply, {"type": "lab.tty.written", "size": size})

        if stream and stream.shell:
            stream.shell.write(message["data"], written)
        else:
            written()

    def _stream(self, lab_id: int, sandbox_id: str) -> LabStream:
        stream = self.streams.get(lab_id)
        if stream and stream.sandbox_id != sandbox_id:  # the lab got a new sandbox
            stream.close()
            stream = None
        if stream is None:
            stream = self.streams[lab_id] = LabStream(self, lab_id, sandbox_id)
        return stream

    # -- sending -------------------------------------------------------------------------

    def next_seq(self, lab_id: int) -> int:
        # Milliseconds as a floor keep seq increasing across a restart of the agent.
        self.seqs[lab_id] = max(self.seqs.get(lab_id, 0) + 1, int(time.time() * 1000))
        return self.seqs[lab_id]

    def queue(self, target: str, message: dict, *, group: bool = False) -> None:
        self.outbox.put_nowait((group, target, message))

    def throttle(self, shell: Shell | None) -> None:
        """Stop reading a chatty terminal while frames pile up (the pty then blocks its writer)."""
        if shell and self.outbox.qsize() > OUTBOX_HIGH:
            shell.pause()
            self.paused.add(shell)

    async def _send_loop(self) -> None:
        while True:
            group, target, message = await self.outbox.get()
            for last_try in (False, True):  # once more: the first may meet a connection Redis closed
                try:
                    if group:
                        await self.layer.group_send(target, message)
                    else:
                        await self.layer.send(target, message)
                    break
                except Exception as exc:  # a full or vanished channel must not stop the others
                    if last_try:
                        log.warning(
                            "node %s: sending %s to %s failed: %s", self.node, message["type"], target, exc
                        )
            if self.paused and self.outbox.qsize() < OUTBOX_LOW:
                for shell in self.paused:
                    shell.resume()
                self.paused.clear()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(settings.NSLAB_HEARTBEAT_SECONDS)
            try:
                await database_sync_to_async(node_heartbeat)(node=self.node)
            except Exception as exc:
                log.warning("node %s: heartbeat failed: %s", self.node, exc)


def _node_start(node: str, started_at: float) -> None:
    node_register(name=node, **node_load(node))
    try:
        result = node_reap_orphans(node=node, created_before=PROCESS_STARTED)
        log.info("node %s started: %s", node, result)
    except Exception:
        log.exception("node %s: reaping orphans failed", node)
    node_announce_start(node=node, started_at=started_at)


# -- where the agent runs ----------------------------------------------------------------

_embedded: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Agent, asyncio.Task]] = (
    weakref.WeakKeyDictionary()
)


async def embedded_agent() -> Agent:
    """The agent of this event loop (the in-memory channel layer is bound to one loop); started now
    if there is none."""
    loop = asyncio.get_running_loop()
    if loop not in _embedded or _embedded[loop][1].done():  # none yet, or it died: start one
        agent = Agent(settings.NSLAB_NODE)
        _embedded[loop] = (agent, loop.create_task(agent.run(), name="nslab-node-agent"))
    return _embedded[loop][0]


async def embedded_agent_stop() -> None:
    """Stop this loop's agent (tests, server shutdown)."""
    entry = _embedded.pop(asyncio.get_running_loop(), None)
    if entry:
        entry[1].cancel()
        try:
            await entry[1]
        except asyncio.CancelledError:
            pass


def start_agent_thread(node: str) -> threading.Thread:
    """Run the agent of `node` in a daemon thread with its own event loop (a Celery lab node)."""

    def main() -> None:
        asyncio.run(Agent(node).run())

    thread = threading.Thread(target=main, name=f"nslab-node-agent-{node}", daemon=True)
    thread.start()
    return thread
