"""The live grid: receivers of the grading, attempt, lab-status and enrolment signals, which send each
changed cell, presence or roster to the dashboard groups of the student's cohorts.

They run where the change was made (the lab node for grades and lab statuses, the web process for a
new attempt), after its commit, and reach dashboards through the channel layer.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from labapp.classroom.channels import cohort_group
from labapp.classroom.models import Cohort
from labapp.classroom.progress import student_cell, student_presence


def _send(cohort_ids, message: dict) -> None:
    layer = get_channel_layer()
    for cohort_id in cohort_ids:
        async_to_sync(layer.group_send)(cohort_group(cohort_id), message)


def cell_send(*, student_id: int, exercise) -> None:
    """Send the student's cell of `exercise` to their cohorts of its course."""
    cohorts = list(
        Cohort.objects.filter(enrolments__student_id=student_id, course=exercise.course).values_list(
            "pk", flat=True
        )
    )
    if cohorts:
        _send(
            cohorts,
            {"type": "classroom.cell", "cell": student_cell(student_id=student_id, exercise=exercise)},
        )


def presence_send(*, student_id: int) -> None:
    """Send the student's presence to all their cohorts."""
    cohorts = list(Cohort.objects.filter(enrolments__student_id=student_id).values_list("pk", flat=True))
    if cohorts:
        _send(cohorts, {"type": "classroom.presence", "presence": student_presence(student_id=student_id)})


def on_attempt_graded(sender, *, attempt, **kwargs) -> None:
    """exercises' `attempt_graded` (already on commit)."""
    cell_send(student_id=attempt.user_id, exercise=attempt.exercise)


def on_attempt_saved(sender, *, instance, created: bool, **kwargs) -> None:
    """A new attempt: the cell turns to "working" once it is committed."""
    if created:
        transaction.on_commit(lambda: cell_send(student_id=instance.user_id, exercise=instance.exercise))


def roster_send(*, cohort_id: int) -> None:
    """Tell the cohort's dashboards that its students changed (they fetch the rows again)."""
    _send([cohort_id], {"type": "classroom.roster"})


def on_enrolment_changed(sender, *, instance, created: bool = True, **kwargs) -> None:
    """A student joined or left (post_save of a new Enrolment, post_delete)."""
    if created:
        cohort_id = instance.cohort_id
        transaction.on_commit(lambda: roster_send(cohort_id=cohort_id))


def on_lab_status(sender, *, lab, **kwargs) -> None:
    """labs' `lab_status_changed` (already on commit): the owner's presence."""
    presence_send(student_id=lab.owner_id)
