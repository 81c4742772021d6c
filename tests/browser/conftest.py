"""Fixtures of the browser tests: a real nslab server (daphne subprocess) and Debian's chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.labserver import LabServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def lab_server():
    """The web lab served in the embedded mode on a free port, with its own database and daemon."""
    if os.geteuid() != 0:
        pytest.skip("the browser test runs the lab engine as root here (CI is root)")
    server = LabServer("browser").start()
    try:
        yield server
    finally:
        server.stop()


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is open,
# which later tests' async_to_sync would refuse.
@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: make setup installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def student_page(lab_server, browser):
    """A page of a fresh browser context, logged in as the demo student: (page, page errors).

    At the end it checks that the page asked nothing of another origin (no CDN: every script, style
    and font is nslab's own) and that no static file failed to load."""
    base = lab_server.base_url
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    missing: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.on("request", lambda request: _note_foreign(request.url, base, foreign))
    page.on("response", lambda answer: _note_missing(answer, base, missing))
    try:
        page.goto(base + "/")
        page.fill("input[name=username]", "student")
        page.fill("input[name=password]", "student")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        yield page, errors
    finally:
        context.close()
    assert not foreign, f"requests to other origins: {foreign}"
    assert not missing, f"static files not served: {missing}"


def _note_foreign(url: str, base: str, foreign: list[str]) -> None:
    if not url.startswith((base + "/", "data:", "blob:")):
        foreign.append(url)


def _note_missing(answer, base: str, missing: list[str]) -> None:
    if answer.url.startswith(base + "/static/") and answer.status >= 400:
        missing.append(f"{answer.status} {answer.url}")
