"""The Celery app that lab nodes and beat run: `celery -A labapp.config.celery worker`."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")

app = Celery("labapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_after_setup.connect
def requeue_unacked_tasks(instance, **kwargs) -> None:
    """Before consuming: the node's tasks that a killed worker left unacknowledged run again."""
    from django.conf import settings

    from labapp.config.redelivery import requeue_unacked
    from labapp.labs.channels import node_channel

    requeue_unacked(instance.app, node_channel(settings.NSLAB_NODE))


@worker_ready.connect
def start_node_agent(**kwargs) -> None:
    """A worker is a lab node: it also runs the node agent (labapp/labs/node/agent.py)."""
    from django.conf import settings

    from labapp.labs.node.agent import start_agent_thread

    start_agent_thread(settings.NSLAB_NODE)
