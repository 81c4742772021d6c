from django.urls import path
from django.views.i18n import JavaScriptCatalog

from labapp.labs.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("labs/", views.lab_create, name="lab_create"),
    path("labs/<int:lab_id>/", views.lab_page, name="lab"),
    path("labs/<int:lab_id>/reset", views.lab_reset, name="lab_reset"),
    path("labs/<int:lab_id>/stop", views.lab_stop, name="lab_stop"),
    path("labs/<int:lab_id>/start", views.lab_start, name="lab_start"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
