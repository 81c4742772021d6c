"""A lab node's worker restarts under a class (issue 13): LABS students have their lab pages' sockets
open on the production shape (bench/production.py: web and labnode processes, PostgreSQL, Redis); the
labnode worker is killed (SIGKILL) and started again. A sample is one student's wait from the new
worker's start to their terminal answering a command again (a new shell in the same lab)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from bench.classroom import browser_socket
from bench.harness import benchmark, result
from bench.production import ROOT, Services, postgres_database

LABS = int(os.environ.get("NSLAB_BENCH_RESTART_LABS", "20"))
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database number of its own on the machine's Redis
TIMEOUT = 120.0

_MAKE_LABS = """
import json, sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from labapp.labs.web import services
out = []
for i in range(int(sys.argv[1])):
    user = get_user_model().objects.create(username=f"restart{i}", password="!")
    session = SessionStore()
    session.update({"_auth_user_id": str(user.pk), "_auth_user_hash": user.get_session_auth_hash(),
                    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend"})
    session.create()
    out.append({"session": session.session_key, "lab": services.lab_create(owner=user).pk})
print(json.dumps(out))
"""


class Page:
    """One student's lab socket: the terminal's text since the last reset."""

    def __init__(self, ws):
        self.ws, self.tty, self.resets = ws, "", 0

    async def until(self, condition, deadline: float) -> None:
        while not condition():
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic()))
            if frame["type"] == "lab.tty":
                self.tty += frame["data"]
            elif frame["type"] == "lab.tty.reset":
                self.tty, self.resets = "", self.resets + 1


@benchmark
def labnode_restart_terminals_back():
    with tempfile.TemporaryDirectory(prefix="nslab-restart-") as tmp, postgres_database("nslab_bench") as url:
        redis.Redis.from_url(REDIS_URL).flushdb()
        services = Services(Path(tmp), url, REDIS_URL)
        try:
            samples = asyncio.run(_run(services))
        finally:
            services.stop()
    return result("labnode_restart_terminals_back", samples, floor_p50_ms=None, goal="p95 < 3000 ms")


async def _run(services: Services) -> list[float]:
    services.start("web")
    base = services.base_url
    deadline = time.monotonic() + TIMEOUT
    while not services.serving():
        assert time.monotonic() < deadline, "the web service did not start"
        await asyncio.sleep(0.2)
    services.start("labnode")
    made = subprocess.run(
        [sys.executable, "-c", _MAKE_LABS, str(LABS)],
        cwd=ROOT,
        env={**services.env, "DJANGO_SETTINGS_MODULE": "labapp.config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    labs = json.loads(made.stdout)
    sockets = [await browser_socket(base, f"/ws/labs/{lab['lab']}/", lab["session"]) for lab in labs]
    pages = [Page(ws) for ws in sockets]
    try:
        deadline = time.monotonic() + TIMEOUT
        await asyncio.gather(*(p.until(lambda p=p: "root@docker-host" in p.tty, deadline) for p in pages))
        services.procs["labnode"].kill()
        services.procs["labnode"].wait()
        started = time.perf_counter()
        services.start("labnode")
        deadline = time.monotonic() + TIMEOUT

        async def back(page: Page) -> float:
            await page.until(lambda: page.resets and "root@docker-host" in page.tty, deadline)
            await page.ws.send(json.dumps({"type": "tty.input", "data": "echo back-$((6*7))\r"}))
            await page.until(lambda: "back-42" in page.tty, deadline)
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(back(p) for p in pages)))
    finally:
        for ws in sockets:
            await ws.close()
