from django.urls import path

from labapp.classroom.web import lab_views, views

urlpatterns = [
    path("teach/", views.teach_index, name="teach"),
    path("teach/new", views.cohort_create, name="cohort_create"),
    path("teach/<int:cohort_id>/", views.cohort_page, name="cohort"),
    path("teach/<int:cohort_id>/code", views.cohort_code, name="cohort_code"),
    path("teach/<int:cohort_id>/instructors", views.cohort_instructor_add, name="cohort_instructor_add"),
    path("teach/<int:cohort_id>/enrol", views.cohort_enrol, name="cohort_enrol"),
    path("teach/<int:cohort_id>/failed-checks.json", views.cohort_failed_checks, name="cohort_failed_checks"),
    path("teach/<int:cohort_id>/grades.csv", views.cohort_grades, name="cohort_grades"),
    path("teach/<int:cohort_id>/students/<int:student_id>/", views.cohort_student, name="cohort_student"),
    path(
        "teach/<int:cohort_id>/students/<int:student_id>/remove",
        views.cohort_student_remove,
        name="cohort_student_remove",
    ),
    path("teach/<int:cohort_id>/labs/<int:lab_id>/", lab_views.cohort_lab, name="cohort_lab"),
    *(
        path(f"teach/<int:cohort_id>/labs/<int:lab_id>/{action}", view, name=f"cohort_lab_{action}")
        for action, view in (
            ("reset", lab_views.cohort_lab_reset),
            ("stop", lab_views.cohort_lab_stop),
            ("start", lab_views.cohort_lab_start),
            ("message", lab_views.cohort_lab_message),
        )
    ),
    path("join/", views.join, name="join"),
    path("join/<str:code>/", views.join_code, name="join_code"),
]
