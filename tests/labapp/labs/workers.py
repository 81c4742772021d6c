"""Lab-node Celery workers as real processes, for the scenarios run in Redis mode (REDIS_URL and a
PostgreSQL DATABASE_URL set): start one for a node, kill it, start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from labapp.labs.channels import node_channel
from labapp.labs.models import LabNode
from tests.polling import wait_for


class LabNodeWorker:
    """`celery worker -Q labnode.<node> --pool threads` with NSLAB_NODE=node (and its own daemon when
    `state_dir` is given), logging to `log_path`."""

    def __init__(self, node: str, log_path: Path, state_dir: Path | None = None, db_port: int | None = None):
        """`db_port`: reach PostgreSQL on another port (a proxy) than the test's connection."""
        self.node, self.log_path = node, log_path
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "NSLAB_NODE": node,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db_port or db['PORT']}/{db['NAME']}",
        }
        if state_dir is not None:
            self.env["NSLAB_STATE_DIR"] = str(state_dir)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        """Start the worker; return once its node agent has registered (reaped orphans, listens)."""
        started = timezone.now()
        argv = [sys.executable, "-m", "celery", "-A", "labapp.config.celery", "worker"]
        argv += ["-Q", node_channel(self.node), "--hostname", f"{self.node}@%h"]
        argv += [
            "--pool",
            "threads",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(
            lambda: (
                LabNode.objects.filter(name=self.node, heartbeat_at__gte=started).exists()
                or self.proc.poll() is not None
            ),
            timeout,
            interval=0.1,
            what=f"worker {self.node} start",
        )
        assert self.proc.poll() is None, f"the worker exited:\n{self.log()}"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no goodbye (the node's daemon lives on)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text()[-5000:] if self.log_path.exists() else ""


@contextmanager
def scenario_worker(tmp_path: Path, *, flush: bool = True) -> Iterator[LabNodeWorker]:
    """The scenarios' worker for this node (PostgreSQL and Redis mode), stopped after, its log printed;
    `flush` empties Redis first (nothing left of an earlier scenario)."""
    assert not settings.NSLAB_EMBEDDED and connection.vendor == "postgresql"
    if flush:
        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    worker = LabNodeWorker(settings.NSLAB_NODE, tmp_path / "worker.log")
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()
        print(worker.log())
