"""Changing cohorts: creating one, its join code, joining it, its instructors."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from labapp.classroom.models import Cohort, Enrolment
from labapp.classroom.roles import instructor_grant

# No 0/O, 1/I/L: codes are read off a projector and typed.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
DEFAULT_CODE_DAYS = 14


class JoinError(Exception):
    """The code lets nobody in (unknown or expired); the message is for the user."""


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _expiry(days: int | None):
    return timezone.now() + timedelta(days=days) if days else None


@transaction.atomic
def cohort_create(*, name: str, course: str, instructor, code_days: int | None = DEFAULT_CODE_DAYS) -> Cohort:
    """A new cohort of `course` taught by `instructor`, with a fresh join code (valid `code_days`
    days; None: until regenerated or expired)."""
    while True:
        try:
            with transaction.atomic():
                cohort = Cohort.objects.create(
                    name=name, course=course, join_code=_new_code(), join_code_expires_at=_expiry(code_days)
                )
            break
        except IntegrityError:  # the code was taken: draw another
            continue
    cohort.instructors.add(instructor)
    return cohort


def join_code_regenerate(*, cohort: Cohort, code_days: int | None = DEFAULT_CODE_DAYS) -> Cohort:
    """Replace the join code (the old one stops working at once)."""
    while True:
        try:
            with transaction.atomic():
                Cohort.objects.filter(pk=cohort.pk).update(
                    join_code=_new_code(), join_code_expires_at=_expiry(code_days)
                )
            break
        except IntegrityError:
            continue
    cohort.refresh_from_db()
    return cohort


def join_code_expire(*, cohort: Cohort) -> Cohort:
    """Stop the join code from letting anyone in (regenerate to open the cohort again)."""
    Cohort.objects.filter(pk=cohort.pk).update(join_code_expires_at=timezone.now())
    cohort.refresh_from_db()
    return cohort


def cohort_join_check(*, cohort: Cohort | None) -> Cohort:
    """The cohort if its join code lets students in; JoinError when unknown (None) or expired."""
    if cohort is None:
        raise JoinError(_("No class has this code. Check it with your instructor."))
    if not cohort.join_code_valid():
        raise JoinError(_("This join code has expired. Ask your instructor for a new one."))
    return cohort


def cohort_join(*, cohort: Cohort | None, user) -> tuple[Cohort, bool]:
    """Enrol `user` with the cohort's join code: (cohort, newly joined). JoinError when the code is
    unknown (None) or expired; joining twice changes nothing."""
    cohort = cohort_join_check(cohort=cohort)
    _enrolment, created = Enrolment.objects.get_or_create(
        cohort=cohort, student=user, defaults={"via": Enrolment.Via.CODE}
    )
    return cohort, created


class InstructorError(Exception):
    """The instructor cannot be added; the message is for the user."""


@transaction.atomic
def instructor_add(*, cohort: Cohort, username: str):
    """Add an existing account as a co-instructor of the cohort (and to the Instructors group)."""
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise InstructorError(_("No active account is called “%(username)s”.") % {"username": username})
    cohort.instructors.add(user)
    instructor_grant(user)
    return user


def student_remove(*, cohort: Cohort, student_id: int) -> bool:
    """Take a student out of the cohort (their account and attempts stay)."""
    deleted, _rows = Enrolment.objects.filter(cohort=cohort, student_id=student_id).delete()
    return bool(deleted)
