from django.urls import path

from labapp.classroom.web.consumers import CohortConsumer, LabWatchConsumer

websocket_urlpatterns = [
    path("ws/teach/<int:cohort_id>/", CohortConsumer.as_asgi()),
    path("ws/teach/<int:cohort_id>/labs/<int:lab_id>/", LabWatchConsumer.as_asgi()),
]
