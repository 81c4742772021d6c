"""The demo class that `manage.py nslab_demo_users` makes (`make run`): a populated dashboard at once."""

from __future__ import annotations

from django.db import transaction

from labapp.classroom.models import Cohort, Enrolment
from labapp.classroom.roles import instructor_grant
from labapp.classroom.web.services import cohort_create


@transaction.atomic
def demo_cohort_ensure(*, name: str, course: str, teacher, student) -> tuple[Cohort, bool]:
    """The demo cohort (made once, open to join without expiry): `teacher` in the Instructors group
    and teaching it, `student` enrolled."""
    instructor_grant(teacher)
    cohort = Cohort.objects.filter(name=name, course=course, instructors=teacher).first()
    created = cohort is None
    if created:
        cohort = cohort_create(name=name, course=course, instructor=teacher, code_days=None)
    Enrolment.objects.get_or_create(cohort=cohort, student=student, defaults={"via": Enrolment.Via.ADMIN})
    return cohort, created
