"""Why a shell is new, on every page that opens its terminal: after the lab page was closed long enough
for its shell to be hung up, the next page, a second tab and a reload in Chinese all show the note
above the scrollback, in the page's language and set apart from the shell's output, and so does the
teacher watching the lab; the next shell (after `exit`) has none."""

from __future__ import annotations

import time

import pytest

from labapp.labs.node.agent import HANG_UP_AFTER, LINGER
from tests.browser.test_lab_page import TERMINAL_TEXT

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

HUNG_UP_EN = "The page was closed, so its shell was hung up (SIGHUP). This is a new shell."
HUNG_UP_ZH = "页面已关闭，它的 shell 已被挂断（SIGHUP）。这是一个新的 shell。"
# The first line's first cell: its background (xterm's 24-bit colour, 0xRRGGBB), set apart from output.
FIRST_CELL_BG = "() => nslab.terminal.term.buffer.active.getLine(0).getCell(1).getBgColor()"
AMBER = 0xFBBF24
# The demo teacher teaches the demo student (lab_server.python; prints the class's id).
CLASS = """
from django.contrib.auth import get_user_model
from labapp.classroom.models import Cohort, Enrolment
users = get_user_model().objects
cohort = Cohort.objects.create(name="Notice", course="docker-networking")
cohort.instructors.add(users.get(username="teacher"))
Enrolment.objects.create(cohort=cohort, student=users.get(username="student"))
print(cohort.pk)
"""


def unwrapped(page) -> str:
    """The terminal's text with its lines joined (a narrow terminal wraps the note)."""
    return page.evaluate(TERMINAL_TEXT).replace("\n", "")


def wait_for_text(page, text: str, timeout: int = 30_000) -> None:
    page.wait_for_function(f"(t) => ({TERMINAL_TEXT})().includes(t)", arg=text, timeout=timeout)


def open_lab(page, url: str) -> None:
    page.goto(url)
    wait_for_text(page, "root@")


def test_every_page_of_a_new_shell_says_why_in_its_language(lab_server, student_page, browser, artifacts):
    page, page_errors = student_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.click("form.inline button[type=submit]")  # New lab
    page.wait_for_url("**/labs/*/")
    url = page.url
    wait_for_text(page, "root@", 60_000)
    page.click("#terminal")
    page.keyboard.type("echo old-$((6*7))")
    page.keyboard.press("Enter")
    wait_for_text(page, "old-42")
    assert HUNG_UP_EN not in page.evaluate(TERMINAL_TEXT)

    page.goto(lab_server.base_url + "/")  # the page closed: its shell is hung up a while later
    time.sleep(HANG_UP_AFTER + LINGER / 2)
    open_lab(page, url)
    text = unwrapped(page)
    assert text.startswith("nslab: " + HUNG_UP_EN) and "old-42" not in text
    assert page.evaluate(FIRST_CELL_BG) == AMBER
    page.screenshot(path=artifacts / "notice-hung-up-1440.png")

    # A second tab of the same lab: the same note (it is the shell's, for its life).
    second = page.context.new_page()
    try:
        second.set_viewport_size({"width": 390, "height": 844})
        open_lab(second, url)
        assert unwrapped(second).startswith("nslab: " + HUNG_UP_EN)
        second.locator("#terminal").scroll_into_view_if_needed()
        second.screenshot(path=artifacts / "notice-hung-up-390.png")
        # In Chinese: the page renders the note in its own language.
        page.context.add_cookies(
            [{"name": "django_language", "value": "zh-hans", "url": lab_server.base_url}]
        )
        second.set_viewport_size({"width": 1440, "height": 900})
        open_lab(second, url)
        assert unwrapped(second).startswith("nslab: " + HUNG_UP_ZH)
        second.screenshot(path=artifacts / "notice-hung-up-zh-1440.png")
        second.set_viewport_size({"width": 390, "height": 844})
        second.locator("#terminal").scroll_into_view_if_needed()
        second.screenshot(path=artifacts / "notice-hung-up-zh-390.png")
    finally:
        second.close()
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": lab_server.base_url}])

    # The teacher watching the lab sees it too, in the teacher's language.
    cohort = lab_server.python(CLASS).strip()
    teacher = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US").new_page()
    try:
        base = lab_server.base_url
        teacher.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
        teacher.goto(base + "/accounts/login/")
        teacher.fill("input[name=username]", "teacher")
        teacher.fill("input[name=password]", "teacher")
        teacher.click("button[type=submit]")
        teacher.wait_for_url(base + "/")
        lab_id = url.rstrip("/").rsplit("/", 1)[1]
        open_lab(teacher, f"{base}/teach/{cohort}/labs/{lab_id}/")
        assert unwrapped(teacher).startswith("nslab: " + HUNG_UP_ZH)
        teacher.screenshot(path=artifacts / "notice-hung-up-watch-zh-1440.png")
    finally:
        teacher.context.close()

    # `exit`: a new shell, which has nothing to explain, then or after a reload.
    page.click("#terminal")
    page.keyboard.type("exit")
    page.keyboard.press("Enter")
    page.wait_for_function(f"(t) => !({TERMINAL_TEXT})().includes(t)", arg=HUNG_UP_EN)
    wait_for_text(page, "root@")
    open_lab(page, url)
    assert "nslab:" not in page.evaluate(TERMINAL_TEXT)
    assert not page_errors
