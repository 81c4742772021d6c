"""The lab shell's window size over the socket: of several tty.resize frames in a row, the newest wins."""

from __future__ import annotations

import asyncio
import re

import pytest
from channels.db import database_sync_to_async

from labapp.labs.web import services
from tests.labapp.frames import FrameLog
from tests.labapp.sockets import lab_socket, run_async, session_cookie

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.kernel]

PROMPT = "root@docker-host:/# "
# Sizes sent in a row: the shell must end at the last one.
SIZES = [(81, 25), (150, 50), (60, 20), (132, 43), (117, 37)]


@pytest.mark.usefixtures("sandboxes_cleaned")
def test_the_newest_size_wins(client, user_factory):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)

        # While the shell starts (nslab-pty reads its size, forks, passes SIGWINCHes on), one after
        # the other: the last one must be the shell's.
        for size in SIZES * 20:
            await comm.send_json_to({"type": "tty.resize", "cols": size[0], "rows": size[1]})
            await asyncio.sleep(0.002)
        await log.until(lambda: PROMPT in log.tty())
        await comm.send_json_to({"type": "tty.input", "data": "echo size: $(stty size)\r"})
        found = await log.until(lambda: re.search(r"[\r\n]size: (\d+) (\d+)\r", log.tty()))
        assert (int(found.group(2)), int(found.group(1))) == SIZES[-1]
        await comm.disconnect()

    run_async(scenario)
