"""Warranty part claims (issue 23): a callback whose cause is a manufacturer's part under warranty opens one claim,
followed until the credit comes back or the claim is denied. Imported by callbacks.models so that Django finds it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from servicedesk import limits


class ClaimQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(status=WarrantyClaim.Status.TO_SEND)

    def unanswered(self):
        return self.filter(status=WarrantyClaim.Status.SENT)

    def open(self):
        return self.filter(status__in=[WarrantyClaim.Status.TO_SEND, WarrantyClaim.Status.SENT,
                                       WarrantyClaim.Status.APPROVED])


class WarrantyClaim(models.Model):
    class Status(models.TextChoices):
        TO_SEND = "to_send", "To send"
        SENT = "sent", "Sent"
        APPROVED = "approved", "Approved"
        CREDITED = "credited", "Credited"
        DENIED = "denied", "Denied"

    # One claim per callback: a faulty part found twice (resolved, reopened, resolved again) is the same part.
    callback = models.OneToOneField("callbacks.Callback", on_delete=models.PROTECT, related_name="warranty_claim")
    part_name = models.CharField(max_length=200)
    part_number = models.CharField(max_length=100, blank=True)
    failed_serial = models.CharField("failed part's serial", max_length=100, blank=True)
    supplier = models.CharField("supplier / distributor", max_length=200)
    manufacturer = models.CharField(max_length=200, blank=True)
    rma_number = models.CharField("RMA or claim number", max_length=100, blank=True)
    sent_on = models.DateField("date sent", null=True, blank=True)
    expected_credit = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TO_SEND)
    answered_on = models.DateField(null=True, blank=True, help_text="Approved or denied on.")
    denial_reason = models.TextField(max_length=limits.NOTE, blank=True)
    credit_received = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    credited_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="warranty_claim_status")]
        constraints = [
            *limits.text_limits("callbacks_warrantyclaim", denial_reason=limits.NOTE),
            models.CheckConstraint(condition=~Q(status="denied") | ~Q(denial_reason=""),
                                   name="warranty_claim_denied_has_reason"),
            models.CheckConstraint(condition=~Q(status="credited") | Q(credit_received__isnull=False),
                                   name="warranty_claim_credited_has_credit"),
        ]

    def __str__(self):
        return f"Warranty claim for {self.part_name} (callback #{self.callback_id})"

    @property
    def is_open(self):
        return self.status in (self.Status.TO_SEND, self.Status.SENT, self.Status.APPROVED)


class OpeningHours(models.Model):
    """The company's opening hours on one weekday, for the business-hours targets (callbacks/business_clock.py).
    A weekday with no row is closed; with no row at all, Monday to Friday 8 to 5."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, unique=True)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "opening hours"
        constraints = [models.CheckConstraint(condition=Q(closes__gt=models.F("opens")),
                                              name="opening_hours_close_after_opening")]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """A day the company is closed beyond the public holidays (a shutdown, a snow day): the business-hours targets
    stop that day."""

    day = models.DateField(unique=True)
    reason = models.CharField(max_length=200)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"Closed {self.day:%b %d, %Y}: {self.reason}"


class CallbackPause(models.Model):
    """A callback on hold: waiting on the customer or on parts, with the reason and the expected date. Its clock
    stops (Callback.paused_since) until it is taken off hold, by hand or on the expected date by the sweep; what was
    left of its target then runs from there (callbacks/pauses.py)."""

    class Reason(models.TextChoices):
        CUSTOMER = "customer", "Waiting on the customer"
        PARTS = "parts", "Waiting on parts"

    callback = models.ForeignKey("callbacks.Callback", on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.TextField(max_length=limits.NOTE)
    expected_on = models.DateField("expected by")
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["started_at"], name="callback_pause_started")]
        constraints = [
            *limits.text_limits("callbacks_callbackpause", note=limits.NOTE),
            # One hold at a time.
            models.UniqueConstraint(fields=["callback"], condition=Q(ended_at__isnull=True),
                                    name="callback_pause_one_open"),
        ]

    def __str__(self):
        return f"{self.get_reason_display()} since {self.started_at:%Y-%m-%d}"
