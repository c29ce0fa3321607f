"""A named column mapping, and each import of a flat jobs report: who, when, which file, how far it got, what it
found. Imported by customers/models.py, so they are the customers app's tables."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from servicedesk.audit import Via


class ReportMapping(models.Model):
    """Which field each column of a dispatch system's report gives ("ServiceTitan jobs report"), found again by the
    file's headers. Its edits are on the settings trail (servicedesk.audit), by the manager who saved them."""

    name = models.CharField(max_length=100, unique=True)
    signature = models.CharField(max_length=2000, help_text="The headers, compared whatever their case.")
    fields = models.JSONField(default=dict, help_text="{header: field key, or '' for a column left out}")
    date_orders = models.JSONField(default=dict, help_text="{header: 'us' or 'day'} for dates that read both ways")
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["signature"], name="report_mapping_signature")]

    def __str__(self):
        return self.name


class ReportImportQuerySet(models.QuerySet):
    def recent(self):
        return self.select_related("by", "mapping").order_by("-created_at", "-pk")


class ReportImport(models.Model):
    """One file on its way in: mapped, checked (the preview), then imported or failed. The row keeps what the
    page shows while a worker runs it, and stays as the history of imports."""

    class Status(models.TextChoices):
        MAPPING = "mapping", "waiting for its columns"
        CHECKING = "checking", "being checked"
        CHECKED = "checked", "checked, waiting to be imported"
        IMPORTING = "importing", "being imported"
        IMPORTED = "imported", "imported"
        FAILED = "failed", "not imported"

    file_name = models.CharField(max_length=255)
    stored_name = models.CharField(max_length=255, help_text="Under MEDIA_ROOT; removed once imported.")
    size = models.PositiveBigIntegerField(default=0)
    sheet = models.CharField(max_length=100, blank=True)
    sheets = models.JSONField(default=list, blank=True)
    layout = models.CharField(max_length=200, blank=True, help_text="What was detected: encoding, delimiter...")
    mapping = models.ForeignKey(ReportMapping, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    fields = models.JSONField(default=dict, blank=True)
    date_orders = models.JSONField(default=dict, blank=True)
    ambiguous_dates = models.JSONField(default=list, blank=True)
    resolutions = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.MAPPING)
    rows = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True, help_text="[row, column, message], the first 500")
    error_count = models.PositiveIntegerField(default=0)
    ambiguities = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                           related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.IMPORT)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ReportImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["-created_at"], name="report_import_created")]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("customers:report_detail", args=[self.pk])

    @property
    def is_running(self):
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def percent(self):
        if not self.rows:
            return 0
        # Two passes over the file: every cell checked, then the rows staged (the preview) or written.
        return min(100, round(50 * (self.rows_checked + self.rows_written) / self.rows))
