"""Labs nothing would finish (a dead node's, stuck ones) and placement by the nodes' heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labapp.labs.models import Lab, LabNode
from labapp.labs.node.reconcile import STUCK_AFTER, labs_reconcile
from labapp.labs.web import services

pytestmark = pytest.mark.django_db
GiB = 2**30


def node(name: str, *, silent_for: float = 0.0, labs: int = 0, mem: int = 8 * GiB) -> LabNode:
    """A node whose last heartbeat was `silent_for` seconds ago."""
    at = timezone.now() - timedelta(seconds=silent_for)
    return LabNode.objects.create(name=name, heartbeat_at=at, labs=labs, mem_available=mem)


def lab(owner, node_name: str, status: str, *, sandbox_id: str = "", age: timedelta = timedelta(0)) -> Lab:
    made = Lab.objects.create(owner=owner, node=node_name, status=status, sandbox_id=sandbox_id)
    Lab.objects.filter(pk=made.pk).update(updated_at=timezone.now() - age)
    return made


def test_labs_of_a_dead_node_are_lost_with_a_reason(user_factory, settings):
    settings.NSLAB_HEARTBEAT_SECONDS = 30
    ada = user_factory("ada")
    node("alive", silent_for=20)
    node("dead", silent_for=100)
    kept = lab(ada, "alive", "ready", sandbox_id="a0")
    ready = lab(ada, "dead", "ready", sandbox_id="d0")
    preparing = lab(ada, "dead", "preparing")
    stopping = lab(ada, "dead", "stopping", sandbox_id="d1")
    stopped = lab(ada, "dead", "stopped")

    changed = labs_reconcile()
    assert sorted(changed["lost"]) == [ready.pk, preparing.pk, stopping.pk] and changed["stuck"] == []
    assert labs_reconcile() == {"lost": [], "stuck": []}  # once

    for lost in (ready, preparing):
        lost.refresh_from_db()
        assert (lost.status, lost.sandbox_id) == ("failed", "")
        assert "dead stopped answering" in lost.error
    stopping.refresh_from_db()
    assert (stopping.status, stopping.sandbox_id) == ("stopped", "")
    assert (
        Lab.objects.get(pk=kept.pk).status == "ready" and Lab.objects.get(pk=stopped.pk).status == "stopped"
    )


def test_labs_stuck_past_the_deadline_fail_with_a_reason(user_factory):
    ada = user_factory("ada")
    node("alive")
    late = STUCK_AFTER + timedelta(seconds=5)
    stuck_preparing = lab(ada, "alive", "preparing", age=late)
    stuck_stopping = lab(ada, "alive", "stopping", sandbox_id="s0", age=late)
    busy = lab(ada, "alive", "preparing", age=STUCK_AFTER - timedelta(seconds=30))

    changed = labs_reconcile()
    assert changed["lost"] == [] and sorted(changed["stuck"]) == [stuck_preparing.pk, stuck_stopping.pk]
    for stuck in (stuck_preparing, stuck_stopping):
        stuck.refresh_from_db()
        assert stuck.status == "failed" and "in time" in stuck.error
    assert Lab.objects.get(pk=busy.pk).status == "preparing"


def test_placement_by_spare_memory_never_on_a_dead_node(user_factory, settings):
    settings.NSLAB_HEARTBEAT_SECONDS = 30
    ada = user_factory("ada")
    assert services.node_choose() == settings.NSLAB_NODE  # no live node
    node("dead", silent_for=100, mem=64 * GiB)
    node("small", labs=0, mem=2 * GiB)
    node("big", labs=10, mem=3 * GiB)
    assert services.node_choose() == "big"
    # Labs placed on "big" since its heartbeat count against its memory.
    for _ in range(10 + 17):
        lab(ada, "big", "ready")
    assert services.node_choose() == "small"


def test_starting_a_lab_of_a_dead_node_places_it_again(user_factory, settings):
    settings.NSLAB_HEARTBEAT_SECONDS = 30
    ada = user_factory("ada")
    node("dead", silent_for=100)
    node("alive")
    lost = lab(ada, "dead", "failed", sandbox_id="d0")
    started = services.lab_start(lab=lost)
    assert (started.node, started.sandbox_id, started.status) == ("alive", "", "preparing")
