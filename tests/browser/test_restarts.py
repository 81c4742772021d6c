"""The web process restarts under an open lab page: the page says it is reconnecting, then its terminal
and graph work again without a reload."""

from __future__ import annotations

import pytest

from bench.labserver import LabServer
from tests.browser.test_lab_page import TERMINAL_TEXT

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

DRAWN_SEQ = "() => Number(document.querySelector('#graph').dataset.drawnSeq || 0)"


@pytest.fixture(scope="module")
def lab_server():
    """A server of this module's own: the test restarts it."""
    server = LabServer("restarts").start()
    try:
        yield server
    finally:
        server.stop()


def type_line(page, line: str) -> None:
    page.click("#terminal")
    page.keyboard.type(line)
    page.keyboard.press("Enter")


def test_the_lab_page_reconnects_after_the_web_server_restarts(lab_server, student_page, artifacts):
    page, page_errors = student_page
    page.click("form.inline button[type=submit]")  # New lab
    page.wait_for_url("**/labs/*/")
    page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
    page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
    type_line(page, "echo before-$((6*7))")
    page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('before-42')", timeout=30_000)
    drawn = page.evaluate(DRAWN_SEQ)

    lab_server.end_daphne()
    page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
    assert "reconnecting" in page.inner_text("#connection")
    page.screenshot(path=artifacts / "restart-1-reconnecting.png")

    lab_server.serve()
    page.wait_for_selector("#connection", state="hidden", timeout=30_000)
    # The same lab: a new shell (the old one ended with the process that held its terminal), a
    # fresh kernel state drawn.
    page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
    page.wait_for_function(f"() => ({DRAWN_SEQ})() > {drawn}", timeout=30_000)
    type_line(page, "echo after-$((6*7))")
    page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('after-42')", timeout=30_000)
    page.screenshot(path=artifacts / "restart-2-reconnected.png")
    assert not page_errors
