"""Web-lab benchmarks: kernel change → `lab.state` frame at the browser's socket, lab page → graph drawn.

Both run against a real server: daphne in the embedded mode as a subprocess (`bench.labserver`:
SQLite in a temporary directory, a topology daemon of its own under /var/lib/nslab-bench). Users and
their sessions are made by one Django process against the same SQLite file, their labs through the
services (the same code the web's "New lab" form runs). `cleanup()` stops every lab, the daemon and the
server. NSLAB_BENCH_CLIENTS (default 200) sets the number of connected clients of the crowded run.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from bench.harness import benchmark, percentile, result
from bench.labserver import LabServer
from bench.pages import drawn_ms, floor_server, interleaved

CLIENTS = int(os.environ.get("NSLAB_BENCH_CLIENTS", "200"))
SINGLE_CHANGES = 40
# The crowded run: ROUNDS changes per lab one at a time, round-robin; then one change per lab at
# CROWD_RATE_PER_S whatever the answers (a class of 200, each making a change every 40 s).
CROWD_RATE_PER_S = 5.0
ROUNDS = 2
FRAME_TIMEOUT = 30.0
PAGE_LOADS = 10
VENDOR_PLOTLY = Path(__file__).resolve().parent.parent / "frontend/build/vendor/plotly-basic.min.js"

_SERVER: LabServer | None = None
_ACCOUNTS: dict[str, dict] = {}

_MAKE_ACCOUNTS = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from labapp.labs.web import services
from labapp.labs.models import Lab

names = json.loads(sys.stdin.read())
User = get_user_model()
# Unusable passwords: hashing 200 real ones would cost a minute, and sessions need none.
User.objects.bulk_create([User(username=name, password="!") for name in names], ignore_conflicts=True)
out = []
for name in names:
    user = User.objects.get(username=name)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    lab = services.lab_create(owner=user)  # tasks run in this process (embedded mode): ready on return
    lab.refresh_from_db()
    out.append({"user": name, "session": session.session_key, "lab": lab.pk, "status": lab.status,
                "sandbox": lab.sandbox_id})
print(json.dumps(out))
"""


def server() -> LabServer:
    global _SERVER
    if _SERVER is None:
        _SERVER = LabServer("weblab", state_root=Path("/var/lib/nslab-bench"))
        _SERVER.start()
    return _SERVER


def accounts(names: list[str]) -> list[dict]:
    """Users `names`, each with a session and a ready lab of its own (made once, then reused)."""
    missing = [name for name in names if name not in _ACCOUNTS]
    if missing:
        made = json.loads(server().python(_MAKE_ACCOUNTS, stdin=json.dumps(missing)))
        bad = [a for a in made if a["status"] != "ready"]
        if bad:
            raise RuntimeError(f"labs not ready: {bad[:3]}")
        _ACCOUNTS.update((a["user"], a) for a in made)
    return [_ACCOUNTS[name] for name in names]


def cleanup() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None
    _ACCOUNTS.clear()


# -- kernel change → lab.state frame -----------------------------------------------------------


