from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from servicedesk import roles


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Office staff and sales see every customer; a technician sees the customers on their schedule."""
        if roles.has_role(user, roles.CSR, roles.MANAGER, roles.SALES):
            return self
        if roles.has_role(user, roles.TECHNICIAN):
            return self.filter(pk__in=Job.objects.assigned_to(user).values("customer_id"))
        return self.none()

    def search(self, text):
        """Name, phone in any format, street address, e-mail or invoice number."""
        from .phones import phone_digits

        text = (text or "").strip()
        if not text:
            return self
        condition = (
            Q(name__icontains=text)
            | Q(email__iexact=text)
            | Q(pk__in=Site.objects.filter(street__icontains=text).values("customer_id"))
            | Q(pk__in=Job.objects.filter(invoice_number__iexact=text).values("customer_id"))
        )
        digits = phone_digits(text)
        if len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) // 2:
            condition |= Q(phone_digits__startswith=digits) | Q(alt_phone_digits__startswith=digits)
        return self.filter(condition)


class Customer(models.Model):
    class ContactMethod(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "E-mail"

    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40, blank=True)
    alt_phone = models.CharField("other phone", max_length=40, blank=True)
    # National-number digits of the phones above, for search in any format (see phones.py).
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    alt_phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    email = models.EmailField(blank=True)
    alt_email = models.EmailField("other e-mail", blank=True)
    preferred_contact = models.CharField(max_length=10, choices=ContactMethod.choices, default=ContactMethod.PHONE)
    notes = models.TextField(
        blank=True, help_text="What every technician and CSR should know: expectations, pets, access, history."
    )
    contact_opt_out = models.BooleanField(
        "opted out of contact", default=False, help_text="No follow-up calls, reminders or marketing."
    )
    contact_opt_out_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Customer id in the dispatch system."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["phone_digits"], name="customer_phone_digits"),
            models.Index(fields=["alt_phone_digits"], name="customer_alt_phone_digits"),
            models.Index(fields=["name"], name="customer_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:detail", args=[self.pk])


class Site(models.Model):
    class SiteType(models.TextChoices):
        RESIDENTIAL = "residential", "Residential"
        COMMERCIAL = "commercial", "Commercial"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sites")
    label = models.CharField(max_length=100, blank=True, help_text="e.g. Home, Rental on Elm St.")
    street = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    site_type = models.CharField(max_length=20, choices=SiteType.choices, default=SiteType.RESIDENTIAL)
    access_notes = models.TextField(blank=True, help_text="Gate codes, parking, where the equipment is.")
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["street", "pk"]

    def __str__(self):
        return self.address

    @property
    def address(self):
        street = f"{self.street} {self.unit}".strip()
        return ", ".join(part for part in (street, self.city, f"{self.state} {self.postal_code}".strip()) if part)


class Equipment(models.Model):
    class Kind(models.TextChoices):
        FURNACE = "furnace", "Furnace"
        AIR_CONDITIONER = "air_conditioner", "Air conditioner"
        HEAT_PUMP = "heat_pump", "Heat pump"
        BOILER = "boiler", "Boiler"
        WATER_HEATER = "water_heater", "Water heater"
        TANKLESS_WATER_HEATER = "tankless_water_heater", "Tankless water heater"
        SUMP_PUMP = "sump_pump", "Sump pump"
        WATER_SOFTENER = "water_softener", "Water softener"
        SEWER_LINE = "sewer_line", "Sewer line"
        ELECTRICAL_PANEL = "electrical_panel", "Electrical panel"
        GENERATOR = "generator", "Generator"
        OTHER = "other", "Other"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="equipment")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    make = models.CharField(max_length=100, blank=True)
    model_number = models.CharField("model", max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    installed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name_plural = "equipment"

    def __str__(self):
        return " ".join(part for part in (self.get_kind_display(), self.make, self.model_number) if part)


class JobQuerySet(models.QuerySet):
    def assigned_to(self, user):
        """Jobs where the user is the lead technician or a helper."""
        return self.filter(Q(lead_technician=user) | Q(pk__in=Job.helpers.through.objects.filter(
            user=user).values("job_id")))

    def visible_to(self, user):
        if roles.has_role(user, roles.CSR, roles.MANAGER, roles.SALES):
            return self
        if roles.has_role(user, roles.TECHNICIAN):
            return self.assigned_to(user)
        return self.none()

    def completed(self):
        return self.filter(status=Job.Status.COMPLETED)

    def on_day(self, day):
        """Jobs whose scheduled window starts on the given local date."""
        return self.filter(scheduled_start__date=day)

    def with_related(self):
        return self.select_related("customer", "site", "equipment", "lead_technician")


class Job(models.Model):
    """A visit / work order, as dispatched."""

    class Kind(models.TextChoices):
        SERVICE_CALL = "service_call", "Service call"
        MAINTENANCE = "maintenance", "Maintenance"
        INSTALL = "install", "Install"
        ESTIMATE = "estimate", "Estimate"
        CALLBACK_REVISIT = "callback_revisit", "Callback revisit"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="jobs")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="jobs")
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs",
        help_text="The main equipment worked on, if any.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SERVICE_CALL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_start = models.DateTimeField()
    scheduled_end = models.DateTimeField()
    lead_technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="lead_jobs"
    )
    helpers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="helper_jobs")
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField("work-order summary", blank=True)
    invoice_number = models.CharField(max_length=40, blank=True)
    no_charge = models.BooleanField(default=False, help_text="Work done at no cost to the customer.")
    external_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Job id in the dispatch system."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_start", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-scheduled_start"], name="job_customer_start"),
            models.Index(fields=["site", "-scheduled_start"], name="job_site_start"),
            models.Index(fields=["lead_technician", "scheduled_start"], name="job_technician_start"),
            models.Index(fields=["scheduled_start"], name="job_start"),
            models.Index(fields=["status", "completed_at"], name="job_status_completed"),
            models.Index(fields=["invoice_number"], name="job_invoice_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(scheduled_end__gte=models.F("scheduled_start")), name="job_window_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="job_completed_has_completed_at",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.invoice_number or self.pk} — {self.customer}"

    def get_absolute_url(self):
        return reverse("customers:job_detail", args=[self.pk])

    @property
    def is_completed(self):
        return self.status == self.Status.COMPLETED

    @property
    def technicians(self):
        """Lead first, then helpers (uses the prefetch cache when the view prefetched helpers)."""
        people = [self.lead_technician] if self.lead_technician_id else []
        return people + [helper for helper in self.helpers.all() if helper.pk != self.lead_technician_id]
