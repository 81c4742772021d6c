"""Check results for people: `topology.checks.MESSAGES` templates translated with gettext (a parameter
may itself be a message: a `trace` check's verdict and the walk's last step, templates of
`topology.trace.MESSAGES`), and the `attempt.graded` frame (docs/exercises.md)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message_text(message: dict | None) -> str:
    """A `{"code", "params"}` message in the active language."""
    if not message:
        return ""
    from topology.checks import MESSAGES as CHECKS
    from topology.trace import MESSAGES as STEPS

    code = message.get("code", "")
    template = CHECKS.get(code) or STEPS.get(code)
    if template is None:
        return code
    params = {k: _param_text(v) for k, v in (message.get("params") or {}).items()}
    return gettext(template).format_map(_Missing(params))


def _param_text(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict) and "code" in value:  # a message (a trace check's verdict, last step)
        return message_text(value)
    if isinstance(value, dict):  # a localised text (a question's prompt)
        return value.get(translation.get_language() or "en") or value.get("en") or str(value)
    return str(value)


def result_for_people(result: dict) -> dict:
    return {
        "kind": result.get("kind", ""),
        "ok": result.get("ok"),
        "skipped": bool(result.get("skipped")),
        "message": message_text(result.get("message")),
        "diagnoses": [message_text(d) for d in result.get("diagnoses") or []],
    }


def _translations(result: dict) -> dict:
    """A result's texts in every language of the site, for a page in another language than the
    attempt's (an instructor watching)."""
    texts = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            people = result_for_people(result)
        texts[language] = {"message": people["message"], "diagnoses": people["diagnoses"]}
    return texts


def graded_frame(*, attempt, tasks: list[dict], states: dict, results: list[dict], kind: str) -> dict:
    """The `attempt.graded` frame, its texts in the attempt's language (and each result's in every
    language of the site: `translations`)."""
    by_id = {r["id"]: r for r in results}
    with translation.override(attempt.language):
        frame_tasks = []
        for task in tasks:
            state = states[task["id"]]
            result = by_id.get(task["id"], {"checks": []})
            frame_tasks.append(
                {
                    "id": task["id"],
                    "passed": state.passed,
                    "score": state.score,
                    "points": task.get("points", 1),
                    "results": [
                        {**result_for_people(r), "translations": _translations(r)} for r in result["checks"]
                    ],
                }
            )
    return {
        "type": "attempt.graded",
        "attempt_id": attempt.pk,
        "tasks": frame_tasks,
        "score": attempt.score,
        "max_score": sum(task.get("points", 1) for task in tasks),
        "kind": kind,
    }
