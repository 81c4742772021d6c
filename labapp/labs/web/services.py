"""Changing labs and lab nodes: the web side of the lifecycle (docs/web-lab.md).

Status changes go through labapp.labs.records (conditional updates); the kernel work is queued (on
commit) to the lab's node as tasks (labapp.labs.tasks).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from labapp.labs.broadcast import lab_send_progress
from labapp.labs.models import Lab, LabNode
from labapp.labs.records import lab_set_status
from labapp.labs.tasks import lab_provision, lab_teardown, queue_on_commit

NODE_LIVE_FOR = timedelta(seconds=90)
TOUCH_EVERY = timedelta(seconds=30)

Status = Lab.Status


class LabStateError(Exception):
    """The lab is not in a state that allows this action; the message is for the user."""


def node_choose() -> str:
    """The live node with the fewest active labs; this process's NSLAB_NODE when none is live."""
    live = LabNode.objects.filter(heartbeat_at__gte=timezone.now() - NODE_LIVE_FOR).values_list(
        "name", flat=True
    )
    loads = dict.fromkeys(live, 0)
    active = Lab.objects.filter(status__in=Lab.ACTIVE, node__in=list(loads))
    for row in active.values("node").annotate(n=Count("id")):
        loads[row["node"]] = row["n"]
    if not loads:
        return settings.NSLAB_NODE
    return min(sorted(loads), key=loads.__getitem__)


def _check_version(docker_version: str) -> str:
    if docker_version not in Lab.DockerVersion.values:
        raise LabStateError(_("Docker %(version)s is not available.") % {"version": docker_version})
    return docker_version


@transaction.atomic
def lab_create(*, owner, docker_version: str = Lab.DockerVersion.V19) -> Lab:
    lab = Lab.objects.create(owner=owner, docker_version=_check_version(docker_version), node=node_choose())
    _queue_provision(lab)
    return lab


@transaction.atomic
def lab_reset(*, lab: Lab, docker_version: str | None = None) -> Lab:
    """Replace the lab's sandbox by a fresh one (optionally of another Docker version)."""
    version = _check_version(docker_version or lab.docker_version)
    lab = _transition(
        lab, (Status.READY, Status.FAILED, Status.STOPPED), Status.PREPARING, docker_version=version
    )
    _queue_provision(lab)
    return lab


@transaction.atomic
def lab_start(*, lab: Lab) -> Lab:
    lab = _transition(lab, (Status.STOPPED, Status.FAILED), Status.PREPARING)
    _queue_provision(lab)
    return lab


@transaction.atomic
def lab_stop(*, lab: Lab) -> Lab:
    lab = _transition(lab, (Status.PREPARING, Status.READY, Status.FAILED), Status.STOPPING)
    queue_on_commit(lab_teardown, lab)
    return lab


def lab_touch(*, lab_id: int) -> bool:
    """Mark the lab as in use now (for idle reaping); at most one write per TOUCH_EVERY."""
    now = timezone.now()
    return bool(
        Lab.objects.filter(pk=lab_id, last_active_at__lt=now - TOUCH_EVERY).update(last_active_at=now)
    )


def _transition(lab: Lab, expected: tuple[str, ...], status: str, **fields) -> Lab:
    changed = lab_set_status(
        lab_id=lab.pk, expected=expected, status=status, error="", last_active_at=timezone.now(), **fields
    )
    if changed is None:
        lab.refresh_from_db()
        raise LabStateError(
            _("The lab is %(status)s; try again in a moment.") % {"status": lab.get_status_display()}
        )
    return changed


def _queue_provision(lab: Lab) -> None:
    lab_id = lab.pk
    transaction.on_commit(lambda: lab_send_progress(lab_id, "queued", 0))
    queue_on_commit(lab_provision, lab)
