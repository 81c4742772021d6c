"""A long paste into the lab terminal in a real browser: every byte reaches the shell, in order."""

from __future__ import annotations

import hashlib

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

TERMINAL_TEXT = """() => { const b = nslab.terminal.term.buffer.active; const out = [];
  for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true).trimEnd());
  return out.join('\\n'); }"""


def wait_for_text(page, text: str, timeout_ms: int = 30_000) -> None:
    page.wait_for_function(f"(text) => ({TERMINAL_TEXT})().includes(text)", arg=text, timeout=timeout_ms)


def test_a_200_kb_paste_reaches_cat_whole(student_page, artifacts):
    page, page_errors = student_page
    paste = "".join(f"{n:05d}" + "y" * 94 + "\n" for n in range(2000))  # 200 kB, more than one frame
    digest = hashlib.sha1(paste.replace("\n", "").encode()).hexdigest()
    try:
        page.click("form.inline button[type=submit]")  # New lab
        page.wait_for_url("**/labs/*/")
        wait_for_text(page, "root@", timeout_ms=60_000)
        page.click("#terminal")
        # Once the shell has printed 42 (not its echo of the command line), it has left its line editor
        # (raw mode, bracketed paste) for `cat`.
        page.keyboard.type("echo cat-$((40+2)); stty -echo; cat > /tmp/pasted")
        page.keyboard.press("Enter")
        wait_for_text(page, "cat-42")
        page.evaluate("(text) => nslab.terminal.term.paste(text)", paste)
        page.keyboard.press("Control+D")
        page.keyboard.type("stty echo; tr -d '\\r\\n' < /tmp/pasted | sha1sum; wc -c < /tmp/pasted")
        page.keyboard.press("Enter")
        wait_for_text(page, digest, timeout_ms=60_000)
        wait_for_text(page, "\n200000")
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "terminal-paste-failed.png", full_page=True)
        raise
