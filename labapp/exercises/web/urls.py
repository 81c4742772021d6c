from django.urls import path

from labapp.exercises.web import views

urlpatterns = [
    path("courses/", views.course_list, name="course_list"),
    path("courses/<slug:slug>/", views.course_page, name="course"),
    path("exercises/<slug:slug>/start", views.exercise_start, name="exercise_start"),
    path("attempts/<int:attempt_id>/hint", views.attempt_hint, name="attempt_hint"),
]
