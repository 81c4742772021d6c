"""The lab node's side of exercises: setup of a new sandbox, Checks, continuous grading.

Everything here runs in the process that owns the sandboxes (a lab node), never in the student's
reach: commands and probes go through the topology daemon, results go to the database and to the
lab's group as `attempt.graded`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

from labapp.exercises.models import Attempt, Submission
from labapp.exercises.node.runner import grade, run_steps, sandbox_access
from labapp.exercises.records import attempt_record_grading
from labapp.exercises.spec import render
from labapp.labs.broadcast import lab_send, lab_send_progress
from labapp.labs.channels import lab_group
from labapp.labs.models import Lab
from topology.access import RecordingAccess, SnapshotAccess

log = logging.getLogger(__name__)

SETUP_FROM, SETUP_TO = 82, 98


def attempt_setup(*, lab: Lab, sandbox_id: str) -> None:
    """Run the exercise's setup in the lab's new sandbox (nothing for a lab without an attempt)."""
    attempt = Attempt.objects.filter(lab_id=lab.pk).select_related("exercise").first()
    if attempt is None:
        return
    steps = render(attempt.exercise.data.get("setup") or [], attempt.params)

    def progress(done: int, total: int) -> None:
        lab_send_progress(lab.pk, "setup", SETUP_FROM + (SETUP_TO - SETUP_FROM) * done // max(total, 1))

    run_steps(sandbox_access(sandbox_id), steps, progress=progress)


def on_sandbox_prepared(sender, *, lab: Lab, sandbox_id: str, **kwargs) -> None:
    """The `sandbox_prepared` receiver (connected by the app's ready())."""
    attempt_setup(lab=lab, sandbox_id=sandbox_id)


def _lab_sandbox(attempt: Attempt) -> str | None:
    lab = attempt.lab
    if lab is None or lab.status != Lab.Status.READY or not lab.sandbox_id:
        return None
    return lab.sandbox_id


def attempt_check(*, attempt_id: int, answers: dict | None = None, request_id: str = "") -> dict | None:
    """Grade the attempt on demand (all checks, probes and questions), keep it, send `attempt.graded`."""
    attempt = Attempt.objects.filter(pk=attempt_id).select_related("exercise", "lab").first()
    if attempt is None:
        return None
    sandbox_id = _lab_sandbox(attempt)
    if sandbox_id is None:
        return None
    answers = {
        task_id: {int(index): value for index, value in (values or {}).items()}
        for task_id, values in (answers or {}).items()
    }
    access = RecordingAccess(sandbox_access(sandbox_id))
    results = grade(attempt.rendered_tasks(), access, answers=answers, mode="check")
    frame, _newly = attempt_record_grading(
        attempt_id=attempt.pk,
        results=results,
        kind=Submission.Kind.CHECK,
        snapshot=access.last_snapshot,
        answers=answers,
        request_id=request_id,
    )
    lab_send(attempt.lab_id, frame)
    return frame


# Continuous grading: the last results signature per attempt, so that only changes are sent.
_last_signature: dict[int, tuple] = {}


def attempt_grade_continuous(*, lab_id: int, snapshot: dict) -> dict | None:
    """State-only grading of the lab's attempt on a snapshot the agent just published; the
    `attempt.graded` frame when something changed, else None."""
    attempt = Attempt.objects.filter(lab_id=lab_id).select_related("exercise").first()
    if attempt is None:
        return None
    results = grade(attempt.rendered_tasks(), SnapshotAccess(snapshot), mode="continuous")
    signature = tuple(
        (r["id"], bool(r.get("passed")), tuple(c.get("ok") for c in r.get("checks") or [])) for r in results
    )
    if _last_signature.get(attempt.pk) == signature:
        return None
    _last_signature[attempt.pk] = signature
    frame, _newly = attempt_record_grading(
        attempt_id=attempt.pk, results=results, kind=Submission.Kind.CONTINUOUS, snapshot=snapshot
    )
    return frame


class ContinuousGrader:
    """Per agent: grades each lab's published snapshots one at a time; a newer snapshot replaces one
    still waiting."""

    def __init__(self):
        self.waiting: dict[int, dict] = {}
        self.running: set[int] = set()

    def on_state(self, agent, lab_id: int, snapshot: dict) -> None:
        self.waiting[lab_id] = snapshot
        if lab_id not in self.running:
            self.running.add(lab_id)
            agent.loop.create_task(self._drain(agent, lab_id))

    async def _drain(self, agent, lab_id: int) -> None:
        try:
            while lab_id in self.waiting:
                snapshot = self.waiting.pop(lab_id)
                try:
                    frame = await database_sync_to_async(attempt_grade_continuous)(
                        lab_id=lab_id, snapshot=snapshot
                    )
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("lab %s: continuous grading failed", lab_id)
                    continue
                if frame is not None:
                    agent.queue(lab_group(lab_id), frame, group=True)
        finally:
            self.running.discard(lab_id)


_graders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def on_lab_state(agent, lab_id: int, snapshot: dict) -> None:
    """The node agent's state listener (registered by the app's ready())."""
    grader = _graders.get(agent)
    if grader is None:
        grader = _graders[agent] = ContinuousGrader()
    grader.on_state(agent, lab_id, snapshot)
