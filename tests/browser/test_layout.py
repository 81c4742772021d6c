"""The lab page's layout on a desktop, a laptop and a phone, with and without an exercise beside it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

SIZES = [(1440, 900), (1280, 720), (390, 844)]
# The box of an element in viewport coordinates (after scrolling to the top).
BOX = """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return [r.top, r.bottom, r.left, r.right]; }"""
ROW_HEIGHT = "() => document.querySelector('#terminal .xterm-screen').offsetHeight / nslab.terminal.term.rows"
# Elements sticking out to the right of the viewport (what makes the page scroll sideways).
TOO_WIDE = """() => { const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return [];
  return [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > w + 1)
    .slice(0, 8).map((el) => el.tagName + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.'));
}"""


def open_ready_lab(page) -> None:
    page.wait_for_url("**/labs/*/")
    page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
    page.wait_for_function("() => nslab.terminal.term.buffer.active.length > 0 && nslab.status === 'ready'")


def at_size(page, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.evaluate("() => window.scrollTo(0, 0)")


def visible_rows(page, height: int) -> float:
    """How many terminal rows are on the first screen."""
    top, bottom, *_ = page.evaluate(BOX, "#terminal .xterm-screen")
    return (min(bottom, height) - max(top, 0)) / page.evaluate(ROW_HEIGHT)


def assert_within_width(page, what: str) -> None:
    assert page.evaluate(TOO_WIDE) == [], f"{what}: elements wider than the viewport"


def test_plain_lab_page_at_three_sizes(student_page, artifacts):
    page, page_errors = student_page
    page.click("form.inline button[type=submit]")  # New lab
    open_ready_lab(page)
    for width, height in SIZES:
        at_size(page, width, height)
        page.screenshot(path=artifacts / f"layout-lab-{width}x{height}.png")
        assert_within_width(page, f"lab page at {width}x{height}")
        if width >= 1000:
            # Graph and terminal side by side, both whole on the first screen.
            for selector in (".graph-card", ".term-card"):
                top, bottom, left, right = page.evaluate(BOX, selector)
                assert top >= 0 and bottom <= height and right <= width, f"{selector} at {width}x{height}"
            assert visible_rows(page, height) >= 20
        # The panels are below: their tabs and tables can be reached.
        page.locator("#tab-rules").click()
        page.locator("#panel-rules table").first.wait_for(timeout=30_000)
        assert_within_width(page, f"lab page's rules at {width}x{height}")
        page.screenshot(path=artifacts / f"layout-lab-{width}x{height}-full.png", full_page=True)
        page.locator("#tab-interfaces").click()
    page.locator("#terminal").scroll_into_view_if_needed()
    assert visible_rows(page, 844) >= 10, "the terminal on a phone"
    assert not page_errors, page_errors


def test_exercise_page_at_three_sizes(lab_server, student_page, artifacts):
    lab_server.manage("exercises", "load")
    page, page_errors = student_page
    page.goto(lab_server.base_url + "/courses/docker-networking/")
    page.click("form[action='/exercises/masquerade/start'] button[type=submit]")
    open_ready_lab(page)
    for width, height in SIZES:
        at_size(page, width, height)
        page.screenshot(path=artifacts / f"layout-exercise-{width}x{height}.png")
        assert_within_width(page, f"exercise at {width}x{height}")
        if width >= 1000:
            # Lesson, tasks, graph and terminal together on the first screen, without scrolling.
            assert visible_rows(page, height) >= 10, f"terminal rows on the first screen at {width}x{height}"
            top, bottom, *_ = page.evaluate(BOX, "#exercise-check")
            assert top >= 0 and bottom <= height, f"the Check button at {width}x{height}"
            top, bottom, *_ = page.evaluate(BOX, ".graph-card")
            assert top >= 0 and bottom <= height, f"the graph at {width}x{height}"
            # The task list scrolls into view inside the side card; the page does not move.
            page.locator(".task").first.scroll_into_view_if_needed()
            assert page.evaluate("() => window.scrollY") == 0
            top, bottom, *_ = page.evaluate(BOX, ".task")
            assert top >= 0 and bottom <= height
            page.screenshot(path=artifacts / f"layout-exercise-{width}x{height}-tasks.png")
        else:
            # A phone: the terminal comes right after the exercise, and typing there works.
            page.locator("#terminal").scroll_into_view_if_needed()
            assert visible_rows(page, height) >= 10, "the terminal on a phone"
            page.screenshot(path=artifacts / f"layout-exercise-{width}x{height}-terminal.png")
            page.locator("#exercise-check").scroll_into_view_if_needed()
            page.screenshot(path=artifacts / f"layout-exercise-{width}x{height}-check.png")
        page.screenshot(path=artifacts / f"layout-exercise-{width}x{height}-full.png", full_page=True)

    # Large text (a projector) on a laptop: everything grows, the terminal stays on the first screen.
    at_size(page, 1280, 720)
    page.click("#font-toggle")
    at_size(page, 1280, 720)
    page.screenshot(path=artifacts / "layout-exercise-1280x720-large.png")
    assert visible_rows(page, 720) >= 10, "terminal rows on the first screen with large text"
    top, bottom, *_ = page.evaluate(BOX, "#exercise-check")
    assert top >= 0 and bottom <= 720, "the Check button with large text"
    assert_within_width(page, "exercise with large text")
    page.click("#font-toggle")
    assert not page_errors, page_errors
