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

TOUCH_EVERY = timedelta(seconds=30)

Status = Lab.Status


class LabStateError(Exception):
    """The lab is not in a state that allows this action; the message is for the user."""


# What one more lab is taken to cost a node in memory until its next heartbeat measures it.
LAB_MEMORY = 64 * 2**20


def node_choose() -> str:
    """The live node with the most memory to spare, by its last heartbeat less the labs placed on it
    since (then the fewest active labs); this process's NSLAB_NODE when no node is live. Dead nodes
    (no heartbeat for three intervals) get nothing."""
    nodes = {node.name: node for node in LabNode.objects.filter(heartbeat_at__gte=LabNode.live_after())}
    if not nodes:
        return settings.NSLAB_NODE
    active = dict.fromkeys(nodes, 0)
    for row in (
        Lab.objects.filter(status__in=Lab.ACTIVE, node__in=list(nodes)).values("node").annotate(n=Count("id"))
    ):
        active[row["node"]] = row["n"]

    def spare(name: str) -> tuple[int, int, str]:
        placed_since = max(0, active[name] - nodes[name].labs)
        return (-(nodes[name].mem_available - placed_since * LAB_MEMORY), active[name], name)

    return min(nodes, key=spare)


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
        lab,
        (Status.READY, Status.FAILED, Status.STOPPED),
        Status.PREPARING,
        docker_version=version,
        **_placement(lab),
    )
    _queue_provision(lab)
    return lab


@transaction.atomic
def lab_start(*, lab: Lab) -> Lab:
    lab = _transition(lab, (Status.STOPPED, Status.FAILED), Status.PREPARING, **_placement(lab))
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


def _placement(lab: Lab) -> dict:
    """Where a lab that gets a new sandbox goes: a lab without one (stopped, failed, lost with a dead
    node) is placed again by live capacity; one with a sandbox stays (its node removes the old
    sandbox) unless its node is dead."""
    dead = LabNode.objects.filter(name=lab.node, heartbeat_at__lt=LabNode.live_after()).exists()
    if lab.sandbox_id and not dead:
        return {}
    node = node_choose()
    if node == lab.node:  # no other node to go to: its node removes the old sandbox, if it comes back
        return {}
    return {"node": node, "sandbox_id": ""}


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
