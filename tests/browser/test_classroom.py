"""The classroom in a real browser: a teacher creates a class, a student joins it with the code and
solves an exercise in their lab; the teacher's grid gets the row and the cell turns green, all
without a reload."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

EXERCISE = "fix-forward-rules"  # state and probe checks only, no question: the solution alone passes
TERMINAL_TEXT = """() => { const b = nslab.terminal.term.buffer.active; const out = [];
  for (let i = 0; i < b.length; i++) out.push(b.getLine(i).translateToString(true).trimEnd());
  return out.join('\\n').trim(); }"""
TERMINAL_SIZE = "() => [nslab.terminal.term.cols, nslab.terminal.term.rows]"
ALL_TASKS_PASSED = "() => document.querySelectorAll('.task:not(.passed)').length === 0"
GREEN = "rgb(187, 247, 208)"  # classroom.css: .cell.state-passed
DESKTOP, LAPTOP, PHONE = (
    {"width": 1440, "height": 900},
    {"width": 1280, "height": 720},
    {"width": 390, "height": 844},
)


def solution_commands(lab_server, lab_id: int) -> list[str]:
    """The exercise's reference solution, rendered with the attempt's parameters (shell steps)."""
    code = f"""
import json
from labapp.exercises.models import Attempt
tasks = Attempt.objects.get(lab_id={lab_id}).rendered_tasks()
print(json.dumps([s for t in tasks for s in t.get("solution", [])]))
"""
    steps = json.loads(lab_server.python(code))
    assert steps and all(set(step) == {"sh"} for step in steps), steps
    return [step["sh"] for step in steps]


# Classmates for the dashboard's picture: each started some exercises and pressed Check, their
# gradings kept as the lab node keeps them (results shaped as topology's grade_tasks gives them).
CLASSMATES = """
import random
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from labapp.classroom.models import Cohort, Enrolment
from labapp.exercises.models import Attempt, Exercise, TaskState
from labapp.exercises.records import attempt_record_grading
from labapp.exercises.spec import exercise_params, params_seed

random.seed(4)
cohort = Cohort.objects.get(name="Networking 101")
exercises = list(Exercise.objects.filter(course=cohort.course).order_by("order", "slug"))[:12]
order = {"code": "rule.not_effective", "params": {"rule": "-j SNAT --to-source 203.0.113.2", "number": 2,
         "chain": "POSTROUTING", "by_number": 1, "by_rule": "-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"}}
forward = {"code": "sysctl.mismatch",
           "params": {"name": "ip_forward", "ns": "host", "actual": 0, "expected": 1}}
names = ["Li Wei", "Ana Silva", "Tom Berg", "Mei Chen", "Omar Haddad", "Eva Novak", "Raj Patel", "Zoe Martin",
         "Ivan Petrov", "Sara Kim", "Noah Brown"]
for n, name in enumerate(names):
    first, last = name.split()
    user = get_user_model().objects.create(username=first.lower(), first_name=first, last_name=last)
    Enrolment.objects.create(cohort=cohort, student=user)
    for exercise in exercises[: random.randint(3, 12)]:
        params = exercise_params(exercise.data, params_seed(user.pk, exercise.slug))
        attempt = Attempt.objects.create(user=user, exercise=exercise, params=params)
        TaskState.objects.bulk_create(TaskState(attempt=attempt, task_id=t["id"]) for t in exercise.tasks)
        started = timezone.now() - timedelta(minutes=random.uniform(4, 15 + 6 * exercise.order))
        Attempt.objects.filter(pk=attempt.pk).update(started_at=started)
        for _check in range(random.randint(0, 3)):
            passed = random.random() < 0.55
            reason = order if exercise.order % 2 else forward
            results = [{"id": t["id"], "passed": passed or i == 0, "checks": [
                {"kind": "rule" if reason is order else "sysctl", "ok": passed or i == 0,
                 "message": reason}]} for i, t in enumerate(exercise.tasks)]
            attempt_record_grading(attempt_id=attempt.pk, results=results, kind="check", snapshot={})
