"""An instructor's view of a student's lab (read-only), its controls (through the labs app's public
services) and messages to the student. A lab that is not a student's of the cohort is a 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from labapp.classroom import selectors
from labapp.classroom.web import watching
from labapp.classroom.web.views import cohort_or_404, instructor_required
from labapp.exercises.spec import localised
from labapp.labs.models import Lab
from labapp.labs.web import services as lab_services
from labapp.labs.web.views import lab_panels


def _lab(request: HttpRequest, cohort_id: int, lab_id: int):
    cohort = cohort_or_404(request, cohort_id)
    lab = selectors.cohort_lab_get(cohort=cohort, lab_id=lab_id)
    if lab is None:
        raise Http404
    return cohort, lab


@instructor_required
def cohort_lab(request: HttpRequest, cohort_id: int, lab_id: int) -> HttpResponse:
    cohort, lab = _lab(request, cohort_id, lab_id)
    attempt = getattr(lab, "attempt", None)
    context = {
        "cohort": cohort,
        "lab": lab,
        "student_name": lab.owner.get_full_name() or lab.owner.username,
        "exercise_title": localised(attempt.exercise.data["title"], request.LANGUAGE_CODE) if attempt else "",
        "ws_path": f"/ws/teach/{cohort.pk}/labs/{lab.pk}/",
        "versions": [(value, str(label)) for value, label in Lab.DockerVersion.choices],
        "panels": lab_panels(request, lab, watching=True),  # the student's exercise, read-only
    }
    return render(request, "classroom/lab_watch.html", context)


def _action(request: HttpRequest, cohort_id: int, lab_id: int, action, **kwargs) -> JsonResponse:
    _cohort, lab = _lab(request, cohort_id, lab_id)
    try:
        lab = action(lab=lab, **kwargs)
    except lab_services.LabStateError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=409)
    lab.refresh_from_db()  # in embedded mode the task has run already
    return JsonResponse({"ok": True, "status": lab.status})


@instructor_required
@require_POST
def cohort_lab_reset(request: HttpRequest, cohort_id: int, lab_id: int) -> JsonResponse:
    version = request.POST.get("docker_version") or None
    return _action(request, cohort_id, lab_id, lab_services.lab_reset, docker_version=version)


@instructor_required
@require_POST
def cohort_lab_stop(request: HttpRequest, cohort_id: int, lab_id: int) -> JsonResponse:
    return _action(request, cohort_id, lab_id, lab_services.lab_stop)


@instructor_required
@require_POST
def cohort_lab_start(request: HttpRequest, cohort_id: int, lab_id: int) -> JsonResponse:
    return _action(request, cohort_id, lab_id, lab_services.lab_start)


@instructor_required
@require_POST
def cohort_lab_message(request: HttpRequest, cohort_id: int, lab_id: int) -> JsonResponse:
    _cohort, lab = _lab(request, cohort_id, lab_id)
    text = (request.POST.get("text") or "").strip()
    if not text or len(text) > watching.MESSAGE_MAX:
        return JsonResponse({"ok": False}, status=400)
    message = watching.lab_message_send(lab_id=lab.pk, sender=request.user, text=text)
    return JsonResponse({"ok": True, "id": message.pk})
