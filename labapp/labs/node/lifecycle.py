"""The node side of the lifecycle: kernel work through the topology daemon, run by tasks (labapp.labs.tasks)
and the agent.

Every function re-reads the lab and reconciles (does nothing when the lab is no longer in the state it
expects, or no longer on this node), so a task that runs twice does no harm: a task is redelivered
when its worker dies (labapp/config/redelivery.py).
"""

from __future__ import annotations

import logging
import os
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from labapp.labs.broadcast import lab_send, lab_send_progress, node_send
from labapp.labs.hooks import sandbox_prepared
from labapp.labs.models import Lab
from labapp.labs.node.reconcile import labs_reconcile
from labapp.labs.records import lab_set_status, node_register
from topology.client import Client
from topology.errors import SandboxStartError, TopologyError

log = logging.getLogger(__name__)
Status = Lab.Status


def lab_provision(*, lab_id: int) -> None:
    """Give a preparing lab a fresh sandbox (removing the one it had) and mark it ready or failed.

    A sandbox that a killed run of this task left half made is nobody's: the node's start reaps it."""
    lab = _this_nodes(lab_id, Status.PREPARING)
    if lab is None:
        return
    lab_send_progress(lab.pk, "creating", 10)
    if lab.sandbox_id:
        _sandbox_remove(lab)
        Lab.objects.filter(pk=lab.pk).update(sandbox_id="")
    sandbox_id = ""
    try:
        sandbox_id = Client().up(lab.docker_version, owner=node_owner(lab.node))["id"]
        lab_send_progress(lab.pk, "starting", 80)
        _check_shell(sandbox_id)
        sandbox_prepared.send(sender=Lab, lab=lab, sandbox_id=sandbox_id)
    except TopologyError as exc:
        if sandbox_id:
            _down(sandbox_id)
        log.warning("lab %s: no sandbox: %s", lab.pk, exc)
        lab_set_status(
            lab_id=lab.pk,
            expected=(Status.PREPARING,),
            status=Status.FAILED,
            error=_("The lab could not be prepared: %(error)s") % {"error": exc},
        )
        return
    lab_send_progress(lab.pk, "ready", 100)  # before the status, which ends the progress bar
    now = timezone.now()
    ready = lab_set_status(
        lab_id=lab.pk,
        expected=(Status.PREPARING,),
        status=Status.READY,
        sandbox_id=sandbox_id,
        error="",
        last_active_at=now,
    )
    if ready is None:  # stopped or reset meanwhile: the new sandbox is nobody's
        _down(sandbox_id)


def lab_teardown(*, lab_id: int) -> None:
    """Remove a stopping lab's sandbox and mark it stopped."""
    lab = _this_nodes(lab_id, Status.STOPPING)
    if lab is None:
        return
    if lab.sandbox_id:
        _sandbox_remove(lab)
    lab_set_status(lab_id=lab.pk, expected=(Status.STOPPING,), status=Status.STOPPED, sandbox_id="")


def _this_nodes(lab_id: int, status: str) -> Lab | None:
    """The lab, if it has `status` and lives on this node (a lab moved off a dead node that comes
    back must not be touched by the tasks it had left in its queue)."""
    return Lab.objects.filter(pk=lab_id, status=status, node=settings.NSLAB_NODE).first()


def node_heartbeat(*, node: str) -> dict[str, list[int]]:
    """The node's heartbeat: record it alive with its load, then reconcile labs nothing would finish."""
    node_register(name=node, **node_load(node))
    return labs_reconcile()


def node_load(node: str) -> dict[str, int]:
    """What placement weighs: the node's sandboxes and its machine's available memory (bytes)."""
    labs = sum(1 for s in Client().ls() if s.get("owner") == node_owner(node))
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    return {"labs": labs, "mem_available": int(fields["MemAvailable"].split()[0]) * 1024}


def node_announce_start(*, node: str, started_at: float) -> None:
    """Tell the sockets of the node's ready labs that its agent started afresh at `started_at` (epoch
    seconds; after a restart of the node): those that asked an earlier agent ask it again for the
    lab's state and terminal."""
    for lab_id in Lab.objects.filter(node=node, status=Status.READY).values_list("pk", flat=True):
        lab_send(lab_id, {"type": "lab.node.started", "started_at": started_at})


def node_owner(node: str) -> str:
    """The daemon label of this node's sandboxes: others on the same daemon (a shell's) are not ours."""
    return f"nslab-node:{node}"


def node_reap_orphans(*, node: str, created_before: float | None = None) -> dict:
    """Reconcile the daemon with the database when `node` starts.

    Sandboxes labelled as this node's that no active lab owns are removed (only those created before
    `created_before`, so that a sandbox a task is creating right now survives); ready labs whose
    sandbox vanished are marked stopped.
    """
    created_before = time.time() if created_before is None else created_before
    sandboxes = Client().ls()
    owned = set(
        Lab.objects.filter(node=node, status__in=Lab.ACTIVE)
        .exclude(sandbox_id="")
        .values_list("sandbox_id", flat=True)
    )
    removed = [
        s["id"]
        for s in sandboxes
        if s.get("owner") == node_owner(node) and s["id"] not in owned and s["created"] < created_before
    ]
    for sandbox_id in removed:
        _down(sandbox_id)
    alive = {s["id"] for s in sandboxes}
    lost = (
        Lab.objects.filter(node=node, status=Status.READY)
        .exclude(sandbox_id="")
        .exclude(sandbox_id__in=alive)
    )
    stopped = [
        lab.pk
        for lab in lost
        if lab_set_status(
            lab_id=lab.pk,
            expected=(Status.READY,),
            status=Status.STOPPED,
            sandbox_id="",
            error=_("The lab node restarted and the lab was lost; start it again."),
        )
    ]
    return {"removed": removed, "stopped": stopped}


def _check_shell(sandbox_id: str) -> None:
    """Raise unless a command runs in the sandbox as the student's shell would."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        code = Client().exec(sandbox_id, ["true"], stdio=(null, null, null))
    finally:
        os.close(null)
    if code != 0:
        raise SandboxStartError(f"a command in the new sandbox exited with status {code}")


def _sandbox_remove(lab: Lab) -> None:
    """Tell the agent to drop the lab's watcher and shell, then remove its sandbox."""
    node_send(lab.node, {"type": "lab.release", "lab_id": lab.pk, "sandbox_id": lab.sandbox_id})
    _down(lab.sandbox_id)


def _down(sandbox_id: str) -> None:
    try:
        Client().down(sandbox_id)
    except TopologyError as exc:  # already gone is fine: this reconciles
        log.info("sandbox %s: %s", sandbox_id, exc)