"""


def logged_in(browser, base: str, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", username)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page, errors


def create_class(teacher, name: str) -> str:
    """The teacher makes a class of the Docker networking course; its join code."""
    teacher.click("header.site a[href='/teach/']")
    teacher.fill("input[name=name]", name)
    teacher.select_option("select[name=course]", "docker-networking")
    teacher.click("#cohort-form button[type=submit]")
    teacher.wait_for_url("**/teach/*/")
    return teacher.text_content("#join-code").strip()


def join_class(student, code: str) -> None:
    """The student types a join code and lands on the course."""
    student.click("header.site a[href='/join/']")
    student.fill("input[name=code]", code)
    student.click("button[type=submit].primary")
    student.wait_for_url("**/courses/docker-networking/")


def cell_state(page, student_id: str, exercise_id: str) -> str:
    selector = f'tr[data-student-id="{student_id}"] td.cell[data-exercise-id="{exercise_id}"]'
    return page.get_attribute(selector, "data-state")


def test_teacher_watches_a_student_join_and_pass(lab_server, browser, artifacts):
    lab_server.manage("exercises", "load")
    base = lab_server.base_url
    teacher_context, teacher, teacher_errors = logged_in(browser, base, "teacher", DESKTOP)
    student_context, student, student_errors = logged_in(browser, base, "student", DESKTOP)
    try:
        # The teacher creates a class of the course.
        code = create_class(teacher, "Networking 101")
        cohort_url = teacher.url

        # The student types the code and lands on the course; the teacher's grid gets the row.
        teacher.wait_for_selector("#progress-grid[data-live='1'] tr.empty")
        teacher.evaluate("() => { window.notReloaded = true; }")
        join_class(student, code.lower())
        assert "You joined Networking 101." in student.text_content("main")
        teacher.wait_for_selector("#progress-grid tbody tr[data-student-id]", timeout=10_000)
        assert "1 student" in teacher.text_content("#cohort-size")
        student_id = teacher.get_attribute("#progress-grid tbody tr", "data-student-id")
        exercise_id = teacher.get_attribute(f"th[data-exercise-slug='{EXERCISE}']", "data-exercise-id")
        assert cell_state(teacher, student_id, exercise_id) == "not_started"

        student.click(f"form[action='/exercises/{EXERCISE}/start'] button[type=submit]")
        student.wait_for_url("**/labs/*/")
        lab_id = int(student.url.rstrip("/").rsplit("/", 1)[1])
        presence = f'tr[data-student-id="{student_id}"] td.presence'
        teacher.wait_for_selector(presence + "[data-online='1']", timeout=60_000)
        assert cell_state(teacher, student_id, exercise_id) == "working"

        # Stuck: the student presses Check too early. The teacher, watching, sees the step they are on
        # and the failed Check's results beside the student's terminal.
        student.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=90_000)
        student.click("#exercise-check")
        student.wait_for_function("() => document.querySelector('.task .results li.fail')", timeout=90_000)
        watch = teacher_context.new_page()
        watch.goto(f"{base}/teach/{cohort_url.rstrip('/').rsplit('/', 1)[1]}/labs/{lab_id}/")
        watch.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        first_task = watch.get_attribute("#exercise .task", "data-task-id")
        assert watch.get_attribute(f"#exercise .task[data-task-id='{first_task}']", "class") == "task current"
        assert watch.query_selector_all(".task .results li.fail")
        # The last Check's results (the student's page may since show continuous grades' too).
        assert student.text_content(".task .results li.fail") in watch.text_content(".task .results")
        watch.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=30_000)
        watch.screenshot(path=artifacts / "teach-lab-stuck-1440.png")

        # The student runs the reference solution in the lab's terminal, then presses Check.
        student.click("#terminal")
        for command in solution_commands(lab_server, lab_id):
            student.keyboard.type(command)
            student.keyboard.press("Enter")
        student.wait_for_function(f"() => ({TERMINAL_TEXT})().split('root@').length > 3", timeout=30_000)
        student.click("#exercise-check")
        student.wait_for_function(ALL_TASKS_PASSED, timeout=90_000)
        watch.wait_for_function(ALL_TASKS_PASSED, timeout=10_000)  # live, without a reload
        watch.close()

        # The teacher's cell turns green, without a reload.
        selector = f'tr[data-student-id="{student_id}"] td.cell[data-exercise-id="{exercise_id}"]'
        teacher.wait_for_function(
            f"() => document.querySelector('{selector}').dataset.state === 'passed'", timeout=30_000
        )
        assert teacher.evaluate("() => window.notReloaded === true")
        # Green once its colour transition ends.
        teacher.wait_for_function(
            f"() => getComputedStyle(document.querySelector('{selector}')).backgroundColor === '{GREEN}'",
            timeout=5_000,
        )
        assert teacher.text_content(selector).strip() == "4"
        # The charts follow the cells: one student passed, with a time to pass.
        teacher.wait_for_selector("#chart-pass-rate[data-drawn] .main-svg", timeout=10_000)
        teacher.wait_for_function("() => document.getElementById('chart-time-to-pass').dataset.drawn === '1'")
        assert "100%" in teacher.text_content("#chart-pass-rate")
        teacher.screenshot(path=artifacts / "teach-cohort-1440.png", full_page=True)

        # The teacher opens the student's lab from the grid, read-only: the terminal's scrollback,
        # then what the student types; the student sees who watches, and the teacher's message.
        teacher.click(presence + " a.watch")
        teacher.wait_for_url(f"**/teach/*/labs/{lab_id}/")
        teacher.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('root@')", timeout=30_000)
        teacher.wait_for_selector("#graph[data-drawn-seq]", state="attached", timeout=30_000)
        # Beside it the student's exercise as their page shows it (the same panel, read-only): the
        # tasks passed and the last Check's results, nothing to press.
        assert teacher.text_content("#exercise-title") == student.text_content("#exercise-title")
        assert teacher.is_visible("#exercise.read-only") and not teacher.query_selector("#exercise-check")
        assert teacher.evaluate(ALL_TASKS_PASSED)
        assert teacher.query_selector_all(".task .results li.ok")
        # The student's terminal at the student's size (lines wrap where theirs do), which the
        # watcher does not change: the shell's size is still the student's window's.
        assert teacher.evaluate(TERMINAL_SIZE) == student.evaluate(TERMINAL_SIZE)
        student.click("#terminal")
        student.keyboard.type("stty size")
        student.keyboard.press("Enter")
        cols, rows = student.evaluate(TERMINAL_SIZE)
        student.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('\\n{rows} {cols}')")
        student.wait_for_selector("#messages .message.watched", timeout=10_000)
        assert "teacher is watching your lab" in student.text_content("#messages .message.watched")
        student.click("#terminal")
        student.keyboard.type("echo watched-$((6*7))")
        student.keyboard.press("Enter")
        teacher.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('watched-42')", timeout=15_000)
        teacher.click("#terminal")
        teacher.keyboard.type("echo typed-by-teacher")
        teacher.keyboard.press("Enter")
        teacher.fill("#teacher-message-text", "Look at the FORWARD chain's policy")
        teacher.click("#teacher-message button[type=submit]")
        student.wait_for_selector("#messages .message.teacher", timeout=10_000)
        assert "FORWARD chain's policy" in student.text_content("#messages .message.teacher")
        assert "typed-by-teacher" not in student.evaluate(TERMINAL_TEXT)
        teacher.wait_for_function("() => document.getElementById('teacher-message-status').textContent")
        teacher.screenshot(path=artifacts / "teach-lab-1440.png")
        student.screenshot(path=artifacts / "teach-lab-student-1440.png")
        # The student's window shrinks: the watcher's terminal follows the shell's new size.
        student.set_viewport_size(LAPTOP)
        student.wait_for_function(f"(size) => ({TERMINAL_SIZE})()[0] < size[0]", arg=[cols, rows])
        teacher.wait_for_function(
            f"(size) => ({TERMINAL_SIZE})().join() === size.join()", arg=student.evaluate(TERMINAL_SIZE)
        )
        teacher.set_viewport_size(LAPTOP)
        teacher.wait_for_timeout(300)
        teacher.screenshot(path=artifacts / "teach-lab-1280.png")
        teacher.set_viewport_size(DESKTOP)
        student.set_viewport_size(DESKTOP)
        teacher.set_viewport_size(PHONE)
        teacher.reload()
        teacher.wait_for_function(f"() => ({TERMINAL_TEXT})().includes('watched-42')", timeout=30_000)
        # xterm draws only while on screen: below the fold on a phone, it waits to be scrolled to.
        teacher.locator("#terminal").scroll_into_view_if_needed()
        teacher.wait_for_function(
            "() => document.querySelector('#terminal .xterm-rows').textContent.includes('watched-42')"
        )
        teacher.screenshot(path=artifacts / "teach-lab-390.png", full_page=True)
        # On a phone the student's columns keep a readable font and scroll sideways.
        assert teacher.evaluate("() => nslab.terminal.term.options.fontSize") >= 10
        teacher.screenshot(path=artifacts / "teach-lab-390-terminal.png")
        teacher.set_viewport_size(DESKTOP)
        # In Simplified Chinese, the view and the student's notice.
        for context in (teacher_context, student_context):
            context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base}])
        teacher.reload()
        student.reload()
        teacher.wait_for_selector("text=查看中 · 只读")
        student.wait_for_selector("#messages .message.watched")
        assert "正在查看你的实验环境" in student.text_content("#messages .message.watched")
        teacher.screenshot(path=artifacts / "teach-lab-zh-1440.png")
        student.screenshot(path=artifacts / "teach-lab-student-zh-1440.png")
        for context in (teacher_context, student_context):
            context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        teacher.goto(cohort_url)

        # Classmates, graded in another process (the embedded server's channel layer is its own: the
        # page is reloaded): the grid and the charts fill.
        lab_server.python(CLASSMATES)
        teacher.reload()
        teacher.wait_for_selector("#progress-grid[data-live='1']")
        teacher.wait_for_selector("#chart-time-to-pass[data-drawn]", state="attached")
        assert len(teacher.query_selector_all("#progress-grid tbody tr[data-student-id]")) == 12
        assert "MASQUERADE" in teacher.text_content("#failed-checks")
        teacher.screenshot(path=artifacts / "teach-class-1440.png", full_page=True)

        # The other pages, and the phone-sized screen.
        teacher.click(f'tr[data-student-id="{student_id}"] th.student a')
        teacher.wait_for_selector("section.attempt")
        assert any("ok" in checks for checks in teacher.locator("ul.checks").all_text_contents())
        teacher.wait_for_selector("#student-timeline[data-drawn] .main-svg")
        teacher.screenshot(path=artifacts / "teach-student-1440.png", full_page=True)
        teacher.goto(base + "/teach/")
        teacher.screenshot(path=artifacts / "teach-index-1440.png", full_page=True)
        teacher.goto(cohort_url + "enrol")
        csv = "username,email,name\nlin,lin@example.org,林小明\nbad name,,x\n".encode()
        teacher.set_input_files(
            "input[name=file]", files=[{"name": "class.csv", "mimeType": "text/csv", "buffer": csv}]
        )
        teacher.click("form.stacked button[type=submit]")
        teacher.wait_for_selector("#enrol-report")
        assert "lin" in teacher.text_content("#enrol-created") and "3" in teacher.text_content(
            "#enrol-problems"
        )
        teacher.screenshot(path=artifacts / "teach-enrol-1440.png", full_page=True)
        teacher.set_viewport_size(LAPTOP)
        teacher.goto(cohort_url)
        teacher.wait_for_selector("#progress-grid[data-live='1']")
        teacher.screenshot(path=artifacts / "teach-cohort-1280.png")
        teacher.set_viewport_size(PHONE)
        teacher.goto(cohort_url)
        teacher.wait_for_selector("#progress-grid[data-live='1']")
        teacher.screenshot(path=artifacts / "teach-cohort-390.png", full_page=True)
        teacher.goto(base + "/teach/")
        teacher.screenshot(path=artifacts / "teach-index-390.png", full_page=True)
        assert not teacher_errors and not student_errors, (teacher_errors, student_errors)
    except Exception:
        teacher.screenshot(path=artifacts / "teach-failed-teacher.png", full_page=True)
        student.screenshot(path=artifacts / "teach-failed-student.png", full_page=True)
        raise
    finally:
        teacher_context.close()
        student_context.close()
