from django.contrib import admin

from labapp.exercises.models import Attempt, Course, Exercise, Submission, TaskState


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("slug",)
    search_fields = ("slug",)


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("slug", "course", "order", "docker_version", "max_score", "loaded_at")
    list_filter = ("course",)
    search_fields = ("slug",)
    readonly_fields = ("digest", "loaded_at")


class TaskStateInline(admin.TabularInline):
    model = TaskState
    extra = 0
    fields = ("task_id", "passed", "score", "first_passed_at", "hints_shown")
    readonly_fields = fields


class SubmissionInline(admin.TabularInline):
    model = Submission
    extra = 0
    fields = ("kind", "created_at", "score", "answers")
    readonly_fields = fields
    show_change_link = True


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "exercise", "score", "language", "started_at", "lab")
    list_filter = ("exercise__course", "exercise", "language")
    search_fields = ("user__username", "user__email", "exercise__slug")
    date_hierarchy = "started_at"
    raw_id_fields = ("lab",)
    readonly_fields = ("started_at",)
    inlines = (TaskStateInline, SubmissionInline)


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "attempt", "kind", "score", "created_at")
    list_filter = ("kind", "attempt__exercise")
    search_fields = ("attempt__user__username", "attempt__exercise__slug")
    readonly_fields = ("created_at",)
