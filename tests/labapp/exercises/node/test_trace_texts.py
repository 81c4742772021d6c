"""A real `trace` check of exercise 25 (fix-trace-drop) in its own sandbox, as a Chinese reader sees it:
the verdict and the walk's last step are translated too, and no English sentence is left."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from labapp.exercises.node.runner import grade, run_steps, sandbox_access
from labapp.exercises.results import result_for_people
from labapp.exercises.spec import exercise_params, load_courses, params_seed, render
from tests.labapp.exercises.conftest import REPO
from topology.client import Client

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("sandboxes_cleaned")]


def parameters(message) -> list[str]:
    """Every parameter value of a message and of the messages in its parameters."""
    if not isinstance(message, dict):
        return [str(message)]
    return [text for value in message["params"].values() for text in parameters(value)]


def english_left(shown: str, message: dict) -> list[str]:
    """Runs of two or more English words in a text once its parameters (names, addresses, rules) are cut."""
    for value in sorted(parameters(message), key=len, reverse=True):
        shown = shown.replace(value, " ")
    return re.findall(r"[A-Za-z]+(?:[ ,]+[A-Za-z]+)+", shown)


def trace_result(access, tasks) -> dict:
    (fix,) = [t for t in grade(tasks, access, mode="check") if t["id"] == "fix"]
    return next(check for check in fix["checks"] if check["kind"] == "trace")


def test_exercise_25s_trace_check_reads_in_chinese():
    (data,) = [e.data for e in load_courses(REPO / "course").exercises if e.data["slug"] == "fix-trace-drop"]
    exercise = render(data, exercise_params(data, params_seed("i18n-test", data["slug"])))
    tasks = exercise["tasks"]
    client = Client()
    sandbox_id = client.up(exercise["docker"], owner="tests")["id"]
    try:
        access = sandbox_access(sandbox_id)
        run_steps(access, exercise["setup"])
        dropped = trace_result(access, tasks)
        for task in tasks:
            run_steps(access, task.get("solution") or [])
        delivered = trace_result(access, tasks)
    finally:
        client.down(sandbox_id)

    assert dropped["message"]["code"] == "trace.verdict", dropped["message"]
    assert delivered["message"]["code"] == "trace.ok", delivered["message"]
    assert dropped["message"]["params"]["last"]["code"] == "drop.rule"
    assert delivered["message"]["params"]["verdict"] == {"code": "verdict.delivered", "params": {}}
    with translation.override("zh-hans"):
        zh = [result_for_people(dropped)["message"], result_for_people(delivered)["message"]]
    assert "报文被丢弃，但预期是“已送达”：在 host 中被 filter SEC-AUDIT 的规则" in zh[0], zh[0]
    assert "报文已送达，符合预期：" in zh[1], zh[1]
    for shown, result in zip(zh, (dropped, delivered), strict=True):
        assert english_left(shown, result["message"]) == [], shown
    with translation.override("en"):  # the same measure finds the English text English
        assert english_left(result_for_people(delivered)["message"], delivered["message"])
