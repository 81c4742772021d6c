"""The Instructors group: the model permissions an instructor needs (their cohorts, Django's admin)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

INSTRUCTORS = "Instructors"
# app label -> codenames. Instructors create and run cohorts, and read (never change) the course
# content, attempts and labs; the admin shows them only their own cohorts' (labapp.classroom.admin).
PERMISSIONS = {
    "classroom": (
        "add_cohort",
        "change_cohort",
        "view_cohort",
        "add_enrolment",
        "delete_enrolment",
        "view_enrolment",
    ),
    "exercises": ("view_course", "view_exercise", "view_attempt", "view_taskstate", "view_submission"),
    "labs": ("view_lab",),
}
TEACH_PERMISSION = "classroom.add_cohort"


def instructors_group() -> Group:
    """The Instructors group with its permissions (created or completed)."""
    group, _created = Group.objects.get_or_create(name=INSTRUCTORS)
    wanted = Q(pk__in=[])
    for app, codenames in PERMISSIONS.items():
        wanted |= Q(content_type__app_label=app, codename__in=codenames)
    group.permissions.add(*Permission.objects.filter(wanted))
    return group


def instructor_grant(user) -> None:
    """Make `user` an instructor (member of the Instructors group); staff status lets them use the admin."""
    user.groups.add(instructors_group())


def may_teach(user) -> bool:
    """Whether `user` may create cohorts and open /teach/ (their own cohorts only, whatever else they are)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(TEACH_PERMISSION))


def on_post_migrate(sender, **kwargs) -> None:
    """Keep the Instructors group after every migrate (the permissions exist by then)."""
    instructors_group()
