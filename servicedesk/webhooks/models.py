import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from servicedesk.integrations.models import Integration
from servicedesk.limits import text_limits

# An event's JSON as sent: the largest record (a customer's notes, a job's summary) is 10,000 characters a field.
BODY_MAX = 100_000
# The first 1 KiB of a receiver's answer is kept per attempt, for the manager reading why it failed.
EXCERPT_MAX = 1_024


class Subscription(models.Model):
    """An integration's receiver of events: where to post them, which ones, and the secret that signs them.

    The secret is kept as is (it signs, so it cannot be a digest) and shown to the manager once. After a rotation
    the previous one keeps signing too, beside the new one, until `previous_secret_until`.
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    label = models.CharField(max_length=100, help_text="What receives the events, e.g. \"dispatch board\".")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    # Since when the receiver has taken nothing (None after a success): the moment the first delivery it failed
    # was due, or its last success if later. Three days of that disables the subscription.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["integration", "label", "pk"]

    def __str__(self):
        return f"{self.label} ({self.url})"

    def get_absolute_url(self):
        return reverse("webhooks:detail", args=[self.integration_id, self.pk])

    @property
    def setting_name(self):
        """Its edits are on the trail (servicedesk.audit) under this name."""
        return f"webhook subscription {self.pk}"

    def signing_secrets(self, now=None):
        now = now or timezone.now()
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


class Event(models.Model):
    """One thing that happened, as the JSON document every subscriber of its type is sent: written in the
    transaction of the change (servicedesk/webhooks/outbox.py), its body fixed then, so every retry and replay
    sends the same bytes under the same `webhook-id`."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=50)
    occurred_at = models.DateTimeField()
    object_id = models.BigIntegerField(null=True)
    body = models.TextField(max_length=BODY_MAX)

    class Meta:
        constraints = text_limits("webhooks_event", body=BODY_MAX)

    def __str__(self):
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self):
        return f"msg_{self.uuid.hex}"


class DeliveryQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(delivered_at=None, gave_up_at=None)

    def due(self, now):
        """Pending, its subscription enabled, its time come, and no worker holding it."""
        return self.pending().filter(
            Q(claimed_until=None) | Q(claimed_until__lt=now), next_attempt_at__lte=now, subscription__enabled=True,
        )


class Delivery(models.Model):
    """The outbox row: one event for one subscription, unique, delivered at least once. The row is the truth: a
    message lost with Redis or a killed worker is found again by the sweep (deliveries_claim_due)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField()
    # The retry schedule counts from here: the first attempt, or the replay or re-enabling that started it again.
    retry_from = models.DateTimeField()
    retries = models.PositiveIntegerField(default=0)
    # A worker sending it holds it until then; one killed mid-send lets it go when this passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="webhooks_delivery_once_per_subscription"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhooks_delivery_pending",
                         condition=Q(delivered_at=None, gave_up_at=None)),
        ]

    def __str__(self):
        return f"{self.event} → {self.subscription_id}"

    @property
    def state(self):
        if self.delivered_at:
            return "delivered"
        return "gave up" if self.gave_up_at else "pending"


class Attempt(models.Model):
    """One try at sending a delivery, kept for the subscription's page: what the receiver answered, how fast."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    delivered = models.BooleanField(default=False)
    error = models.CharField(max_length=200, blank=True)
    response_excerpt = models.TextField(max_length=EXCERPT_MAX, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subscription", "-at"], name="webhooks_attempt_subscription")]
        constraints = text_limits("webhooks_attempt", response_excerpt=EXCERPT_MAX)

    def __str__(self):
        return f"{self.delivery_id} at {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
