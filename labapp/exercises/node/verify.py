"""`manage.py exercises verify`: an exercise's reference solution passes, and a fresh lab fails.

For one exercise: a fresh sandbox, params from a fixed seed, setup; grading must fail every task (at
least one failing check each); then every task's solution in order; grading with the answers the live
state makes right must pass every check. The sandbox is removed afterwards, whatever happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from labapp.exercises.node.runner import grade, right_answers, run_steps, sandbox_access
from labapp.exercises.spec import exercise_params, params_seed, render
from topology.client import Client
from topology.errors import TopologyError

VERIFY_USER = 0  # the fixed seed: parameters as for user 0
VERIFY_OWNER = "nslab-verify"


@dataclass
class Verdict:
    slug: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.slug} ({self.seconds:.1f} s)"
        return f"FAIL  {self.slug} ({self.seconds:.1f} s): " + "; ".join(self.problems)


def _failing(check: dict) -> str:
    message = check.get("message") or {}
    return f"{check.get('kind')}: {message.get('code')} {message.get('params', {})}"


def verify_exercise(data: dict, *, client: Client | None = None) -> Verdict:
    """Verify one (validated, not templated) exercise in a sandbox of its own."""
    client = client or Client()
    verdict = Verdict(data["slug"])
    started = time.monotonic()
    exercise = render(data, exercise_params(data, params_seed(VERIFY_USER, data["slug"])))
    sandbox_id = ""
    try:
        sandbox_id = client.up(exercise["docker"], owner=VERIFY_OWNER)["id"]
        access = sandbox_access(sandbox_id)
        run_steps(access, exercise.get("setup") or [])
        tasks = exercise["tasks"]
        for result in grade(tasks, access, mode="check"):
            if all(check.get("ok") is True for check in result["checks"]):
                verdict.fail(f"task {result['id']} passes before its solution")
        for task in tasks:
            try:
                run_steps(access, task.get("solution") or [])
            except TopologyError as exc:
                verdict.fail(f"task {task['id']}: solution: {exc}")
        answers = right_answers(tasks, access)
        for result in grade(tasks, access, answers=answers, mode="check"):
            for index, check in enumerate(result["checks"]):
                if check.get("ok") is not True:
                    verdict.fail(
                        f"task {result['id']} check {index} fails after the solution: {_failing(check)}"
                    )
    except TopologyError as exc:
        verdict.fail(f"{type(exc).__name__}: {exc}")
    finally:
        if sandbox_id:
            try:
                client.down(sandbox_id)
            except TopologyError:
                pass
        verdict.seconds = time.monotonic() - started
    return verdict
