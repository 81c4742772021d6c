"""Signals in a sandbox whatever started the server: Ctrl-C, Ctrl-\\, Ctrl-Z and hang-up on a terminal.

The daemon is started with SIGHUP, SIGINT and SIGQUIT ignored and SIGTSTP blocked, as a background start
leaves it (tests/topology/background_daemon.py); every process the student starts must still see the
default dispositions and an empty mask, as after a login on a real host.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import termios
import threading
import time

import pytest

from tests.polling import wait_for
from tests.topology.background_daemon import BLOCKED, IGNORED, BackgroundDaemon, signal_status

pytestmark = pytest.mark.kernel

SHELL_ARGV = ["setsid", "-c", "nslab-pty", "bash", "-l"]  # the lab page's (labapp.labs.terminal)
PROMPT = "root@docker-host:/# "
DEADLINE = 20.0
ZEROS = "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"


class Terminal:
    """A login shell of the sandbox on a pty of ours, run through the daemon's exec as the lab page's
    is: keys go in, the screen's text comes out."""

    def __init__(self, daemon: BackgroundDaemon, sid: str):
        self.master, slave = os.openpty()
        os.set_blocking(self.master, False)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.text = ""

        def run():
            try:
                daemon.client.exec(sid, SHELL_ARGV, stdio=(slave, slave, slave))
            finally:
                os.close(slave)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.expect(PROMPT)

    def type(self, keys: str) -> int:
        """Send keys; returns where the output that follows them starts."""
        start = len(self.text)
        os.write(self.master, keys.encode())
        return start

    def expect(self, pattern: str, since: int = 0, timeout: float = DEADLINE) -> str:
        """Read until `pattern` (a regular expression) matches the output from `since` on."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.text[since:])):
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout} s; screen:\n{self.text[-1500:]}")
            try:
                self.text += os.read(self.master, 65536).decode(errors="replace")
            except BlockingIOError:
                time.sleep(0.02)
        return found.group(0)

    def command(self, line: str) -> str:
        """Run a command line that ends, and return what it printed."""
        start = self.type(line + "\r")
        self.expect(re.escape(PROMPT), since=start + len(line))
        printed = self.text[start:].split("\n", 1)[1].rsplit(PROMPT, 1)[0]
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", printed)

    def hang_up(self) -> None:
        os.close(self.master)


@pytest.fixture(scope="module")
def background():
    daemon = BackgroundDaemon("signals")
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def sid(background):
    sid = background.client.up()["id"]
    code, out = background.run(sid, ["docker", "run", "-d", "--name", "web", "nginx"])
    assert code == 0, out
    return sid


@pytest.fixture
def term(background, sid):
    terminal = Terminal(background, sid)
    yield terminal
    terminal.hang_up()
    terminal.thread.join(DEADLINE)


def _started(background, sid, command):
    wait_for(lambda: background.running(sid, command), timeout=DEADLINE, what=f"{command!r} to run")


def _gone(background, sid, command):
    wait_for(lambda: not background.running(sid, command), timeout=DEADLINE, what=f"{command!r} to end")


def _attached(background, sid, term, line: str) -> int:
    """Run a `docker ... -it` command line; return once it has made the shell's terminal raw (keys
    then go to the container's terminal), with where its output starts."""
    tty = term.command("tty").strip()
    start = term.type(line + "\r")
    wait_for(
        lambda: "-isig" in background.run(sid, ["stty", "-F", tty, "-a"])[1],
        timeout=DEADLINE,
        what="raw mode",
    )
    return start


def test_the_daemon_runs_with_the_background_dispositions(background):
    status = signal_status(background.process.pid)
    assert all(status["SigIgn"] & 1 << (sig - 1) for sig in IGNORED)
    assert all(status["SigBlk"] & 1 << (sig - 1) for sig in BLOCKED)


def test_sandbox_processes_see_default_dispositions_and_an_empty_mask(background, sid):
    grep = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    assert background.run(sid, grep) == (0, ZEROS)
    assert background.run(sid, grep, ns="web") == (0, ZEROS)
    assert background.run(sid, ["docker", "exec", "web", *grep]) == (0, ZEROS)
    assert background.run(sid, ["docker", "run", "--rm", "busybox", *grep]) == (0, ZEROS)


def test_the_shell_and_its_commands_see_default_dispositions(term):
    assert term.command("grep -E '^Sig(Ign|Blk)' /proc/self/status") == ZEROS
    assert term.command("docker exec -it web grep -E '^Sig(Ign|Blk)' /proc/self/status") == ZEROS


