"""What exercises add to the lab page and its socket (registered through labapp.labs.hooks by apps.py):
the exercise panel and the `attempt.check` frame."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from labapp.exercises.web.selectors import attempt_get_for_lab, attempt_panel
from labapp.exercises.web.services import attempt_check_request
from labapp.labs.hooks import LabPanel

PANEL_STYLES = ("exercises/exercise.css",)
PANEL_SCRIPTS = ("exercises/exercise.js",)


def panel_context(request, lab) -> dict | None:
    """The exercise panel of a lab page; None for a lab without an exercise."""
    attempt = attempt_get_for_lab(lab_id=lab.pk, user=request.user)
    if attempt is None:
        return None
    return {"panel": attempt_panel(attempt=attempt, language=request.LANGUAGE_CODE)}


def watch_context(request, lab) -> dict | None:
    """The same panel on a read-only view of the student's lab (an instructor watching): the tasks,
    where they stand and the last Check's results, without Check, hints to ask for or answers to give."""
    attempt = attempt_get_for_lab(lab_id=lab.pk)
    if attempt is None:
        return None
    return {"panel": attempt_panel(attempt=attempt, language=request.LANGUAGE_CODE), "read_only": True}


EXERCISE_PANEL = LabPanel(
    app="exercises",
    template="exercises/panel.html",
    context=panel_context,
    watch_context=watch_context,
    styles=PANEL_STYLES,
    scripts=PANEL_SCRIPTS,
)


async def attempt_check_frame(consumer, frame: dict) -> None:
    """Grade the lab's exercise attempt on its node; `attempt.graded` comes back through the group."""
    queued = await database_sync_to_async(attempt_check_request)(
        lab_id=consumer.lab_id,
        user=consumer.scope.get("user"),
        answers=frame["answers"],
        language=frame.get("language"),
    )
    if not queued:
        await consumer.send_error("no_attempt", _("This lab has no exercise to check."))
