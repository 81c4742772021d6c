"""Cohorts: a class taking a course (`course/`), its instructors and its enrolled students."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Cohort(models.Model):
    name = models.CharField(_("name"), max_length=120)
    # The course's slug, as Exercise.course: a cohort may exist before its course is loaded.
    course = models.SlugField(_("course"), max_length=64, db_index=True)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="cohorts_taught", verbose_name=_("instructors")
    )
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Enrolment",
        related_name="cohorts",
        verbose_name=_("students"),
    )
    join_code = models.CharField(_("join code"), max_length=16, unique=True)
    join_code_expires_at = models.DateTimeField(_("join code expires"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")

    def __str__(self) -> str:
        return f"{self.name} ({self.course})"

    def join_code_valid(self, now=None) -> bool:
        """Whether the join code still lets students in."""
        return self.join_code_expires_at is None or self.join_code_expires_at > (now or timezone.now())


class Enrolment(models.Model):
    class Via(models.TextChoices):
        CODE = "code", _("join code")
        CSV = "csv", _("CSV enrolment")
        ADMIN = "admin", _("added by an instructor")

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrolments")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.CODE)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "student"], name="one_enrolment_per_cohort")]
        ordering = ["cohort", "student__username"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")

    def __str__(self) -> str:
        return f"{self.student} in {self.cohort}"


class LabWatch(models.Model):
    """An instructor's open read-only view of a student's lab (one row per socket): the student's page
    says who watches. A row whose socket died without closing ages out (WATCH_STALE_AFTER)."""

    lab = models.ForeignKey("labs.Lab", on_delete=models.CASCADE, related_name="watches")
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)


class LabMessage(models.Model):
    """A short message an instructor sent to the student of a lab (shown on the lab page)."""

    lab = models.ForeignKey("labs.Lab", on_delete=models.CASCADE, related_name="teacher_messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(_("message"), max_length=500)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]
