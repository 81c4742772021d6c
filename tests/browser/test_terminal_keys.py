"""Ctrl-C, Ctrl-\\ and Ctrl-Z in the lab page's terminal, with the server started as a background start
leaves it (`make run &`: SIGINT and SIGQUIT ignored), in the shell and in `docker exec -it`."""

from __future__ import annotations

import os
import re
import signal

import pytest

from bench.labserver import LabServer
from tests.browser.test_lab_page import TERMINAL_TEXT
from tests.polling import wait_for

pytestmark = pytest.mark.slow

PROMPT = "root@docker-host:/#"  # lines are read with trailing blanks trimmed


@pytest.fixture(scope="module")
def lab_server():
    """This module's own server: daphne (and so the lab-node daemon it starts) ignores SIGINT, SIGQUIT."""
    server = LabServer("browser-keys", ignored_signals=(signal.SIGINT, signal.SIGQUIT)).start()
    try:
        yield server
    finally:
        server.stop()


def terminal_text(page) -> str:
    return page.evaluate(f"({TERMINAL_TEXT})()")


def run(page, command: str, *, then: str) -> None:
    """Type `command` and Enter, then wait until the terminal shows `then` after what it showed before."""
    before = terminal_text(page).count(then)
    page.keyboard.type(command)
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"([then, before]) => ({TERMINAL_TEXT})().split(then).length - 1 > before",
        arg=[then, before],
        timeout=30_000,
    )


def press_until_prompt(page, key: str, marker: str) -> None:
    """Press `key` while a command runs; the prompt is back when `echo` of `marker` answers."""
    page.keyboard.press(key)
    run(page, f"echo {marker}-$((40+2))", then=f"{marker}-42")


def test_ctrl_c_ctrl_backslash_ctrl_z_in_the_shell_and_docker_exec(student_page, lab_server, artifacts):
    page, page_errors = student_page
    page.click("form.inline button[type=submit]")  # New lab
    page.wait_for_url("**/labs/*/")
    page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes({PROMPT!r})", timeout=60_000)
    page.click("#terminal")
    (sandbox,) = lab_server.sandboxes()

    def sleeping(seconds: int) -> bool:
        with open(os.devnull, "wb") as null:
            argv = ["pgrep", "-f", f"^sleep {seconds}$"]
            return lab_server.client().exec(sandbox["id"], argv, stdio=(null.fileno(),) * 3) == 0

    run(page, "grep -E '^Sig(Ign|Blk)' /proc/self/status", then="SigIgn:")
    assert re.search(r"SigBlk:\s+0{16}\s+SigIgn:\s+0{16}", terminal_text(page)), terminal_text(page)

    page.keyboard.type("sleep 4401")
    page.keyboard.press("Enter")
    _wait(lambda: sleeping(4401), "sleep 4401 to run")
    press_until_prompt(page, "Control+c", "after-ctrl-c")
    assert not sleeping(4401)

    page.keyboard.type("sleep 4402")
    page.keyboard.press("Enter")
    _wait(lambda: sleeping(4402), "sleep 4402 to run")
    press_until_prompt(page, "Control+Backslash", "after-ctrl-backslash")
    assert "Quit" in terminal_text(page)

    page.keyboard.type("sleep 4403")
    page.keyboard.press("Enter")
    _wait(lambda: sleeping(4403), "sleep 4403 to run")
    page.keyboard.press("Control+z")
    page.wait_for_function(f"() => /Stopped\\s+sleep 4403/.test(({TERMINAL_TEXT})())", timeout=30_000)
    run(page, "bg; jobs; echo bg-$((40+2))", then="bg-42")
    assert re.search(r"Running\s+sleep 4403 &", terminal_text(page)), terminal_text(page)
    run(page, "kill %1; wait; echo killed-$((40+2))", then="killed-42")
    assert not sleeping(4403)

    run(page, "docker run -d --name web nginx && echo web-$((40+2))", then="web-42")
    page.keyboard.type("docker exec -it web sleep 4404")
    page.keyboard.press("Enter")
    _wait(lambda: sleeping(4404), "sleep 4404 to run in the container")
    # Keys typed before the exec has ended go to the container, as with Docker: wait for the prompt.
    prompts = terminal_text(page).count(PROMPT)
    page.keyboard.press("Control+c")
    _wait(lambda: not sleeping(4404), "sleep 4404 to end")
    _wait(lambda: terminal_text(page).count(PROMPT) > prompts, "the prompt after the exec")
    run(page, "echo after-exec-ctrl-c-$((40+2))", then="after-exec-ctrl-c-42")
    page.screenshot(path=artifacts / "terminal-keys.png")
    assert not page_errors, page_errors


def _wait(predicate, what: str) -> None:
    wait_for(predicate, timeout=30, what=what)
