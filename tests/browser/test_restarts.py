"""Restarts under an open lab page: the web process (embedded mode), and Redis under the production
shape (bench/production.py). Each time the page says it is reconnecting, then its graph and terminal
work again without a reload."""

from __future__ import annotations

import socket

import pytest

from bench.labserver import LabServer
from bench.production import Services, postgres_database
from tests.browser.test_lab_page import TERMINAL_TEXT
from tests.polling import wait_for
from tests.redis_server import PrivateRedis

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

DRAWN_SEQ = "() => Number(document.querySelector('#graph').dataset.drawnSeq || 0)"
STATES_SEEN = """() => { window.statesSeen = 0; window.addEventListener('nslab:frame', (event) => {
  if (event.detail.type === 'lab.state') window.statesSeen += 1; }); }"""


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


@pytest.fixture
def production(tmp_path):
    """The web and labnode services of docker-compose.yml on PostgreSQL and a Redis of the test's own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis_server = PrivateRedis(port, tmp_path)
    redis_server.start()
    try:
        with postgres_database("nslab_browser") as url:
            services = Services(tmp_path, url, redis_server.url)
            try:
                services.manage("collectstatic", "--noinput", "--verbosity", "0")
                services.start("web")
                wait_for(services.serving, 120, 0.2, "the web service")
                services.start("labnode")
                services.manage("nslab_demo_users", "--force")
                yield services, redis_server
            finally:
                services.stop()
    finally:
        redis_server.stop()


def test_the_lab_page_reconnects_after_redis_restarts(production, browser, artifacts):
    services, redis_server = production
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(services.base_url + "/accounts/login/")
        page.fill("input[name=username]", "student")
        page.fill("input[name=password]", "student")
        page.click("button[type=submit]")
        page.click("form.inline button[type=submit]")  # New lab, prepared by the lab node's worker
        page.wait_for_url("**/labs/*/")
        page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        type_line(page, "echo before-$((6*7))")
        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('before-42')", timeout=30_000)

        redis_server.stop()
        page.wait_for_selector("#connection:not([hidden])", timeout=10_000)
        assert "reconnecting" in page.inner_text("#connection")
        # Counted from now, while no socket is open: the states the page gets once it reconnects.
        page.evaluate(STATES_SEEN)
        redis_server.start()
        page.wait_for_selector("#connection", state="hidden", timeout=60_000)
        page.wait_for_function("() => window.statesSeen > 0", timeout=30_000)
        # The same shell (the lab node kept it): what was typed before is in its scrollback.
        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('before-42')", timeout=30_000)
        type_line(page, "echo after-$((6*7))")
        page.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('after-42')", timeout=30_000)
        page.screenshot(path=artifacts / "restart-3-after-redis.png")
        assert not page_errors
    finally:
        context.close()
