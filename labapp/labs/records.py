"""Writes to labs and lab nodes that both sides make: the web side's services and the node side's
lifecycle and agent report through these plain ORM updates (and the status frame they announce)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from labapp.labs.broadcast import lab_send_status
from labapp.labs.hooks import lab_status_changed
from labapp.labs.models import Lab, LabNode


def lab_set_status(*, lab_id: int, expected: tuple[str, ...], status: str, **fields) -> Lab | None:
    """Move the lab from one of `expected` to `status` (and set `fields`); announce it.

    Status changes are conditional updates, so two requests racing on one lab cannot both win.
    None when the lab is gone or was not in an expected status (someone else changed it meanwhile).
    """
    if not Lab.objects.filter(pk=lab_id, status__in=expected).update(
        status=status, updated_at=timezone.now(), **fields
    ):
        return None
    lab = Lab.objects.get(pk=lab_id)
    transaction.on_commit(lambda: lab_send_status(lab))
    transaction.on_commit(lambda: lab_status_changed.send_robust(sender=Lab, lab=lab))
    return lab


def node_register(*, name: str, **load) -> LabNode:
    """Record that node `name` is alive (at start and as its heartbeat), with its `load` (LabNode's
    `labs` and `mem_available`) when it measured it."""
    node, _created = LabNode.objects.update_or_create(
        name=name, defaults={"heartbeat_at": timezone.now(), **load}
    )
    return node
