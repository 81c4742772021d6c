from django.urls import path

from labapp.labs.web.consumers import LabConsumer

websocket_urlpatterns = [
    path("ws/labs/<int:lab_id>/", LabConsumer.as_asgi()),
]
