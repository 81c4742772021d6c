"""The lab lifecycle with real sandboxes (embedded mode: tasks run in-process, eagerly)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from labapp.labs import tasks
from labapp.labs.models import Lab
from labapp.labs.node import lifecycle
from labapp.labs.web import services
from topology.client import Client

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sandboxes_cleaned"),
]


def live_ids() -> set[str]:
    return {s["id"] for s in Client().ls()}


def test_create_reset_stop_start(user_factory):
    lab = services.lab_create(owner=user_factory("ada"), docker_version="28")
    lab.refresh_from_db()
    assert (lab.status, lab.node, lab.error) == ("ready", "local", "")
    first = lab.sandbox_id
    assert first in live_ids()

    services.lab_reset(lab=lab)
    lab.refresh_from_db()
    assert lab.status == "ready" and lab.sandbox_id not in ("", first)
    assert lab.sandbox_id in live_ids() and first not in live_ids()

    services.lab_stop(lab=lab)
    lab.refresh_from_db()
    assert (lab.status, lab.sandbox_id) == ("stopped", "")
    assert not live_ids()

    with pytest.raises(services.LabStateError):
        services.lab_stop(lab=lab)
    services.lab_start(lab=lab)
    lab.refresh_from_db()
    assert lab.status == "ready" and lab.sandbox_id in live_ids()


def test_tasks_are_idempotent(user_factory):
    lab = services.lab_create(owner=user_factory("ada"))
    lab.refresh_from_db()
    tasks.lab_provision.apply(args=[lab.pk])  # ready already: nothing to do
    tasks.lab_teardown.apply(args=[lab.pk])  # not stopping: nothing to do
    lab.refresh_from_db()
    assert lab.status == "ready" and live_ids() == {lab.sandbox_id}


def test_idle_labs_are_reaped(user_factory, settings):
    settings.NSLAB_IDLE_MINUTES = 30
    idle = services.lab_create(owner=user_factory("ada"))
    busy = services.lab_create(owner=user_factory("bob"))
    Lab.objects.filter(pk=idle.pk).update(last_active_at=timezone.now() - timedelta(minutes=31))

    assert tasks.labs_reap_idle.apply().get() == [idle.pk]

    idle.refresh_from_db()
    busy.refresh_from_db()
    assert (idle.status, idle.sandbox_id) == ("stopped", "")
    assert busy.status == "ready" and live_ids() == {busy.sandbox_id}


def test_orphans_are_reaped_when_a_node_starts(user_factory):
    owned = services.lab_create(owner=user_factory("ada"))
    owned.refresh_from_db()
    orphan = Client().up("19.03", owner=lifecycle.node_owner("local"))["id"]
    not_ours = Client().up("19.03")["id"]  # e.g. made with `python -m topology up` on the same daemon
    lost = Lab.objects.create(owner=owned.owner, node="local", status="ready", sandbox_id="gone0000")
    elsewhere = Lab.objects.create(owner=owned.owner, node="other", status="ready", sandbox_id="gone0001")

    result = tasks.node_reap_orphans.apply(args=["local"]).get()

    assert result == {"removed": [orphan], "stopped": [lost.pk]}
    assert live_ids() == {owned.sandbox_id, not_ours}
    Client().down(not_ours)
    lost.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (lost.status, lost.sandbox_id) == ("stopped", "") and lost.error
    assert elsewhere.status == "ready"


def test_a_sandbox_that_cannot_be_built_fails_the_lab(user_factory):
    lab = Lab.objects.create(owner=user_factory("ada"), node="local", docker_version="1.0")
    tasks.lab_provision.apply(args=[lab.pk])
    lab.refresh_from_db()
    assert lab.status == "failed" and "1.0" in lab.error and lab.sandbox_id == ""
