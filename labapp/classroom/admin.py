"""Cohorts in Django's admin, and the admin's attempts, submissions and labs narrowed for instructors:
a user who is not a superuser sees only the cohorts they teach and their students' rows."""

from django.contrib import admin

from labapp.classroom.models import Cohort, Enrolment
from labapp.exercises.admin import AttemptAdmin, SubmissionAdmin
from labapp.exercises.models import Attempt, Submission
from labapp.labs.admin import LabAdmin
from labapp.labs.models import Lab


class TaughtOnly:
    """Superusers see every row; others the rows of their cohorts' students (`student_path`)."""

    student_path = "user"

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        key = f"{self.student_path}__enrolments__cohort__instructors"
        return rows.filter(**{key: request.user}).distinct()


class EnrolmentInline(admin.TabularInline):
    model = Enrolment
    extra = 0
    raw_id_fields = ("student",)
    readonly_fields = ("joined_at",)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "course", "join_code", "join_code_expires_at", "created_at")
    list_filter = ("course",)
    search_fields = ("name", "join_code", "instructors__username")
    filter_horizontal = ("instructors",)
    readonly_fields = ("created_at",)
    inlines = (EnrolmentInline,)

    def get_queryset(self, request):
        cohorts = super().get_queryset(request)
        return cohorts if request.user.is_superuser else cohorts.filter(instructors=request.user)


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ("student", "cohort", "via", "joined_at")
    list_filter = ("via", "cohort")
    search_fields = ("student__username", "student__email", "cohort__name")
    raw_id_fields = ("student",)

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.filter(cohort__instructors=request.user)


class TaughtAttemptAdmin(TaughtOnly, AttemptAdmin):
    student_path = "user"


class TaughtSubmissionAdmin(TaughtOnly, SubmissionAdmin):
    student_path = "attempt__user"


class TaughtLabAdmin(TaughtOnly, LabAdmin):
    student_path = "owner"


for model, model_admin in (
    (Attempt, TaughtAttemptAdmin),
    (Submission, TaughtSubmissionAdmin),
    (Lab, TaughtLabAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
