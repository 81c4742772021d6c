"""WebSocket routes of the lab page; `refused_socket_route` goes last in the project's router
(labapp/config/asgi.py): any path no app routes is refused at the handshake (HTTP 403) with one log
line, rather than a routing error with a traceback."""

from django.urls import re_path

from labapp.labs.web.consumers import LabConsumer, RefusedSocket

websocket_urlpatterns = [
    # At most 18 digits: any such id fits the database's 64-bit key.
    re_path(r"^ws/labs/(?P<lab_id>[0-9]{1,18})/$", LabConsumer.as_asgi()),
]
refused_socket_route = re_path(r"", RefusedSocket.as_asgi())
