import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Integration(models.Model):
    """A system or script that reads and writes servicedesk on the contractor's behalf: their dispatch system, a
    Zapier flow, their own developer's script."""

    class Kind(models.TextChoices):
        GENERIC = "generic", "Generic (any script or service)"
        HOUSECALL_PRO = "housecall_pro", "Housecall Pro"
        SERVICETITAN = "servicetitan", "ServiceTitan"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GENERIC)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:detail", args=[self.pk])


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at=None)


class ApiToken(models.Model):
    """A key an integration sends as `Authorization: Bearer <token>`. Only its SHA-256 digest is kept: the token is
    shown once, when it is issued, and a copy of the database cannot be used to call the API. A digest without a
    salt is enough (and lets the token be found by an index): the token is 256 random bits, not a password."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        READ_WRITE = "read_write", "Read and write"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="tokens")
    label = models.CharField(max_length=100, help_text="What uses it, e.g. \"nightly sync script\".")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.prefix}… ({self.label})"

    @staticmethod
    def digest_of(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def can_write(self):
        return self.scope == self.Scope.READ_WRITE
