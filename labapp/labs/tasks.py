"""Celery tasks of a lab node, the seam between the sides: the web side queues them (on commit) to the
queue `labnode.<node>` of the lab's node, where they run the node side's lifecycle."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labapp.config.errors import DATABASE_UNREACHABLE
from labapp.labs.channels import node_channel
from labapp.labs.models import Lab
from labapp.labs.node import lifecycle
from labapp.labs.records import lab_set_status

# A database that restarts (OperationalError, InterfaceError) makes a task wait and try again rather
# than fail: the tasks are idempotent, and a lab must not stay preparing until the reconciliation.
DATABASE_RETRY = {
    "autoretry_for": DATABASE_UNREACHABLE,
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
}
LIMITS = {"soft_time_limit": 120, "time_limit": 150, "acks_late": True, **DATABASE_RETRY}
Status = Lab.Status


def queue_on_commit(task, lab: Lab) -> None:
    """Queue `task(lab.pk)` to the lab's node once the transaction commits (at once in embedded mode)."""
    lab_id, queue = lab.pk, node_channel(lab.node)
    transaction.on_commit(lambda: task.apply_async(args=[lab_id], queue=queue))


@shared_task(**LIMITS)
def lab_provision(lab_id: int) -> None:
    lifecycle.lab_provision(lab_id=lab_id)


@shared_task(**LIMITS)
def lab_teardown(lab_id: int) -> None:
    lifecycle.lab_teardown(lab_id=lab_id)


@shared_task(**LIMITS)
def node_reap_orphans(node: str) -> dict:
    return lifecycle.node_reap_orphans(node=node)


@shared_task(**LIMITS)
def labs_reap_idle() -> list[int]:
    """Stop the labs nobody used for NSLAB_IDLE_MINUTES; their ids.

    Any node may run it (beat): it only decides which labs stop; their teardown goes to their node.
    """
    cutoff = timezone.now() - timedelta(minutes=settings.NSLAB_IDLE_MINUTES)
    idle = (Status.READY, Status.FAILED)
    stopped = []
    for lab in Lab.objects.filter(status__in=idle, last_active_at__lt=cutoff):
        with transaction.atomic():
            if lab_set_status(lab_id=lab.pk, expected=idle, status=Status.STOPPING, error=""):
                queue_on_commit(lab_teardown, lab)
                stopped.append(lab.pk)
    return stopped
