"""A full exercise check (issue 4): every task's checks, probes and questions graded in a solved lab.

The lab is the `publish-p` exercise after its setup and reference solution (kernel checks, an HTTP
probe from the external client, a question answered from the live state). One sample is one
`grade_tasks(..., mode="check")` as the lab node runs it for the student's Check button: one snapshot
of the sandbox plus the probes' real traffic.

Floor: what a hand-written grader must at least do for the same verdicts, in one command through the
same daemon: `iptables-save` and `ip -j addr` in the Docker host, then the same HTTP fetch from the
client namespace.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.harness import benchmark, percentile, result, sample

SLUG = "publish-p"
_STATE = Path(f"/var/lib/nslab-bench/check-{os.getpid()}")


def _exercise() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")
    import django

    django.setup()
    from labapp.exercises.spec import exercise_params, load_courses, params_seed, render

    root = Path(__file__).resolve().parent.parent / "course"
    loaded = load_courses(root, base=root.parent)
    data = next(e.data for e in loaded.exercises if e.data["slug"] == SLUG)
    return render(data, exercise_params(data, params_seed(0, SLUG)))


def _http_probe(exercise: dict) -> str:
    """The URL of the exercise's first HTTP probe from the client (the floor fetches the same)."""
    for task in exercise["tasks"]:
        for check in task["checks"]:
            if "http" in check:
                return str(check["http"]["url"])
    raise LookupError(f"{SLUG} has no http probe")


@benchmark
def exercise_full_check():
    os.environ["NSLAB_STATE_DIR"] = str(_STATE)
    from labapp.exercises.node.runner import right_answers, run_steps
    from topology.client import Client, ClientAccess
    from topology.grading import grade_tasks

    exercise = _exercise()
    client = Client()
    sid = client.up(exercise["docker"], owner="nslab-bench")["id"]
    try:
        access = ClientAccess(sid, client)
        run_steps(access, exercise.get("setup") or [])
        for task in exercise["tasks"]:
            run_steps(access, task.get("solution") or [])
        answers = right_answers(exercise["tasks"], access)

        def check():
            results = grade_tasks(exercise["tasks"], access, answers=answers, mode="check")
            failed = [c for r in results for c in r["checks"] if c.get("ok") is not True]
            assert not failed, failed

        url = _http_probe(exercise)

        def floor():
            code, _out, err = access.run(
                "host", ["sh", "-c", "iptables-save >/dev/null; ip -j addr >/dev/null"]
            )
            assert code == 0, err
            code, out, err = access.run(
                "client", ["curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", url]
            )
            assert out == "200", (code, out, err)

        floor_samples = sample(floor, n=20)
        samples = sample(check, n=20)
    finally:
        client.down(sid)
    rec = result(
        "exercise_full_check",
        samples,
        floor_p50_ms=round(percentile(floor_samples, 50), 3),
        goal="p50 < 150 ms (one Check of a solved publish-p lab: snapshot, probes, question)",
    )
    rec["checks"] = sum(len(t["checks"]) for t in exercise["tasks"])
    return rec


def cleanup() -> None:
    """Stop the daemon this module started (by the pid it reports) and remove its state."""
    from bench.labserver import stop_private_daemon

    stop_private_daemon(_STATE)
