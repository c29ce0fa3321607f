from django.contrib import admin

from .models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """Written by the worker itself; shown so an operator can see when each process last ran."""

    list_display = ("name", "last_seen")
    search_fields = ("name",)
    list_filter = ("last_seen",)
    readonly_fields = ("name", "last_seen")

    def has_add_permission(self, request):
        return False
