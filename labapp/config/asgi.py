"""ASGI entry point: `daphne labapp.config.asgi:application` (HTTP and the lab WebSockets)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.config.settings")
# Set Django up before anything imports models (the consumers do).
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from labapp.classroom.web.routing import websocket_urlpatterns as classroom_sockets  # noqa: E402
from labapp.labs.web.routing import websocket_urlpatterns  # noqa: E402

# Daphne serves no static files itself; in development do what runserver does.
http_app = ASGIStaticFilesHandler(django_http) if settings.DEBUG else django_http

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns + classroom_sockets))
        ),
    }
)
