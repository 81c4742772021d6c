"""ASGI entry point: `daphne labapp.config.asgi:application`. WebSocket routes come with the lab pages."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")
# Set Django up before anything imports models (Channels consumers will).
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

# Daphne serves no static files itself; in development do what runserver does.
http_app = ASGIStaticFilesHandler(django_http) if settings.DEBUG else django_http

application = ProtocolTypeRouter({"http": http_app})
