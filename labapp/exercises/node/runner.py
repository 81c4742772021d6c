"""Running an exercise's steps and its checks in a sandbox (lab node side, through the topology daemon).

Used by the lab node (setup, grading tasks, continuous grading) and by `manage.py exercises verify`;
nothing here touches the database.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from topology.client import ClientAccess
from topology.errors import TopologyError

STEP_TIMEOUT = 60.0


class StepFailed(TopologyError):
    """A setup or solution step exited with an error."""


def step_argv(step: dict) -> tuple[str, list[str]]:
    """The namespace and the command line of a setup or solution step."""
    if "docker" in step:
        return step.get("ns", "host"), ["docker", *shlex.split(step["docker"])]
    return step.get("ns", "host"), ["sh", "-ec", step["sh"]]


def run_steps(access, steps: list[dict], *, progress: Callable[[int, int], None] | None = None) -> None:
    """Run templated steps in order, as the student's shell would; raise StepFailed on the first error."""
    for index, step in enumerate(steps):
        if progress:
            progress(index, len(steps))
        ns, argv = step_argv(step)
        code, out, err = access.run(ns, argv, timeout=STEP_TIMEOUT)
        if code != 0:
            what = f"docker {step['docker']}" if "docker" in step else step["sh"]
            detail = (err or out).strip()[-500:]
            raise StepFailed(f"step {index + 1} ({what!r} in {ns}) exited with {code}: {detail}")


def sandbox_access(sandbox_id: str):
    """The sandbox as the grader reaches it, through the lab-node daemon."""
    return ClientAccess(sandbox_id)


def grade(tasks: list[dict], access, *, answers: dict | None = None, mode: str = "check") -> list[dict]:
    """topology.grading.grade_tasks: per task {"id", "passed", "checks"}."""
    from topology.grading import grade_tasks

    return grade_tasks(tasks, access, answers=answers, mode=mode)


def right_answers(tasks: list[dict], access) -> dict:
    """topology.grading.expected_answers: the answers the live state makes right."""
    from topology.grading import expected_answers

    return expected_answers(tasks, access)
