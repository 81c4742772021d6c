"""The lab page's terminal (`tty.input` / `lab.tty` frames) when the server was started in the background.

The lab node's daemon runs with SIGHUP, SIGINT and SIGQUIT ignored and SIGTSTP blocked (see
tests/topology/background_daemon.py); Ctrl-C, Ctrl-Z and a hang-up must still act as on a real host.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from channels.db import database_sync_to_async

from labapp.labs.web import services
from tests.labapp.frames import FrameLog
from tests.labapp.sockets import lab_socket, run_async, session_cookie
from tests.polling import wait_for
from tests.topology.background_daemon import BackgroundDaemon

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.kernel]

PROMPT = re.escape("root@docker-host:/# ")
DEADLINE = 20.0


def notices(log: FrameLog) -> list:
    """What each `lab.tty.open` the socket got said of its shell (why it is new)."""
    return [f["notice"] for f in log.of("lab.tty.open")]


@pytest.fixture
def background(monkeypatch):
    """The daemon every Client of this test talks to, started as a background start leaves it."""
    daemon = BackgroundDaemon("terminal-signals")
    monkeypatch.setenv("NSLAB_STATE_DIR", str(daemon.state_dir))
    yield daemon
    daemon.stop()


def test_ctrl_c_ctrl_z_and_hang_up_in_the_lab_terminal(client, user_factory, background):
    ada = user_factory("ada")
    cookie = session_cookie(client, ada)
    sandbox = {}

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        sid = sandbox["id"] = lab.sandbox_id
        comm = lab_socket(lab.pk, cookie)
        assert (await comm.connect())[0]
        log = FrameLog(comm)
        await log.until(lambda: re.search(PROMPT, log.tty()))

        async def type_(keys: str) -> int:
            start = len(log.tty())
            await comm.send_json_to({"type": "tty.input", "data": keys})
            return start

        async def seen(pattern: str, since: int) -> str:
            return (await log.until(lambda: re.search(pattern, log.tty()[since:]))).group(0)

        async def until(check, what: str) -> None:
            """Poll `check` (it asks the sandbox: blocking, so in a thread) until true, with a deadline."""
            deadline = time.monotonic() + DEADLINE
            while not await asyncio.to_thread(check):
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                await asyncio.sleep(0.05)

        async def running(command: str, want: bool = True) -> None:
            await until(lambda: background.running(sid, command) == want, f"{command!r} running: {want}")

        start = await type_("grep -E '^Sig(Ign|Blk)' /proc/self/status; tty\r")
        await seen(r"SigBlk:\t0{16}\r\nSigIgn:\t0{16}\r\n", start)
        tty = await seen(r"/dev/pts/\d+", start)

        await type_("sleep 4301\r")
        await running("sleep 4301")
        start = await type_("\x03")
        await seen(PROMPT, start)
        await running("sleep 4301", want=False)

        start = await type_("docker run -d --name web nginx\r")
        await seen(PROMPT, start)
        await type_("docker exec -it web sleep 4302\r")
        await running("sleep 4302")
        await until(lambda: "-isig" in background.run(sid, ["stty", "-F", tty, "-a"])[1], "raw mode")
        start = await type_("\x03")
        await seen(PROMPT, start)
        await running("sleep 4302", want=False)

        await type_("sleep 4303\r")
        await running("sleep 4303")
        start = await type_("\x1a")
        await seen(r"Stopped\s+sleep 4303", start)
        start = await type_("fg\r")
        await seen(r"sleep 4303\r\n", start + 2)
        await until(lambda: background.state(sid, "sleep 4303").startswith("S"), "fg to resume the job")
        start = await type_("\x03")
        await seen(PROMPT, start)
        await running("sleep 4303", want=False)

        await type_("sleep 4304\r")
        await running("sleep 4304")
        await comm.disconnect()

    run_async(scenario)  # stopping the node agent closes the lab's pty: a hang-up
    wait_for(
        lambda: not background.running(sandbox["id"], "sleep 4304"),
        timeout=DEADLINE,
        what="the hang-up to end the foreground job",
    )


def test_a_closed_page_hangs_up_the_shell_a_reload_keeps_it(client, user_factory, background, monkeypatch):
    """The last viewer gone for HANG_UP_AFTER seconds: SIGHUP to the shell's session, as when a terminal
    window closes; back within that time (a reload), the same shell and its scrollback."""
    from labapp.labs.node import agent

    ada = user_factory("ada")
    cookie = session_cookie(client, ada)
    sandbox = {}

    async def scenario():
        lab = await database_sync_to_async(services.lab_create)(owner=ada, docker_version="19.03")
        await lab.arefresh_from_db()
        sid = sandbox["id"] = lab.sandbox_id

        async def connect():
            comm = lab_socket(lab.pk, cookie)
            assert (await comm.connect())[0]
            log = FrameLog(comm)
            await log.until(lambda: re.search(PROMPT, log.tty()))
            return comm, log

        async def running(command: str, want: bool) -> None:
            deadline = time.monotonic() + DEADLINE
            while await asyncio.to_thread(background.running, sid, command) != want:
                assert time.monotonic() < deadline, f"timed out waiting for {command!r} running: {want}"
                await asyncio.sleep(0.05)

        comm, log = await connect()
        await comm.send_json_to({"type": "tty.input", "data": "echo mark-$((40+2)); sleep 4305\r"})
        await running("sleep 4305", want=True)
        await comm.disconnect()  # a reload: back at once, the same shell
        comm, log = await connect()
        assert "mark-42" in log.tty() and notices(log) == [None]
        await running("sleep 4305", want=True)

        monkeypatch.setattr(agent, "HANG_UP_AFTER", 0.5)
        await comm.disconnect()  # the page closed
        await running("sleep 4305", want=False)
        comm, log = await connect()
        assert notices(log) == ["hung_up"] and "mark-42" not in log.tty()
        # The note is the shell's, not the first page's: a second tab opening it says so too, in its
        # own language (the page renders the notice), and it is not in the shell's output.
        second, second_log = await connect()
        assert notices(second_log) == ["hung_up"] and "hung up" not in second_log.tty()
        await second.disconnect()
        # A new shell (after `exit`) has nothing to explain. (A shell that ends within a second of its
        # start is not replaced: the agent takes it for a sandbox gone.)
        await asyncio.sleep(1.0)
        await comm.send_json_to({"type": "tty.input", "data": "exit\r"})
        await log.until(lambda: log.of("lab.tty.reset"))
        await comm.disconnect()
        comm, log = await connect()
        assert notices(log) == [None]
        await comm.disconnect()

    run_async(scenario)
