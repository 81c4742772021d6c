"""The lab page across a restart of the lab node's daemon: the student's shell is kept, the graph goes on.

The pty's master is the lab node's (labs/node/terminal.py), the shell runs in the sandbox: neither
is the daemon's, so a daemon killed and started again (live-restore) leaves the same shell, with
its history, and `docker` answers again once the new daemon has re-adopted the lab.
"""

from __future__ import annotations

import json
import re
import signal

import pytest
from channels.db import database_sync_to_async

from bench.restartable import RestartableDaemon
from labapp.labs.web import services
from tests.labapp.frames import FrameLog
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.kernel]

PROMPT = re.escape("root@docker-host:/# ")


@pytest.fixture
def node(monkeypatch):
    daemon = RestartableDaemon("terminal-restore")
    monkeypatch.setenv("NSLAB_STATE_DIR", str(daemon.state_dir))
    yield daemon
    daemon.stop()


def test_the_shell_is_kept_across_a_daemon_restart(client, user_factory, node):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: re.search(PROMPT, log.tty()))

        async def type_(keys: str, pattern: str) -> str:
            start = len(log.tty())
            await comm.send_json_to({"type": "tty.input", "data": keys})
            return (await log.until(lambda: re.search(pattern, log.tty()[start:]))).group(1)

        shell = await type_("docker run -d --name web nginx >/dev/null; echo shell=$$\r", r"shell=(\d+)")
        node.kill(signal.SIGKILL)
        node.start()
        assert await type_("echo again=$$\r", r"again=(\d+)") == shell  # the same shell
        # Its history too (the pattern does not match the line that greps it).
        assert await type_("echo count=$(history | grep -c '[s]hell=\\$\\$')\r", r"count=(\d+)") == "1"
        assert await type_("docker ps --format 'up={{.Names}}'\r", r"up=(\w+)") == "web"
        # The live graph follows the new daemon's changes too.
        await type_("docker run -d --name web2 nginx >/dev/null; echo ran=$?\r", r"ran=(\d)")
        await log.until(
            lambda: any(f["type"] == "lab.state" and "web2" in json.dumps(f["snapshot"]) for f in log.frames)
        )
        await comm.disconnect()

    run_async(scenario)
