"""Celery tasks of a lab node; each goes to the queue `labnode.<node>` (services queue them on commit)."""

from celery import shared_task

from labapp.labs import lifecycle

LIMITS = {"soft_time_limit": 120, "time_limit": 150, "acks_late": True}


@shared_task(**LIMITS)
def lab_provision(lab_id: int) -> None:
    lifecycle.lab_provision(lab_id=lab_id)


@shared_task(**LIMITS)
def lab_teardown(lab_id: int) -> None:
    lifecycle.lab_teardown(lab_id=lab_id)


@shared_task(**LIMITS)
def labs_reap_idle() -> list[int]:
    return lifecycle.labs_reap_idle()


@shared_task(**LIMITS)
def node_reap_orphans(node: str) -> dict:
    return lifecycle.node_reap_orphans(node=node)