def test_ctrl_c_and_ctrl_backslash_end_the_foreground_job(background, sid, term):
    term.type("sleep 4201\r")
    _started(background, sid, "sleep 4201")
    start = term.type("\x03")
    term.expect(re.escape(PROMPT), since=start)
    _gone(background, sid, "sleep 4201")

    # A docker command that hangs: Ctrl-C ends the client (the command goes on in the container, as
    # with Docker without -t).
    term.type("docker exec web sleep 4208\r")
    _started(background, sid, "sleep 4208")
    start = term.type("\x03")
    term.expect(re.escape(PROMPT), since=start)

    term.type("sleep 4202\r")
    _started(background, sid, "sleep 4202")
    start = term.type("\x1c")
    term.expect("Quit", since=start)
    term.expect(re.escape(PROMPT), since=start)
    _gone(background, sid, "sleep 4202")


def test_ctrl_z_stops_the_job_and_fg_bg_resume_it(background, sid, term):
    term.type("sleep 4203\r")
    _started(background, sid, "sleep 4203")
    start = term.type("\x1a")
    term.expect(r"Stopped\s+sleep 4203", since=start)
    term.expect(re.escape(PROMPT), since=start)
    assert re.search(r"\[1\]\+\s+Stopped\s+sleep 4203", term.command("jobs"))
    assert background.state(sid, "sleep 4203").startswith("T")

    start = term.type("fg\r")
    term.expect("sleep 4203", since=start + 3)
    wait_for(
        lambda: background.state(sid, "sleep 4203").startswith("S"),
        timeout=DEADLINE,
        what="the job to run again",
    )
    start = term.type("\x1a")
    term.expect(r"Stopped\s+sleep 4203", since=start)
    term.expect(re.escape(PROMPT), since=start)  # the prompt after it, before typing on
    assert re.search(r"\[1\]\+\s+sleep 4203 &", term.command("bg"))
    assert re.search(r"\[1\]\+\s+Running\s+sleep 4203 &", term.command("jobs"))
    term.command("kill %1")
    _gone(background, sid, "sleep 4203")


def test_ctrl_c_reaches_the_foreground_process_in_docker_exec_it(background, sid, term):
    _attached(background, sid, term, "docker exec -it web sleep 4204")
    _started(background, sid, "sleep 4204")
    start = term.type("\x03")
    term.expect(re.escape(PROMPT), since=start)
    _gone(background, sid, "sleep 4204")


def test_ctrl_c_ends_docker_exec_t_alone_and_the_command_goes_on(background, sid, term):
    # Without -i the terminal stays cooked: Ctrl-C is the client's SIGINT, as with Docker's CLI
    tty = term.command("tty").strip()
    term.type("docker exec -t web sleep 4209\r")
    _started(background, sid, "sleep 4209")
    assert re.search(r"(^|\s)isig icanon ", background.run(sid, ["stty", "-F", tty, "-a"])[1])
    start = term.type("\x03")
    term.expect(re.escape(PROMPT), since=start)
    assert term.command("echo $?") == "130\n"
    assert background.running(sid, "sleep 4209")


def test_a_shell_in_docker_run_it_has_job_control(background, sid, term):
    start = _attached(background, sid, term, "docker run -it --rm --name box busybox sh")
    term.expect("/ # ", since=start)
    assert "job control turned off" not in term.text[start:]
    start = term.type("sleep 4205\r")
    _started(background, sid, "sleep 4205")
    term.type("\x03")
    term.expect("/ # ", since=start + len("sleep 4205"))
    _gone(background, sid, "sleep 4205")
    start = term.type("echo pid $$ of $((6 * 7)); exit\r")
    term.expect("pid 1 of 42", since=start)
    term.expect(re.escape(PROMPT), since=start)


def test_a_hang_up_ends_the_shell_and_its_jobs(background, sid):
    term = Terminal(background, sid)
    term.type("sleep 4206 &\r")
    _started(background, sid, "sleep 4206")
    term.type("docker exec -it web sleep 4207\r")
    _started(background, sid, "sleep 4207")
    term.hang_up()
    term.thread.join(DEADLINE)
    assert not term.thread.is_alive()
    _gone(background, sid, "sleep 4206")
    _gone(background, sid, "sleep 4207")


def test_ctrl_c_reaches_pid_1_of_docker_run_it_that_handles_it(background, sid, term):
    # As with Docker, pid 1 of a container gets only the signals it handles: busybox ping handles SIGINT
    # (a plain `sleep` would not stop, nor does it under Docker without --init).
    start = _attached(background, sid, term, "docker run -it --rm busybox ping 127.0.0.1")
    term.expect("bytes from 127.0.0.1", since=start)
    start = term.type("\x03")
    term.expect("packets transmitted", since=start)
    term.expect(re.escape(PROMPT), since=start)
