"""The instructor's pages (/teach/) and joining a cohort (/join/); who sees what comes from the
selectors: a cohort someone does not teach is a 404, /teach/ itself is a 403 for non-instructors."""

from __future__ import annotations

import csv
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from labapp.classroom import charts, progress, roles, selectors
from labapp.classroom.web import enrolment, services
from labapp.classroom.web.forms import CodeForm, CohortForm, EnrolmentForm, InstructorForm, JoinCodeForm
from labapp.exercises.spec import localised

# The drill-down lists the student's newest labs (each opens the read-only view).
STUDENT_LABS_SHOWN = 10
# A request body this large is refused before it is read (the CSV limit plus the form's overhead).
UPLOAD_BODY_MAX = enrolment.MAX_BYTES + 64 * 1024


def instructor_required(view):
    """Logged in and an instructor (by permission or by teaching a cohort); else 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not (roles.may_teach(request.user) or selectors.cohorts_taught(user=request.user).exists()):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def cohort_or_404(request: HttpRequest, cohort_id: int):
    """The cohort if the user teaches it; else 404."""
    cohort = selectors.cohort_get_for_instructor(cohort_id=cohort_id, user=request.user)
    if cohort is None:
        raise Http404
    return cohort


@instructor_required
def teach_index(request: HttpRequest) -> HttpResponse:
    form = CohortForm(language=request.LANGUAGE_CODE)
    cohorts = selectors.cohorts_taught(user=request.user)
    return render(request, "classroom/teach_index.html", {"cohorts": cohorts, "form": form})


@instructor_required
@require_POST
def cohort_create(request: HttpRequest) -> HttpResponse:
    if not roles.may_teach(request.user):
        raise PermissionDenied
    form = CohortForm(request.POST, language=request.LANGUAGE_CODE)
    if not form.is_valid():
        cohorts = selectors.cohorts_taught(user=request.user)
        return render(request, "classroom/teach_index.html", {"cohorts": cohorts, "form": form}, status=400)
    cohort = services.cohort_create(
        name=form.cleaned_data["name"],
        course=form.cleaned_data["course"],
        instructor=request.user,
        code_days=form.cleaned_data["code_days"] or None,
    )
    return redirect("cohort", cohort_id=cohort.pk)


def _cells_html(cells: list[dict]) -> str:
    """A grid row's cells (a template loop over thousands of cells costs more than the queries)."""
    return format_html_join(
        "",
        '<td class="cell state-{0}" data-exercise-id="{1}" data-state="{0}" data-score="{2}">{3}</td>',
        (
            (
                c["state"],
                c["exercise_id"],
                f"{c['score']:g}",
                "" if c["state"] == "not_started" else f"{round(c['score'], 1):g}",
            )
            for c in cells
        ),
    )


@instructor_required
def cohort_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    grid = progress.cohort_grid(cohort=cohort, language=request.LANGUAGE_CODE)
    for row in grid["rows"]:
        row["cells_html"] = _cells_html(row["cells"])
    context = {
        "cohort": cohort,
        "course_title": selectors.course_title(slug=cohort.course, language=request.LANGUAGE_CODE),
        "grid": grid,
        "join_url": request.build_absolute_uri(reverse("join_code", args=[cohort.join_code])),
        "code_valid": cohort.join_code_valid(),
        "code_form": JoinCodeForm(),
        "instructor_form": InstructorForm(),
        "instructors": cohort.instructors.order_by("username"),
        "failed_checks": charts.cohort_failed_checks(cohort=cohort, language=request.LANGUAGE_CODE),
    }
    return render(request, "classroom/cohort.html", context)


@instructor_required
def cohort_failed_checks(request: HttpRequest, cohort_id: int) -> JsonResponse:
    """The most-failed checks (the dashboard fetches them again as grades come in)."""
    cohort = cohort_or_404(request, cohort_id)
    return JsonResponse(
        {"failed_checks": charts.cohort_failed_checks(cohort=cohort, language=request.LANGUAGE_CODE)}
    )


