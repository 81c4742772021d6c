"""Reading cohorts; who may see which cohort is decided here (an instructor sees only what they teach)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet

from labapp.classroom.models import Cohort, Enrolment
from labapp.exercises.models import Course
from labapp.labs.models import Lab


def cohorts_taught(*, user) -> QuerySet[Cohort]:
    """The cohorts `user` teaches (staff or superuser status adds none), with their student counts."""
    if not user.is_authenticated:
        return Cohort.objects.none()
    return Cohort.objects.filter(instructors=user).annotate(student_count=Count("enrolments", distinct=True))


def cohort_get_for_instructor(*, cohort_id: int, user) -> Cohort | None:
    """The cohort if `user` teaches it, else None (unknown or someone else's: the same answer)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return Cohort.objects.filter(pk=cohort_id, instructors=user).first()


def cohort_get_by_code(*, code: str) -> Cohort | None:
    """The cohort of a join code (typed: case and spaces do not matter), valid or expired."""
    code = "".join(code.split()).upper()
    return Cohort.objects.filter(join_code=code).first() if code else None


def cohort_students(*, cohort: Cohort) -> QuerySet:
    """The cohort's students, by username."""
    return get_user_model().objects.filter(enrolments__cohort=cohort).order_by("username")


def cohort_student_get(*, cohort: Cohort, student_id: int):
    """A student of the cohort, or None (not enrolled in it: the same answer as unknown)."""
    return cohort_students(cohort=cohort).filter(pk=student_id).first()


def cohorts_of_student(*, user, course: str | None = None) -> QuerySet[Cohort]:
    """The cohorts `user` is enrolled in (of one course, when given)."""
    cohorts = Cohort.objects.filter(enrolments__student=user).order_by("name")
    return cohorts.filter(course=course) if course else cohorts


def enrolment_exists(*, cohort: Cohort, user) -> bool:
    return Enrolment.objects.filter(cohort=cohort, student=user).exists()


def course_title(*, slug: str, language: str) -> str:
    """The course's title in `language` (its slug while the course is not loaded)."""
    course = Course.objects.filter(slug=slug).first()
    return course.title(language) if course else slug


def course_choices() -> list[tuple[str, Course]]:
    """The loaded courses a cohort can take: (slug, course)."""
    return [(course.slug, course) for course in Course.objects.order_by("slug")]


def cohort_lab_get(*, cohort: Cohort, lab_id: int) -> Lab | None:
    """A lab of a student of the cohort, or None (another's or unknown: the same answer)."""
    return Lab.objects.filter(pk=lab_id, owner__enrolments__cohort=cohort).select_related("owner").first()


def student_labs(*, student) -> QuerySet[Lab]:
    """The student's labs, the newest first, with their exercise attempt (if any)."""
    return Lab.objects.filter(owner=student).select_related("attempt__exercise").order_by("-created_at")
