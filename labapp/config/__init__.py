"""Project configuration: settings, URL routes, the ASGI/WSGI entry points and the Celery app."""

# Load the Celery app with Django, so that @shared_task binds to it (and its settings, e.g. eager mode).
from labapp.config.celery import app as celery_app

__all__ = ["celery_app"]
