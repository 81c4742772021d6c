"""The Celery app that lab nodes and beat run: `celery -A labapp.config.celery worker`."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")

app = Celery("labapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def start_node_agent(**kwargs) -> None:
    """A worker is a lab node: it also runs the node agent (labapp/labs/node/agent.py)."""
    from django.conf import settings

    from labapp.labs.node.agent import start_agent_thread

    start_agent_thread(settings.NSLAB_NODE)
