"""Sending lab events from synchronous code (services, tasks) onto the channel layer."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from labapp.labs.channels import lab_group, node_channel
from labapp.labs.models import Lab


def status_frame(lab: Lab) -> dict:
    """The `lab.status` frame of a lab."""
    return {
        "type": "lab.status",
        "status": lab.status,
        "error": lab.error,
        "docker_version": lab.docker_version,
        "sandbox_id": lab.sandbox_id,
    }


def lab_send_status(lab: Lab) -> None:
    _group_send(lab.pk, status_frame(lab))


def lab_send_progress(lab_id: int, step: str, percent: int) -> None:
    _group_send(lab_id, {"type": "lab.progress", "step": step, "percent": percent})


def lab_send(lab_id: int, message: dict) -> None:
    """Send an event (a dict with `type`) to every socket of the lab."""
    _group_send(lab_id, message)


def node_send(node: str, message: dict) -> None:
    """Send a message to a lab node's agent."""
    async_to_sync(get_channel_layer().send)(node_channel(node), message)


def _group_send(lab_id: int, message: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(lab_group(lab_id), message)