class LabSocket:
    """One browser-side client: a websocket of the lab page, reading every frame as it arrives."""

    def __init__(self, account: dict, base_url: str):
        self.account = account
        self.url = base_url.replace("http://", "ws://") + f"/ws/labs/{account['lab']}/"
        self.origin = base_url
        self.links: set[str] = set()
        self.ready = asyncio.Event()
        self.waiting: dict[str, asyncio.Future] = {}
        self.changed_at: dict[str, float | None] = {}
        self.ws = None
        self.reader: asyncio.Task | None = None

    async def open(self) -> None:
        import websockets

        self.ws = await websockets.connect(
            self.url,
            origin=self.origin,
            additional_headers={"Cookie": f"sessionid={self.account['session']}"},
            max_size=None,
            open_timeout=60,
            ping_interval=None,
        )
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            received = time.time()
            frame = json.loads(raw)
            if frame.get("type") != "lab.state":
                continue
            self.links = {link["name"] for link in frame["snapshot"]["links"].get("host", [])}
            self.ready.set()
            for name in [name for name in self.waiting if name in self.links]:
                future = self.waiting.pop(name)
                if not future.done():
                    self.changed_at[name] = frame.get("changed_at")
                    future.set_result(received)

    def expect(self, name: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[name] = future
        return future

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


def _exec(client, sandbox: str, argv: list[str], devnull: int) -> int:
    return client.exec(sandbox, argv, stdio=(devnull, devnull, devnull))


class ChangeRun:
    """Makes `ip link add benchN type bridge` in labs and times the frame that shows benchN."""

    def __init__(self, srv: LabServer):
        self.client = srv.client()
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.counter = 0
        self.latencies: list[float] = []  # ms: exec called → frame received
        self.after_exec: list[float] = []  # ms: exec returned → frame received
        self.server_side: list[float] = []  # ms: the frame's changed_at (first kernel event) → received
        self.exec_ms: list[float] = []

    async def change(self, sock: LabSocket) -> None:
        self.counter += 1
        name = f"bench{self.counter}"
        arrived = sock.expect(name)
        start = time.time()
        status = await asyncio.to_thread(
            _exec,
            self.client,
            sock.account["sandbox"],
            ["ip", "link", "add", name, "type", "bridge"],
            self.devnull,
        )
        returned = time.time()
        if status != 0:
            raise RuntimeError(f"ip link add {name} exited {status}")
        received = await asyncio.wait_for(arrived, FRAME_TIMEOUT)
        self.latencies.append((received - start) * 1000)
        self.after_exec.append((received - returned) * 1000)
        self.exec_ms.append((returned - start) * 1000)
        if sock.changed_at.get(name):
            self.server_side.append((received - sock.changed_at[name]) * 1000)

    def floor(self, sandbox: str, n: int = 30) -> list[float]:
        """The change command alone: its exec round trip through the daemon (create, then delete)."""
        samples = []
        for i in range(n):
            start = time.perf_counter()
            _exec(self.client, sandbox, ["ip", "link", "add", f"floor{i}", "type", "bridge"], self.devnull)
            samples.append((time.perf_counter() - start) * 1000)
            _exec(self.client, sandbox, ["ip", "link", "del", f"floor{i}"], self.devnull)
        return samples

    def close(self) -> None:
        os.close(self.devnull)


def _stats(samples: list[float]) -> dict:
    if not samples:
        return {}
    return {"p50_ms": round(percentile(samples, 50), 3), "p95_ms": round(percentile(samples, 95), 3)}


async def _open_all(sockets: list[LabSocket]) -> None:
    # A few at a time, as a class arriving: each connect is a handshake, a session lookup and a watch.
    semaphore = asyncio.Semaphore(20)

    async def one(sock: LabSocket) -> None:
        async with semaphore:
            await sock.open()
            await asyncio.wait_for(sock.ready.wait(), 60)

    await asyncio.gather(*(one(sock) for sock in sockets))


async def _frames(n_clients: int) -> tuple[dict, dict, list[float]]:
    srv = server()
    labs = accounts([f"bench{i}" for i in range(n_clients)])
    run = ChangeRun(srv)
    sockets = [LabSocket(account, srv.base_url) for account in labs]
    try:
        # One client: only the first lab's socket is open.
        await _open_all(sockets[:1])
        floor = await asyncio.to_thread(run.floor, labs[0]["sandbox"])
        for _ in range(SINGLE_CHANGES):
            await run.change(sockets[0])
        single = {
            "latency": run.latencies,
            "after_exec": run.after_exec,
            "server_side": run.server_side,
            "exec": run.exec_ms,
        }

        # All clients connected. First one change at a time, round-robin over the labs: the cost of 200
        # open sockets (and their watchers and shells) on every change.
        await _open_all(sockets[1:])
        run.latencies, run.after_exec, run.server_side, run.exec_ms = [], [], [], []
        for _round in range(ROUNDS):
            for sock in sockets:
                await run.change(sock)
        crowd = {
            "latency": run.latencies,
            "after_exec": run.after_exec,
            "server_side": run.server_side,
            "exec": run.exec_ms,
        }
        # Then changes at CROWD_RATE_PER_S whatever the answers, each lab once, timed on its own.
        run.latencies, run.after_exec, run.server_side, run.exec_ms = [], [], [], []
        tasks = []
        for sock in sockets:
            tasks.append(asyncio.create_task(run.change(sock)))
            await asyncio.sleep(1 / CROWD_RATE_PER_S)  # pacing of the load, not a wait for a result
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        crowd["paced"] = {
            "rate_per_s": CROWD_RATE_PER_S,
            "changes": len(tasks),
            "timeouts": sum(isinstance(o, (TimeoutError, asyncio.TimeoutError)) for o in outcomes),
            "latency": _stats(run.latencies),
            "exec_ms": _stats(run.exec_ms),
        }
        return single, crowd, floor
    finally:
        await asyncio.gather(*(sock.close() for sock in sockets), return_exceptions=True)
        run.close()


_FRAMES: dict | None = None


def _frames_once() -> dict:
    global _FRAMES
    if _FRAMES is None:
        single, crowd, floor = asyncio.run(_frames(CLIENTS))
        _FRAMES = {"single": single, "crowd": crowd, "floor": floor}
    return _FRAMES


def _frame_result(name: str, part: str, clients: int, goal: str) -> dict:
    data = _frames_once()
    measured = data[part]
    floor_p50 = round(percentile(data["floor"], 50), 3)
    record = result(name, measured["latency"], floor_p50_ms=floor_p50, goal=goal)
    record.update(
        clients=clients,
        exec_ms=_stats(measured["exec"]),
        exec_return_to_frame_ms=_stats(measured["after_exec"]),
        kernel_event_to_frame_ms=_stats(measured["server_side"]),
    )
    if "paced" in measured:
        record["paced"] = measured["paced"]
    return record


@benchmark
def ws_state_frame_1_client():
    """Kernel change → `lab.state` frame received, one connected client.

    A sample starts when `ip link add benchN type bridge` is sent to the lab's host through the daemon
    (topology.client.Client.exec) and ends when the lab page's websocket (a real client over TCP with
    the user's session cookie and Origin) receives a `lab.state` whose snapshot has benchN. The floor
    is that change command alone, its exec round trip: nothing can show a change before the change is
    made, and the round trip is the closest measurable bound on when the kernel has it. The extra
    figures split the sample: the exec itself, exec returned → frame, and the frame's `changed_at`
    (the daemon's first event of the change) → frame.
    """
    return _frame_result("ws_state_frame_1_client", "single", 1, "p95 < 100 ms")


@benchmark
def ws_state_frame_200_clients():
    """As ws_state_frame_1_client, with CLIENTS users each connected to a lab of their own.

    All sockets stay open (each also got its terminal, like a browser). The samples: ROUNDS changes
    per lab, one at a time round-robin over the labs. `paced`: one change per lab at
    CROWD_RATE_PER_S whatever the answers, each timed on its own socket. Every change costs one
    incremental snapshot of the lab: for a link change in the host, `ip`, the sysctl read and
    `bridge fdb` there (about 13 ms; a full snapshot of a lab is about 65 ms).
    """
    return _frame_result(
        f"ws_state_frame_{CLIENTS}_clients", "crowd", CLIENTS, f"p95 < 100 ms with {CLIENTS} clients"
    )


# -- lab page opened → graph drawn --------------------------------------------------------------

# navigation start (performance.timeOrigin) → `#graph[data-drawn-seq]` set, read in the page.
_DRAWN_AT = """
window.__drawnAt = null;
new MutationObserver((changes, observer) => {
  const graph = document.getElementById('graph');
  if (graph && graph.dataset.drawnSeq) { window.__drawnAt = performance.now(); observer.disconnect(); }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-drawn-seq'] });
"""
_FLOOR_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body>
<div id="graph" style="width:%dpx;height:%dpx"></div>
<script src="/plotly-basic.min.js"></script>
<script>
const figure = %s;
Plotly.newPlot('graph', figure.data, figure.layout, {displaylogo: false, responsive: true})
  .then(() => { document.getElementById('graph').dataset.drawnSeq = '1'; });
</script></body></html>"""


def _load(browser, url: str, cookies: list[dict]) -> float:
    return drawn_ms(browser, url, cookies, drawn_at=_DRAWN_AT, viewport=(1600, 1000), timeout_ms=30_000)


@benchmark
def lab_page_graph_drawn():
    """Lab page opened → graph drawn, in Debian's chromium (headless), each load in a fresh context.

    The figure is `performance.now()` when `#graph[data-drawn-seq]` is set, i.e. from navigation
    start, read in the page. The floor is the same browser loading a static HTML page that loads the
    same vendored plotly-basic.min.js and draws the same figure (the lab page's drawn data and layout),
    served by the plainest HTTP server (http.server): the cost of any page that draws this graph
    with plotly.js. Above it, the lab page pays for Django (session, template), its other assets,
    xterm, the websocket (status, watch) and the first snapshot.
    """
    from playwright.sync_api import sync_playwright

    srv = server()
    account = accounts(["benchpage"])[0]  # a lab of its own, as a new lab looks
    cookies = [{"name": "sessionid", "value": account["session"], "url": srv.base_url}]
    url = f"{srv.base_url}/labs/{account['lab']}/"
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        try:
            # The figure the lab page draws, for the floor page.
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            context.add_cookies(cookies)
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=30_000)
            width, height, figure = page.evaluate(
                "() => { const g = document.getElementById('graph');"
                " return [g.offsetWidth, g.offsetHeight, JSON.stringify({data: g.data, layout: g.layout})]; }"
            )
            context.close()
            pages = {
                "/": ((_FLOOR_PAGE % (width, height, figure)).encode(), "text/html; charset=utf-8"),
                "/plotly-basic.min.js": (VENDOR_PLOTLY.read_bytes(), "text/javascript"),
            }
            with floor_server(pages.get) as floor_url:
                samples, floor = interleaved(
                    lambda u, c: _load(browser, u, c), url, floor_url, cookies, PAGE_LOADS
                )
        finally:
            browser.close()
    return result(
        "lab_page_graph_drawn",
        samples,
        floor_p50_ms=round(percentile(floor, 50), 3),
        goal="p50 < 1500 ms (navigation start → graph drawn)",
    ) | {"floor_p95_ms": round(percentile(floor, 95), 3)}
