"""A student's lab (one sandbox on one lab node) and the lab nodes that carry them."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Lab(models.Model):
    class Status(models.TextChoices):
        PREPARING = "preparing", _("Preparing")
        READY = "ready", _("Ready")
        STOPPING = "stopping", _("Stopping")
        STOPPED = "stopped", _("Stopped")
        FAILED = "failed", _("Failed")

    class DockerVersion(models.TextChoices):
        V19 = "19.03", _("Docker 19.03")
        V28 = "28", _("Docker 28")

    # Statuses in which the lab holds (or is about to hold) a sandbox on its node.
    ACTIVE = (Status.PREPARING, Status.READY, Status.STOPPING)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="labs")
    docker_version = models.CharField(max_length=8, choices=DockerVersion.choices, default=DockerVersion.V19)
    node = models.CharField(max_length=64)
    sandbox_id = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREPARING)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_active_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["node", "status"]), models.Index(fields=["status", "last_active_at"])]

    def __str__(self) -> str:
        return f"lab {self.pk} ({self.owner}, Docker {self.docker_version}, {self.status})"


class LabNode(models.Model):
    """A lab node as its last heartbeat described it (placement reads these: labapp/labs/web/services.py)."""

    name = models.CharField(max_length=64, unique=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    labs = models.PositiveIntegerField(default=0)  # the node's sandboxes at the heartbeat
    mem_available = models.BigIntegerField(default=0)  # bytes (MemAvailable of the node's machine)

    # A node is live while it has sent a heartbeat in the last HEARTBEATS_MISSED heartbeat intervals.
    HEARTBEATS_MISSED = 3

    @classmethod
    def live_after(cls) -> datetime:
        """The oldest heartbeat of a live node (NSLAB_HEARTBEAT_SECONDS: a node's interval)."""
        return timezone.now() - timedelta(seconds=settings.NSLAB_HEARTBEAT_SECONDS * cls.HEARTBEATS_MISSED)

    def __str__(self) -> str:
        return self.name
