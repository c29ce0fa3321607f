from django.db import models


class WorkerHeartbeat(models.Model):
    """When each background process last proved it was alive (one row per process name)."""

    name = models.CharField(max_length=100, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M}"
