from django.urls import path

from labapp.labs import views

urlpatterns = [
    path("", views.home, name="home"),
]
