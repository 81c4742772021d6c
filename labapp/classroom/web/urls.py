from django.urls import path

from labapp.classroom.web import views

urlpatterns = [
    path("teach/", views.teach_index, name="teach"),
    path("teach/new", views.cohort_create, name="cohort_create"),
    path("teach/<int:cohort_id>/", views.cohort_page, name="cohort"),
    path("teach/<int:cohort_id>/code", views.cohort_code, name="cohort_code"),
    path("teach/<int:cohort_id>/instructors", views.cohort_instructor_add, name="cohort_instructor_add"),
    path("teach/<int:cohort_id>/enrol", views.cohort_enrol, name="cohort_enrol"),
    path("teach/<int:cohort_id>/grades.csv", views.cohort_grades, name="cohort_grades"),
    path("teach/<int:cohort_id>/students/<int:student_id>/", views.cohort_student, name="cohort_student"),
    path(
        "teach/<int:cohort_id>/students/<int:student_id>/remove",
        views.cohort_student_remove,
        name="cohort_student_remove",
    ),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join_code, name="join_code"),
]
