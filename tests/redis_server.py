"""A redis-server of a test's own, which the test may restart: on `port`, its files in `folder`, with
the append-only file on, as docker-compose.yml runs Redis."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import redis

from tests.polling import wait_for


class PrivateRedis:
    def __init__(self, port: int, folder: Path):
        self.port = port
        self.argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder)]
        self.argv += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        self.log = folder / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._answers, 10, interval=0.05, what="redis-server")

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as on `docker compose restart redis`."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)

    def _answers(self) -> bool:
        try:
            return redis.Redis(port=self.port).ping()
        except redis.ConnectionError:
            return False
