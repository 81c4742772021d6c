"""A `trace` check's result in Chinese, in a real browser: the student's lab page (live, then after a
reload), the teacher's watch view of it and the class dashboard's failed checks show the walk's
verdict and last step in Chinese, with no English left; when the student, gone on in English, passes
it, the teacher's Chinese watch view shows the passed check in Chinese, live."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_classroom import TERMINAL_TEXT, create_class, join_class, logged_in, solution_commands

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

EXERCISE = "fix-trace-drop"  # exercise 25: its task `fix` has a trace check
FAILED_TRACE = ".task[data-task-id=fix] .results li.fail"
PASSED_TRACE = ".task[data-task-id=fix].passed .results li.ok"
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
# The English the walk's words used to leave in the Chinese text.
ENGLISH = ("delivered", "dropped", "Dropped in", "packet", "It leaves", "expected")


def assert_chinese(
    text: str, sentence: str = "报文被丢弃，但预期是“已送达”：在 host 中被 filter SEC-AUDIT 的规则"
) -> None:
    assert sentence in text, text
    assert not [word for word in ENGLISH if word in text], text


def shots(page, artifacts, name: str, selector: str = FAILED_TRACE) -> None:
    for label, size in SIZES.items():
        page.set_viewport_size(size)
        page.locator(selector).first.scroll_into_view_if_needed()
        page.screenshot(path=artifacts / f"trace-check-{name}-{label}.png")


def test_a_failed_trace_check_reads_in_chinese_for_student_and_teacher(lab_server, browser, artifacts):
    lab_server.manage("exercises", "load")
    base = lab_server.base_url
    teacher_context, teacher, teacher_errors = logged_in(browser, base, "teacher", SIZES["1440"])
    student_context, student, student_errors = logged_in(browser, base, "student", SIZES["1440"])
    try:
        code = create_class(teacher, "Trace 101")
        cohort_url = teacher.url
        cohort_id = cohort_url.rstrip("/").rsplit("/", 1)[1]
        join_class(student, code)
        for context in (teacher_context, student_context):
            context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])

        # The student, in Chinese, presses Check before fixing anything: the trace check fails.
        student.reload()
        student.click(f"form[action='/exercises/{EXERCISE}/start'] button[type=submit]")
        student.wait_for_url("**/labs/*/")
        lab_id = int(student.url.rstrip("/").rsplit("/", 1)[1])
        student.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=90_000)
        student.click("#exercise-check")
        student.wait_for_selector(FAILED_TRACE, timeout=90_000)
        live = student.text_content(FAILED_TRACE)
        assert_chinese(live)
        shots(student, artifacts, "student")
        student.reload()
        student.wait_for_selector(FAILED_TRACE, timeout=30_000)
        assert student.text_content(FAILED_TRACE) == live

        # The teacher's watch view shows the same text, and so does the dashboard's failed checks.
        watch = teacher_context.new_page()
        watch.goto(f"{base}/teach/{cohort_id}/labs/{lab_id}/")
        watch.wait_for_selector(FAILED_TRACE, timeout=30_000)
        assert watch.text_content(FAILED_TRACE) == live
        shots(watch, artifacts, "watch")
        teacher.goto(cohort_url)
        teacher.wait_for_selector("#failed-checks li", timeout=30_000)
        reasons = teacher.text_content("#failed-checks")
        assert_chinese(reasons)
        # the student's presence: a time of day as the page's language writes it (the browser's is en-US)
        presence = teacher.locator("td.presence[data-online='1']")
        presence.wait_for(timeout=30_000)
        assert re.fullmatch(r"\d\d:\d\d 起在线.*", presence.text_content()), presence.text_content()
        teacher.set_viewport_size(SIZES["1440"])
        teacher.locator("#failed-checks").scroll_into_view_if_needed()
        teacher.screenshot(path=artifacts / "trace-check-dashboard-1440.png")

        # The student goes on in English and fixes the rule: the walk is delivered. The teacher, watching
        # in Chinese, reads the result and its last step (the reply back into the client) in Chinese, live.
        student_context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        student.reload()
        student.set_viewport_size(SIZES["1440"])
        student.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        prompts = student.evaluate(f"() => ({TERMINAL_TEXT})().split('root@').length")
        student.click("#terminal")
        for command in solution_commands(lab_server, lab_id):
            student.keyboard.type(command)
            student.keyboard.press("Enter")
        student.wait_for_function(
            f"() => ({TERMINAL_TEXT})().split('root@').length > {prompts}", timeout=30_000
        )
        student.click("#exercise-check")
        student.wait_for_selector(PASSED_TRACE, timeout=90_000)
        assert "is delivered, as expected: It leaves router through eth2" in student.text_content(
            PASSED_TRACE
        )
        shots(student, artifacts, "student-passed-en", PASSED_TRACE)
        watch.wait_for_selector(PASSED_TRACE, timeout=10_000)  # live, without a reload
        assert_chinese(
            watch.text_content(PASSED_TRACE),
            "报文已送达，符合预期：报文从 router 的 eth2 离开，从 veth 对的另一端、client 中的 eth0 出来。",
        )
        shots(watch, artifacts, "watch-passed", PASSED_TRACE)
        assert not student_errors and not teacher_errors, (student_errors, teacher_errors)
    except Exception:
        student.screenshot(path=artifacts / "trace-check-failed-student.png", full_page=True)
        teacher.screenshot(path=artifacts / "trace-check-failed-teacher.png", full_page=True)
        raise
    finally:
        teacher_context.close()
        student_context.close()
