"""The lab page's packet walk on the lab node: one `trace.request` walked (topology.trace) and its
`trace.walk` frame, with the steps' message templates in the requester's language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext

from topology.client import ClientAccess
from topology.errors import TopologyError
from topology.trace import MESSAGES, trace

ARMED_FOR = 60.0  # seconds an armed walk waits for the student's packet


def _language(request: dict) -> str:
    language = request.get("language") or "en"
    return language if language in ("en", "zh-hans") else "en"


def busy_frame(request: dict) -> dict:
    """The answer to a `trace.request` while another walk of the lab is under way."""
    with translation.override(_language(request)):
        return {"type": "trace.failed", "message": gettext("Another trace of this lab is under way.")}


def node_trace(sandbox_id: str, request: dict) -> dict:
    """The `trace.walk` (or `trace.failed`) frame of a `trace.request` (blocking: run it in a thread)."""
    try:
        walk = trace(
            ClientAccess(sandbox_id),
            request["source"],
            request["to"],
            request.get("port"),
            request["proto"],
            armed_for=ARMED_FOR if request.get("armed") else 0.0,
        )
    except TopologyError as exc:
        return {"type": "trace.failed", "message": str(exc)}
    codes = {step.message["code"] for step in walk.steps}
    with translation.override(_language(request)):
        messages = {code: gettext(MESSAGES[code]) for code in sorted(codes)}
    return {"type": "trace.walk", "walk": walk.to_dict(), "messages": messages}
