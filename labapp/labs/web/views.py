"""Lab pages and the lab control API (docs/web-lab.md); ownership comes from the selectors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from labapp.labs.hooks import LAB_PANELS
from labapp.labs.models import Lab
from labapp.labs.web import services
from labapp.labs.web.selectors import lab_get_for_user, lab_list_for_user


def _versions() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Lab.DockerVersion.choices]


def refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """An HTML page saying why a request was refused; `message` is text (escaped, never markup)."""
    return render(request, "refused.html", {"message": message}, status=status)


def _own_lab(request: HttpRequest, lab_id: int) -> Lab:
    lab = lab_get_for_user(lab_id=lab_id, user=request.user)
    if lab is None:
        raise Http404
    return lab


@login_required
def home(request: HttpRequest) -> HttpResponse:
    labs = lab_list_for_user(user=request.user)
    return render(request, "labs/home.html", {"labs": labs, "versions": _versions()})


@login_required
@require_POST
def lab_create(request: HttpRequest) -> HttpResponse:
    version = request.POST.get("docker_version") or Lab.DockerVersion.V19
    try:
        lab = services.lab_create(owner=request.user, docker_version=version)
    except services.LabStateError as exc:
        return refusal(request, str(exc), 400)
    return redirect("lab", lab_id=lab.pk)


def lab_panels(request: HttpRequest, lab: Lab, *, watching: bool = False) -> list[dict]:
    """Other apps' panels of a page showing `lab` (labapp.labs.hooks), rendered, with their styles and
    scripts: the student's own page, or (`watching`) a read-only view whose caller decided that the
    user may see the lab."""
    shown = []
    for panel in LAB_PANELS.values():
        context = panel.watch_context(request, lab) if watching else panel.context(request, lab)
        if context is not None:
            html = render_to_string(panel.template, context, request)
            shown.append({"html": html, "styles": panel.styles, "scripts": panel.scripts})
    return shown


@login_required
def lab_page(request: HttpRequest, lab_id: int) -> HttpResponse:
    lab = _own_lab(request, lab_id)
    context = {
        "lab": lab,
        "ws_path": f"/ws/labs/{lab.pk}/",
        "versions": _versions(),
        "panels": lab_panels(request, lab),
        "trace": True,  # the packet walk (labs/trace.html); a read-only view of a lab has none
    }
    return render(request, "labs/lab.html", context)


def _action(request: HttpRequest, lab_id: int, action, **kwargs) -> JsonResponse:
    lab = _own_lab(request, lab_id)
    try:
        lab = action(lab=lab, **kwargs)
    except services.LabStateError as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=409)
    lab.refresh_from_db()  # in embedded mode the task has run already
    return JsonResponse({"ok": True, "status": lab.status})


@login_required
@require_POST
def lab_reset(request: HttpRequest, lab_id: int) -> JsonResponse:
    return _action(
        request, lab_id, services.lab_reset, docker_version=request.POST.get("docker_version") or None
    )


@login_required
@require_POST
def lab_stop(request: HttpRequest, lab_id: int) -> JsonResponse:
    return _action(request, lab_id, services.lab_stop)


@login_required
@require_POST
def lab_start(request: HttpRequest, lab_id: int) -> JsonResponse:
    return _action(request, lab_id, services.lab_start)
