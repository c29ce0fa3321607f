from django.conf import settings
from django.db import models
from django.db.models import Q

from servicedesk import limits
from servicedesk.integrations.models import Integration

# A delivery larger than this is refused (413) before it is read: the dispatch systems' events are a few kilobytes.
MAX_BODY = 1024 * 1024


class WebhookSecret(models.Model):
    """The secret an integration's webhooks are signed with. Kept as it is, not hashed: checking a signature needs
    it. Generated here for the generic kind (Standard Webhooks' `whsec_...`), or pasted from the dispatch system,
    which issues its own."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="webhook_secret")
    secret = models.CharField(max_length=200)
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    def __str__(self):
        return f"webhook secret of {self.integration}"


class InboxEventQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(state=InboxEvent.State.WAITING)

    def needing_attention(self):
        """Failed, or waiting: what a manager sees on the integration's page."""
        return self.filter(state__in=[InboxEvent.State.WAITING, InboxEvent.State.FAILED])


class InboxEvent(models.Model):
    """One verified delivery, stored before anything is done with it: the inbox row is the truth, the message to
    the worker only a hint (a sweep picks up whatever waits)."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (a kind of event not used here)"
        FAILED = "failed", "Failed"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="inbox_events")
    # The vendor's id for the event (Standard Webhooks' webhook-id), or a digest of the body where it sends none.
    event_id = models.CharField(max_length=200)
    kind = models.CharField(max_length=100, help_text="The event's type as the dispatch system names it.")
    occurred_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When it happened in the dispatch system (its modified-on).")
    received_at = models.DateTimeField()
    body = models.TextField(max_length=MAX_BODY)
    headers = models.JSONField(default=dict, help_text="The signature headers, as received.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.WAITING)
    result = models.TextField(max_length=limits.NOTE, blank=True, help_text="What processing it did, or its error.")
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    retried_at = models.DateTimeField(null=True, blank=True)
    retried_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")

    objects = InboxEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "event_id"], name="inbox_event_once"),
            *limits.text_limits("intake_inboxevent", body=MAX_BODY, result=limits.NOTE),
        ]
        indexes = [
            # The sweep's and the integration page's few rows among all processed ones.
            models.Index(fields=["received_at"], name="inbox_event_open",
                         condition=Q(state__in=["waiting", "failed"])),
            models.Index(fields=["integration", "-received_at"], name="inbox_event_integration"),
        ]

    def __str__(self):
        return f"{self.kind} {self.event_id}"


class RecordVersion(models.Model):
    """The dispatch system's moment (occurred-at / modified-on) of the newest event applied to a record: an event
    older than it is not applied, so a late "scheduled" never undoes a "completed", and replaying the inbox
    changes nothing."""

    kind = models.CharField(max_length=20)  # customers.importing.KINDS: customers, sites, equipment, jobs
    external_id = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "external_id"], name="record_version_once")]

    def __str__(self):
        return f"{self.kind} {self.external_id} @ {self.occurred_at}"
