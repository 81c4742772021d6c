"""The exercise panel in a real browser: start an exercise, pick a rule with the keyboard, Check."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

# The text of the focused rule row, or null when the focus is elsewhere.
GRAPH_FITS = (
    "() => { const g = document.getElementById('graph');"
    " return g.offsetWidth <= g.closest('.card').clientWidth; }"
)
FOCUSED_ROW = (
    "() => document.activeElement?.matches('#panel-rules tr[data-rule]')"
    " ? document.activeElement.textContent : null"
)


def test_student_picks_the_masquerade_rule_with_the_keyboard(lab_server, student_page, artifacts):
    lab_server.manage("exercises", "load")
    base = lab_server.base_url
    page, page_errors = student_page
    try:
        page.goto(base + "/courses/docker-networking/")
        page.click("form[action='/exercises/masquerade/start'] button[type=submit]")
        page.wait_for_url("**/labs/*/")
        page.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=60_000)
        task = page.locator(".task[data-task-id=which-rule]")
        assert "passed" not in (task.get_attribute("class") or "")
        # Beside the exercise panel the whole graph fits its card (no sideways scrolling).
        assert page.evaluate(GRAPH_FITS)

        # Keyboard only: the pick button, then Tab through the rule rows to MASQUERADE, Enter.
        pick = task.locator("[data-pick]")
        pick.focus()
        page.keyboard.press("Enter")
        assert pick.get_attribute("aria-pressed") == "true"
        page.wait_for_function(FOCUSED_ROW, timeout=10_000)
        page.select_option("#panel-rules select[data-table]", "nat")
        page.locator("#panel-rules tr[data-rule]").first.focus()
        for _ in range(40):
            if "-j MASQUERADE" in (page.evaluate(FOCUSED_ROW) or ""):
                break
            page.keyboard.press("Tab")
        assert "-j MASQUERADE" in (page.evaluate(FOCUSED_ROW) or "")
        page.keyboard.press("Enter")
        picked = task.locator("[data-picked]")
        assert "chain POSTROUTING" in picked.text_content()
        assert pick.get_attribute("aria-pressed") == "false"
        assert page.evaluate("document.activeElement.matches('[data-pick]')")
        assert page.locator("#panel-rules tr[data-rule][tabindex]").count() == 0

        # Check: the probe's request moved that rule's counter, so the task passes.
        page.click("#exercise-check")
        page.wait_for_function(
            "() => document.querySelector('.task[data-task-id=which-rule]').classList.contains('passed')",
            timeout=60_000,
        )
        page.screenshot(path=artifacts / "exercise-picked.png", full_page=True)
        assert not page_errors, page_errors
    except Exception:
        page.screenshot(path=artifacts / "exercise-failed.png", full_page=True)
        raise
