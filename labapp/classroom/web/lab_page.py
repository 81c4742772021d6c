"""What classroom adds to a student's lab page (registered through labapp.labs.hooks by apps.py): a
notice while an instructor watches the lab (who), and the instructors' messages."""

from __future__ import annotations

from labapp.classroom.selectors import cohorts_of_student
from labapp.classroom.web.watching import lab_messages_recent, lab_watchers
from labapp.labs.hooks import LabPanel


def notice_context(request, lab) -> dict | None:
    """The notice's first state on the owner's page; None for a student in no class."""
    if lab.owner_id != request.user.pk or not cohorts_of_student(user=request.user).exists():
        return None
    return {
        "notice": {"watchers": lab_watchers(lab_id=lab.pk), "messages": lab_messages_recent(lab_id=lab.pk)}
    }


NOTICE_PANEL = LabPanel(
    app="classroom",
    template="classroom/lab_notice.html",
    context=notice_context,
    styles=("classroom/lab_notice.css",),
    scripts=("classroom/lab_notice.js",),
)
