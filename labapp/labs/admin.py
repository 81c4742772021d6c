from django.contrib import admin

from labapp.labs.models import Lab, LabNode


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "docker_version", "node", "sandbox_id", "status", "last_active_at")
    list_filter = ("status", "docker_version", "node")
    search_fields = ("owner__username", "sandbox_id")
    readonly_fields = ("created_at", "updated_at")


@admin.register(LabNode)
class LabNodeAdmin(admin.ModelAdmin):
    list_display = ("name", "heartbeat_at", "labs", "mem_available")
