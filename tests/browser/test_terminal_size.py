"""The lab shell's pty has xterm's size: after load, after reconnects and after every viewport resize."""

from __future__ import annotations

import itertools

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

XTERM_SIZE = "() => [nslab.terminal.term.rows, nslab.terminal.term.cols]"
# The last terminal line that starts with `marker`, or null.
LINE_AFTER = """(marker) => { const b = nslab.terminal.term.buffer.active;
  for (let i = b.length - 1; i >= 0; i--) {
    const text = b.getLine(i).translateToString(true).trim();
    if (text.startsWith(marker)) return text;
  }
  return null; }"""
# Resolves once the browser has drawn twice: resize observers and fits have run.
SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
# xterm's grid fits inside the terminal's box (the fit used the box's real size).
GRID_INSIDE = """() => { const box = document.getElementById('terminal').getBoundingClientRect();
  const screen = document.querySelector('#terminal .xterm-screen').getBoundingClientRect();
  return screen.right <= box.right + 0.5 && screen.bottom <= box.bottom + 0.5; }"""
# The screen was cleared for a new shell (no earlier `stty size` answer left) and its prompt is there.
FRESH_SHELL = f"() => ({LINE_AFTER})('size') === null && ({LINE_AFTER})('root@') !== null"
_markers = itertools.count(1)


def shell_size(page) -> tuple[int, int]:
    """(rows, cols) as the lab's shell sees them: `stty size`, typed into the terminal."""
    marker = f"size{next(_markers)}:"
    page.evaluate(SETTLED)
    page.keyboard.type(f"echo {marker} $(stty size)")
    page.keyboard.press("Enter")
    line = page.wait_for_function(
        f"(m) => {{ const l = ({LINE_AFTER})(m); return l && /\\d+ \\d+$/.test(l) ? l : null; }}",
        arg=marker,
        timeout=20_000,
    ).json_value()
    rows, cols = line.split()[-2:]
    return int(rows), int(cols)


def assert_shell_has_xterm_size(page, when: str) -> tuple[int, int]:
    seen = shell_size(page)
    shown = tuple(page.evaluate(XTERM_SIZE))
    assert seen == shown, f"{when}: the shell has {seen} (rows, cols), xterm shows {shown}"
    assert page.evaluate(GRID_INSIDE), f"{when}: xterm's grid is larger than its box"
    return seen


def wait_for_prompt(page) -> None:
    page.wait_for_function(f"() => ({LINE_AFTER})('root@') !== null", timeout=60_000)
    page.click("#terminal")


def test_the_shell_always_has_the_terminals_size(student_page, artifacts):
    page, page_errors = student_page
    try:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.click("form.inline button[type=submit]")  # New lab
        page.wait_for_url("**/labs/*/")
        wait_for_prompt(page)
        rows, cols = assert_shell_has_xterm_size(page, "after load at 1440x900")
        assert cols >= 100, f"{cols} columns at 1440x900: too narrow for docker ps and iptables -nvL"

        # Several resizes, each checked, then several in a row without waiting.
        for width, height in [(1280, 720), (1366, 768), (1000, 700), (390, 844), (1440, 900)]:
            page.set_viewport_size({"width": width, "height": height})
            assert_shell_has_xterm_size(page, f"after a resize to {width}x{height}")
        for width, height in [(1200, 800), (1500, 950), (900, 600), (1300, 760)]:
            page.set_viewport_size({"width": width, "height": height})
        assert_shell_has_xterm_size(page, "after resizes in a row")

        # Reconnect: the socket drops, the window changes meanwhile, the socket comes back.
        page.evaluate("() => nslab.socket.ws.close()")
        page.wait_for_selector("#connection", state="visible", timeout=10_000)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.wait_for_selector("#connection", state="hidden", timeout=30_000)
        assert_shell_has_xterm_size(page, "after a reconnect")

        # Reload at another size: the same shell, the new page's size.
        page.set_viewport_size({"width": 1280, "height": 720})
        page.reload()
        wait_for_prompt(page)
        assert_shell_has_xterm_size(page, "after a reload")

        # `exit`: a new shell, at the terminal's size too.
        page.keyboard.type("exit")
        page.keyboard.press("Enter")
        page.wait_for_function(FRESH_SHELL, timeout=30_000)
        assert_shell_has_xterm_size(page, "in the shell after exit")

        # Reset: a new sandbox (the page says "preparing", then "ready") and its new shell.
        page.click("button[data-action=reset]")
        page.wait_for_function(FRESH_SHELL, timeout=60_000)
        page.click("#terminal")
        assert_shell_has_xterm_size(page, "after a reset")
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "terminal-size-failed.png")
        raise
