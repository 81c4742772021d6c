"""The course pages, starting an exercise and its hints; ownership comes from the selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from labapp.exercises.hooks import COURSE_SECTIONS
from labapp.exercises.spec import localised
from labapp.exercises.web import selectors, services
from labapp.exercises.web.markdown import render_inline
from labapp.labs.web.services import LabStateError
from labapp.labs.web.views import refusal


def _sections(request: HttpRequest, course) -> list[str]:
    """Other apps' sections of a course page (labapp.exercises.hooks), rendered; `course` None: the list."""
    shown = []
    for section in COURSE_SECTIONS.values():
        context = section.context(request, course)
        if context is not None:
            shown.append(render_to_string(section.template, context, request))
    return shown


@login_required
def course_list(request: HttpRequest) -> HttpResponse:
    language = request.LANGUAGE_CODE
    courses = [
        {
            "course": c,
            "title": c.title(language),
            "summary": render_inline(localised(c.data.get("summary"), language)),
        }
        for c in selectors.course_list()
    ]
    context = {"courses": courses, "sections": _sections(request, None)}
    return render(request, "exercises/course_list.html", context)


@login_required
def course_page(request: HttpRequest, slug: str) -> HttpResponse:
    course = selectors.course_get(slug=slug)
    if course is None:
        raise Http404
    language = request.LANGUAGE_CODE
    context = {
        "course": course,
        "title": course.title(language),
        "summary": render_inline(localised(course.data.get("summary"), language)),
        "rows": selectors.course_progress(course=course, user=request.user, language=language),
        "sections": _sections(request, course),
    }
    return render(request, "exercises/course.html", context)


@login_required
@require_POST
def exercise_start(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = selectors.exercise_get(slug=slug)
    if exercise is None:
        raise Http404
    try:
        attempt = services.attempt_start(user=request.user, exercise=exercise, language=request.LANGUAGE_CODE)
    except LabStateError as exc:
        return refusal(request, str(exc), 409)
    return redirect("lab", lab_id=attempt.lab_id)


@login_required
@require_POST
def attempt_hint(request: HttpRequest, attempt_id: int) -> JsonResponse:
    attempt = selectors.attempt_get_for_user(attempt_id=attempt_id, user=request.user)
    if attempt is None:
        raise Http404
    task_id = request.POST.get("task_id", "")
    state = services.task_hint_reveal(attempt=attempt, task_id=task_id)
    if state is None:
        return JsonResponse({"ok": False}, status=404)
    task = next(t for t in attempt.rendered_tasks() if t["id"] == task_id)
    hints = selectors.hints_shown(task, state, request.LANGUAGE_CODE)
    more = len(hints) < len(task.get("hints", []))
    return JsonResponse({"ok": True, "hints_html": [str(h) for h in hints], "more": more})
