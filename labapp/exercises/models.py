"""Exercises (loaded from course/), a student's attempts at them, and what grading recorded."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from labapp.exercises.spec import localised, render


class Course(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    data = models.JSONField()  # course.yaml, validated

    def title(self, language: str) -> str:
        return localised(self.data.get("title"), language)

    def __str__(self) -> str:
        return self.slug


class Exercise(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    course = models.SlugField(max_length=64, db_index=True)
    order = models.IntegerField(default=0)
    data = models.JSONField()  # the validated exercise file, not templated
    digest = models.CharField(max_length=64)  # sha256 of the file it was loaded from
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["course", "order", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def docker_version(self) -> str:
        return self.data["docker"]

    @property
    def tasks(self) -> list[dict]:
        return self.data["tasks"]

    @property
    def max_score(self) -> int:
        return sum(task.get("points", 1) for task in self.tasks)


class Attempt(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="attempts")
    # The lab the attempt runs in; a lab belongs to at most one attempt.
    lab = models.OneToOneField(
        "labs.Lab", on_delete=models.SET_NULL, null=True, blank=True, related_name="attempt"
    )
    params = models.JSONField(default=dict)
    language = models.CharField(max_length=16, default="en")  # grading messages are in this language
    started_at = models.DateTimeField(auto_now_add=True)
    score = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"attempt {self.pk} ({self.user}, {self.exercise})"

    def rendered_tasks(self) -> list[dict]:
        """The exercise's tasks with this attempt's parameters substituted (what the grader checks)."""
        return render(self.exercise.tasks, self.params)


class TaskState(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="task_states")
    task_id = models.CharField(max_length=100)
    passed = models.BooleanField(default=False)
    score = models.FloatField(default=0)
    first_passed_at = models.DateTimeField(null=True, blank=True)
    hints_shown = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "task_id"], name="one_state_per_task")]

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.task_id}"


class Submission(models.Model):
    class Kind(models.TextChoices):
        CHECK = "check", "check"
        CONTINUOUS = "continuous", "continuous"

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="submissions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    results = models.JSONField()  # grade_tasks' output, per task
    answers = models.JSONField(default=dict)
    score = models.FloatField(default=0)
    snapshot = models.JSONField(default=dict)  # the kernel state the results were computed from
    # The Celery task that graded a Check: a redelivered task finds its Submission and records nothing.
    request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_id"], condition=~models.Q(request_id=""), name="one_submission_per_request"
            )
        ]
