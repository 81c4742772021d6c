"""Labs that nothing would ever finish: those of a node whose heartbeat stopped (lost), and those stuck
preparing or stopping past a deadline (their task was lost, e.g. with a Redis that restarted empty).

Every live node's agent runs this at each heartbeat; the changes are conditional updates
(labapp.labs.records), so nodes doing it at once change each lab once.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from labapp.labs.models import Lab, LabNode
from labapp.labs.records import lab_set_status

Status = Lab.Status
# Far past a provision's or teardown's time limit (labapp/labs/tasks.py) and a busy queue's wait.
STUCK_AFTER = timedelta(minutes=5)


def labs_reconcile() -> dict[str, list[int]]:
    """Mark the labs of dead nodes lost and the stuck ones failed, each with its reason; their ids."""
    dead = list(LabNode.objects.filter(heartbeat_at__lt=LabNode.live_after()).values_list("name", flat=True))
    lost, stuck = [], []
    for lab in Lab.objects.filter(node__in=dead, status__in=Lab.ACTIVE):
        # A stopping lab is as good as stopped: its sandbox went with the node.
        if lab.status == Status.STOPPING:
            changed = lab_set_status(
                lab_id=lab.pk, expected=(Status.STOPPING,), status=Status.STOPPED, sandbox_id=""
            )
        else:
            changed = lab_set_status(
                lab_id=lab.pk,
                expected=(Status.PREPARING, Status.READY),
                status=Status.FAILED,
                sandbox_id="",
                error=_(
                    "The lab node %(node)s stopped answering, so this lab is lost. "
                    "Press Reset for a new lab on a node that works."
                )
                % {"node": lab.node},
            )
        if changed:
            lost.append(lab.pk)
    late = timezone.now() - STUCK_AFTER
    for lab in Lab.objects.filter(status__in=(Status.PREPARING, Status.STOPPING), updated_at__lt=late):
        if lab.node in dead:
            continue
        if lab_set_status(
            lab_id=lab.pk,
            expected=(lab.status,),
            status=Status.FAILED,
            error=_("The lab node did not finish with the lab in time; reset or stop it again."),
        ):
            stuck.append(lab.pk)
    return {"lost": lost, "stuck": stuck}
