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
