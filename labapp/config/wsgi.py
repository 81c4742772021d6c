"""WSGI entry point, for tools that want one; nslab itself is served over ASGI (asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")
application = get_wsgi_application()