@instructor_required
@require_POST
def cohort_code(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    if request.POST.get("action") == "expire":
        services.join_code_expire(cohort=cohort)
        messages.info(request, _("The join code no longer lets anyone in."))
    else:
        form = JoinCodeForm(request.POST)
        days = form.cleaned_data["code_days"] if form.is_valid() else services.DEFAULT_CODE_DAYS
        cohort = services.join_code_regenerate(cohort=cohort, code_days=days or None)
        messages.success(request, _("New join code: %(code)s") % {"code": cohort.join_code})
    return redirect("cohort", cohort_id=cohort.pk)


@instructor_required
@require_POST
def cohort_instructor_add(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    form = InstructorForm(request.POST)
    if form.is_valid():
        try:
            user = services.instructor_add(cohort=cohort, username=form.cleaned_data["username"])
            messages.success(request, _("%(username)s now teaches this class.") % {"username": user.username})
        except services.InstructorError as exc:
            messages.error(request, str(exc))
    return redirect("cohort", cohort_id=cohort.pk)


@csrf_exempt  # checked below, once the body is known not to be too large to read
@instructor_required
def cohort_enrol(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    context = {"cohort": cohort, "form": EnrolmentForm(), "limit_kb": enrolment.MAX_BYTES // 1024}
    too_large = _("The file is larger than %(limit)d KB.") % {"limit": enrolment.MAX_BYTES // 1024}
    # Refused before anything parses the body (the CSRF check would read it all): a clean answer.
    if request.method == "POST" and int(request.META.get("CONTENT_LENGTH") or 0) > UPLOAD_BODY_MAX:
        return render(request, "classroom/enrol.html", {**context, "file_error": too_large}, status=413)
    return _cohort_enrol(request, cohort, context, too_large)


@csrf_protect
def _cohort_enrol(request: HttpRequest, cohort, context: dict, too_large: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "classroom/enrol.html", context)
    form = EnrolmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "classroom/enrol.html", {**context, "form": form}, status=400)
    upload = form.cleaned_data["file"]
    try:
        if upload.size > enrolment.MAX_BYTES:
            raise enrolment.CsvFileError(too_large)
        report = enrolment.enrol_csv(cohort=cohort, data=upload.read())
    except enrolment.CsvFileError as exc:
        return render(request, "classroom/enrol.html", {**context, "file_error": str(exc)}, status=400)
    created = [{"account": a, "url": request.build_absolute_uri(a.set_password_path)} for a in report.created]
    return render(request, "classroom/enrol.html", {**context, "report": report, "created": created})


@instructor_required
def cohort_student(request: HttpRequest, cohort_id: int, student_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    student = selectors.cohort_student_get(cohort=cohort, student_id=student_id)
    if student is None:
        raise Http404
    attempts = progress.student_attempts(
        student=student, course=cohort.course, language=request.LANGUAGE_CODE
    )
    labs = [
        {"lab": lab, "title": localised(lab.attempt.exercise.data["title"], request.LANGUAGE_CODE)}
        if getattr(lab, "attempt", None)
        else {"lab": lab, "title": ""}
        for lab in selectors.student_labs(student=student)[:STUDENT_LABS_SHOWN]
    ]
    timeline = charts.student_timeline(attempts=attempts)
    context = {"cohort": cohort, "student": student, "attempts": attempts, "labs": labs, "timeline": timeline}
    return render(request, "classroom/student.html", context)


@instructor_required
@require_POST
def cohort_student_remove(request: HttpRequest, cohort_id: int, student_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    if not services.student_remove(cohort=cohort, student_id=student_id):
        raise Http404
    messages.info(request, _("The student left the class; their account and attempts are kept."))
    return redirect("cohort", cohort_id=cohort.pk)


@instructor_required
def cohort_grades(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = cohort_or_404(request, cohort_id)
    header, rows = progress.cohort_grades(cohort=cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"grades-{slugify(cohort.name) or cohort.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a byte order mark: spreadsheets then read the names as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([f"{v:g}" if isinstance(v, float | int) else v for v in row] for row in rows)
    return response


@login_required
def join(request: HttpRequest) -> HttpResponse:
    """The form to type a join code; a valid code enrols at once."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _join(request, form.cleaned_data["code"], form)
    return render(
        request, "classroom/join.html", _join_context(request, form), status=400 if form.errors else 200
    )


def _join_context(request: HttpRequest, form: CodeForm, problem: str | None = None) -> dict:
    """The join page's context: the form, what went wrong, and the classes the user is already in."""
    language = request.LANGUAGE_CODE
    cohorts = [
        {"cohort": c, "course_title": selectors.course_title(slug=c.course, language=language)}
        for c in selectors.cohorts_of_student(user=request.user)
    ]
    return {"form": form, "problem": problem, "cohorts": cohorts}


@login_required
def join_code(request: HttpRequest, code: str) -> HttpResponse:
    """The join link: a page naming the class, whose button enrols (a GET changes nothing)."""
    if request.method == "POST":
        return _join(request, code, CodeForm(initial={"code": code}))
    cohort = selectors.cohort_get_by_code(code=code)
    problem = None
    try:
        services.cohort_join_check(cohort=cohort)
    except services.JoinError as exc:
        problem = str(exc)
    joined = cohort is not None and selectors.enrolment_exists(cohort=cohort, user=request.user)
    context = {"cohort": cohort, "code": code, "problem": problem, "joined": joined, "form": CodeForm()}
    return render(request, "classroom/join_link.html", context, status=404 if problem else 200)


def _join(request: HttpRequest, code: str, form: CodeForm) -> HttpResponse:
    try:
        cohort, created = services.cohort_join(
            cohort=selectors.cohort_get_by_code(code=code), user=request.user
        )
    except services.JoinError as exc:
        return render(request, "classroom/join.html", _join_context(request, form, str(exc)), status=404)
    if created:
        messages.success(request, _("You joined %(name)s.") % {"name": cohort.name})
    else:
        messages.info(request, _("You are already in %(name)s.") % {"name": cohort.name})
    return redirect("course", slug=cohort.course)
