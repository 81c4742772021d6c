from django.urls import path

from labapp.classroom.web.consumers import CohortConsumer

websocket_urlpatterns = [
    path("ws/teach/<int:cohort_id>/", CohortConsumer.as_asgi()),
]
