"""Project configuration: settings, URL routes, the ASGI/WSGI entry points and the Celery app."""
