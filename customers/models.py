from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from servicedesk import limits, roles
from servicedesk.audit import Via

from .search import contains

# The shortest text a trigram index can look up.
TRIGRAM = 3


def local_day_bounds(day):
    """[start, end) of a local calendar day as aware datetimes. Filter a timestamp on this range, not with `__date`:
    `__date` wraps the column in AT TIME ZONE, so no index serves it and a million jobs are read row by row."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Office staff and sales see every customer; a technician sees the customers on their schedule."""
        if roles.has_role(user, roles.CSR, roles.MANAGER, roles.SALES):
            return self
        if roles.has_role(user, roles.TECHNICIAN):
            return self.filter(pk__in=Job.objects.assigned_to(user).values("customer_id"))
        return self.none()

    def search(self, text):
        """Name, phone in any format, street address, e-mail or invoice number.

        Names and streets match whatever their accents and case ("nunez" finds José Núñez). Each way of matching is
        its own branch on its own index (trigram indexes for the "contains" ones, see migrations 0004 and 0008), and
        the customer ids of the branches are unioned: PostgreSQL cannot combine an OR of `IN (subquery)` conditions
        into index scans, so the OR form scanned every customer (0.4 s at 100,000).
        Text too short for a trigram ("a", "an") matches most customers and no index helps: there the OR form is
        the fast one, as the database walks the customers in list order and stops once the page is full.
        """
        from .phones import phone_digits

        text = (text or "").strip()
        if not text:
            return self
        if len(text) < TRIGRAM:
            return self.filter(
                Q(contains("name", text))
                | Q(email__iexact=text)
                | Exists(Site.objects.filter(contains("street", text), customer=OuterRef("pk")))
                | Exists(Job.objects.filter(customer=OuterRef("pk"), invoice_number__iexact=text))
            )
        customers = Customer.objects.order_by()
        branches = [
            customers.filter(contains("name", text)).values("pk"),
            customers.filter(email__iexact=text).values("pk"),
            Site.objects.order_by().filter(contains("street", text)).values("customer_id"),
            Job.objects.order_by().filter(invoice_number__iexact=text).values("customer_id"),
        ]
        digits = phone_digits(text)
        if len(digits) >= 4 and len(digits) >= len(text.replace(" ", "")) // 2:
            branches += [
                customers.filter(phone_digits__startswith=digits).values("pk"),
                customers.filter(alt_phone_digits__startswith=digits).values("pk"),
            ]
        return self.filter(pk__in=branches[0].union(*branches[1:]))


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
        max_length=limits.RECORD, blank=True,
        help_text="What every technician and CSR should know: expectations, pets, access, history.",
    )
    contact_opt_out = models.BooleanField(
        "opted out of contact", default=False, help_text="No follow-up calls, reminders or marketing."
    )
    contact_opt_out_at = models.DateTimeField(null=True, blank=True)
    # Recommendation reminders go only to customers who said yes (recorded when); the signed link in every
    # reminder turns them off again, recorded too.
    reminders_opt_in = models.BooleanField(
        "e-mail reminders about open recommendations", default=False,
        help_text="The customer agreed to e-mail reminders about the work we recommended.",
    )
    reminders_opt_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminders_unsubscribed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Kept by customers.services from the approved DoNotServiceDecision, so sweeps and booking checks filter on a
    # column rather than a join; the decision rows are the record of who, when and why.
    do_not_service = models.BooleanField(default=False, editable=False)
    do_not_service_since = models.DateTimeField(null=True, blank=True, editable=False)
    external_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Customer id in the dispatch system."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        constraints = limits.text_limits("customers_customer", notes=limits.RECORD)
        ordering = ["name", "pk"]
        indexes = [
            # Pattern opclasses so search's "starts with" (LIKE '555%') can use them under any collation but C;
            # they serve equality too. (SQLite ignores opclasses.)
            models.Index(fields=["phone_digits"], name="customer_phone_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["alt_phone_digits"], name="customer_alt_phone_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["name"], name="customer_name"),
            # Search's e-mail iexact compares UPPER(email) on PostgreSQL. Name contains: migration 0004.
            models.Index(Upper("email"), name="customer_email_upper"),
            # The API's lists: changed since, in order of change (cursor pagination).
            models.Index(fields=["updated_at", "id"], name="customer_updated"),
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
    access_notes = models.TextField(
        max_length=limits.NOTE, blank=True, help_text="Gate codes, parking, where the equipment is."
    )
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = limits.text_limits("customers_site", access_notes=limits.NOTE)
        ordering = ["street", "pk"]
        indexes = [
            # The dashboards' site type filter: the ids of one type's sites from the index alone, to join to the
            # jobs and callbacks of the range (a scan of every site otherwise, ~16 ms at 120,000 sites).
            models.Index(fields=["site_type", "id"], name="site_type"),
            models.Index(fields=["updated_at", "id"], name="site_updated"),
        ]

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
    notes = models.TextField(max_length=limits.RECORD, blank=True)
    external_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = limits.text_limits("customers_equipment", notes=limits.RECORD)
        ordering = ["kind", "pk"]
        verbose_name_plural = "equipment"
        indexes = [models.Index(fields=["updated_at", "id"], name="equipment_updated")]

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
        start, end = local_day_bounds(day)
        return self.filter(scheduled_start__gte=start, scheduled_start__lt=end)

    def after_day(self, day):
        """Jobs whose scheduled window starts after the given local date."""
        return self.filter(scheduled_start__gte=local_day_bounds(day)[1])

    def completed_on(self, day):
        start, end = local_day_bounds(day)
        return self.filter(status=Job.Status.COMPLETED, completed_at__gte=start, completed_at__lt=end)

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
    summary = models.TextField("work-order summary", max_length=limits.RECORD, blank=True)
    invoice_number = models.CharField(max_length=40, blank=True)
    no_charge = models.BooleanField(default=False, help_text="Work done at no cost to the customer.")
    external_id = models.CharField(
        max_length=64, unique=True, null=True, blank=True, help_text="Job id in the dispatch system."
    )
    completed_elsewhere = models.BooleanField(
        default=False, editable=False,
        help_text="Completed in the dispatch system (the API, an import), not on the technician's page: the open "
                  "recommendations were not discussed here.",
    )
    # What the dispatch system booked cannot be refused here, only recorded: an import of a booking for a
    # do-not-service customer keeps the job, sets this and tells the managers (customers.importing). Nullable
    # without a default so that SQLite adds the column in place: a rebuilt jobs table loses its triggers there.
    booked_in_dispatch_for_do_not_service = models.BooleanField(
        "booked in the dispatch system for a do-not-service customer", null=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_start", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-scheduled_start"], name="job_customer_start"),
            models.Index(fields=["site", "-scheduled_start"], name="job_site_start"),
            models.Index(fields=["lead_technician", "scheduled_start"], name="job_technician_start"),
            models.Index(fields=["scheduled_start"], name="job_start"),
            models.Index(fields=["status", "completed_at"], name="job_status_completed"),
            # A technician's completed jobs in a range, and their job ids from the index alone (the dashboards
            # filtered by technician).
            models.Index(fields=["lead_technician", "status", "completed_at"], include=["id"],
                         name="job_technician_completed"),
            # The callback dashboards look up each callback's job and revisit (tens of thousands a year) for
            # these columns only: from the index alone, never the table (servicedesk/dashboards/callback_pass.py).
            models.Index(fields=["id"], include=["status", "completed_at", "kind", "lead_technician", "site",
                                                 "no_charge"], name="job_figures"),
            models.Index(fields=["invoice_number"], name="job_invoice_number"),
            # Search and the job list's invoice filter are iexact: UPPER(invoice_number) on PostgreSQL.
            models.Index(Upper("invoice_number"), name="job_invoice_number_upper"),
            models.Index(fields=["updated_at", "id"], name="job_updated"),
            # The recommendations dashboard's visits completed in the dispatch system, a few among a year of
            # completed jobs: without it the count read the whole year's jobs (126 ms at a million jobs).
            models.Index(fields=["completed_at"], condition=Q(status="completed", completed_elsewhere=True),
                         name="job_completed_elsewhere"),
        ]
        constraints = [
            *limits.text_limits("customers_job", summary=limits.RECORD),
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


class JobEvent(models.Model):
    """One line of a job's trail: booked, its status changed, completed — who, when, and through which door (the
    page, the admin, the import, the API). Written by customers.services and the admin and import in the same
    transaction as the change; never edited or deleted."""

    class Action(models.TextChoices):
        BOOKED = "booked", "Booked"
        STATUS_CHANGED = "status_changed", "Status changed"
        COMPLETED = "completed", "Completed"
        CHARGE_CHANGED = "charge_changed", "Charge changed"

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    # Nobody for a nightly import from the shell or a message from the dispatch system.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PAGE)
    from_status = models.CharField(max_length=20, choices=Job.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Job.Status.choices, blank=True)
    note = models.TextField(max_length=limits.RECORD, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["job", "at"], name="job_event_job_at")]
        constraints = limits.text_limits("customers_jobevent", note=limits.RECORD)

    def __str__(self):
        return f"{self.get_action_display()} {self.from_status}→{self.to_status} {self.get_via_display()}"


class ConsentEvent(models.Model):
    """A change of what the customer lets us do: e-mail reminders turned on or off (by a CSR, or the customer's
    unsubscribe link), contact opted out of (on a follow-up call) or allowed again. Who, when, which door."""

    class Action(models.TextChoices):
        REMINDERS_OPT_IN = "reminders_opt_in", "Reminder e-mails turned on"
        REMINDERS_OPT_OUT = "reminders_opt_out", "Reminder e-mails turned off"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed from reminder e-mails"
        CONTACT_OPT_OUT = "contact_opt_out", "Opted out of contact"
        CONTACT_OPT_IN = "contact_opt_in", "Contact allowed again"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consent_events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PAGE)
    note = models.TextField(max_length=limits.RECORD, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["customer", "-at"], name="consent_event_customer_at")]
        constraints = limits.text_limits("customers_consentevent", note=limits.RECORD)

    def __str__(self):
        return f"{self.get_action_display()} {self.get_via_display()}"


class FeedbackQuerySet(models.QuerySet):
    def for_token(self, token_digest):
        return self.filter(token_digest=token_digest)


class Feedback(models.Model):
    """What a customer left on the public feedback page of a job (the link on the leave-behind).

    A complaint, a concern or a call-back request also becomes a callback, logged at the same moment on the same
    job with channel "web" (servicedesk/public/services.py); `customers` imports no other app, so the two are
    tied by that (job, channel, logged_at = created_at) and by the callback's problem text naming this feedback.
    """

    class Kind(models.TextChoices):
        PRAISE = "praise", "Praise"
        CONCERN = "concern", "Concern"
        COMPLAINT = "complaint", "Complaint"
        QUESTION = "question", "Question"

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="feedback")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="feedback")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(max_length=limits.ACCOUNT)
    wants_call_back = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Hashed with the secret key: enough to count one address's submissions, not to know who sent them.
    ip_hash = models.CharField(max_length=64, blank=True)
    # The link's signature, hashed: one printed link may be used a few times, not without limit.
    token_digest = models.CharField(max_length=64, blank=True)

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "feedback"
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="feedback_customer"),
            models.Index(fields=["job", "token_digest"], name="feedback_job_token"),
        ]
        constraints = [
            *limits.text_limits("customers_feedback", text=limits.ACCOUNT),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.job}"

    @property
    def needs_callback(self):
        """Seed 002: a concern or complaint is a problem to solve, and anyone who asks to be called is called."""
        return self.kind in (self.Kind.COMPLAINT, self.Kind.CONCERN) or self.wants_call_back


class CompanySettings(models.Model):
    """The one row of company-wide text the customer sees on the leave-behind; managers edit it.

    A row rather than a setting because managers change the wording, not the deployer.
    """

    DEFAULT_ABOUT = (
        "We are a family of licensed plumbers, heating and cooling technicians and electricians serving our "
        "neighbours. We fix it right the first time, explain what we found, and stand behind our work."
    )
    DEFAULT_EXPECTATIONS = (
        "Your technician arrives in the window we promised, or we call before it closes.\n"
        "You get the price before any work starts, and no surprises on the invoice.\n"
        "We leave your home as clean as we found it.\n"
        "We tell you about anything we saw that needs attention, how urgent it is, and what it costs — you decide.\n"
        "If something is not right after our visit, tell us: we come back and make it right.\n"
        "We ask for courtesy in return: access to the equipment, and a call if plans change."
    )

    about = models.TextField("who we are", max_length=limits.ACCOUNT, default=DEFAULT_ABOUT)
    expectations = models.TextField(
        "what you can expect", max_length=limits.ACCOUNT, default=DEFAULT_EXPECTATIONS,
        help_text="One promise per line.",
    )
    hotline = models.CharField(
        "customer-service hotline", max_length=40, blank=True,
        help_text="For concerns, praise or complaints; the company phone when empty.",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "company settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="company_settings_single_row"),
            *limits.text_limits("customers_companysettings", about=limits.ACCOUNT, expectations=limits.ACCOUNT),
        ]

    def __str__(self):
        return "Company settings"

    @classmethod
    def current(cls):
        """The saved row, or the defaults unsaved (reading a page never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def expectation_lines(self):
        return [line.strip() for line in self.expectations.splitlines() if line.strip()]

    @property
    def hotline_or_company_phone(self):
        return self.hotline or settings.COMPANY_PHONE


class DoNotServiceDecisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(state=DoNotServiceDecision.State.PROPOSED)

    def in_force(self):
        return self.filter(state=DoNotServiceDecision.State.APPROVED)


class DoNotServiceDecision(models.Model):
    """Seed 002: a customer may be let go, but only after reasonable, documented attempts, and a manager decides.

    A CSR proposes with the reasons and the attempts made; a manager approves or declines; a manager may lift an
    approved one later. Every step keeps who, when and why; rows are never deleted.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        LIFTED = "lifted", "Lifted"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="do_not_service_decisions")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROPOSED)
    reasons = models.TextField(max_length=limits.ACCOUNT)
    # The documented attempts are DoNotServiceAttempt rows; this is what proposals made before them wrote.
    attempts = models.TextField(max_length=limits.ACCOUNT, blank=True,
                                help_text="What was tried to keep the customer, and when.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=limits.NOTE, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(max_length=limits.NOTE, blank=True)

    objects = DoNotServiceDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            *limits.text_limits(
                "customers_donotservicedecision", reasons=limits.ACCOUNT, attempts=limits.ACCOUNT,
                decision_note=limits.NOTE, lift_reason=limits.NOTE,
            ),
            # One live decision per customer: a second proposal while one waits or is in force is refused.
            models.UniqueConstraint(
                fields=["customer"], condition=Q(state__in=["proposed", "approved"]),
                name="do_not_service_one_live_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(state="proposed") | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="do_not_service_decided_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(state="lifted") | (Q(lifted_at__isnull=False) & ~Q(lift_reason="")),
                name="do_not_service_lifted_has_reason",
            ),
        ]

    def __str__(self):
        return f"Do not service {self.customer}: {self.get_state_display().lower()}"


class DoNotServiceAttempt(models.Model):
    """One of the documented attempts to keep the customer a do-not-service proposal rests on (seed 002): when, by
    which channel, and what happened. A proposal needs at least two (customers.services.do_not_service_propose)."""

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "E-mail"
        IN_PERSON = "in_person", "In person"
        LETTER = "letter", "Letter"

    decision = models.ForeignKey(DoNotServiceDecision, on_delete=models.PROTECT, related_name="documented_attempts")
    attempted_on = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    what_happened = models.TextField(max_length=limits.NOTE)

    class Meta:
        ordering = ["attempted_on", "pk"]
        constraints = limits.text_limits("customers_donotserviceattempt", what_happened=limits.NOTE)

    def __str__(self):
        return f"{self.attempted_on:%b %-d, %Y}, {self.get_channel_display().lower()}: {self.what_happened}"


class BookedJobDecision(models.Model):
    """A job already booked when the customer was marked do-not-service, decided one by one: kept (the work goes
    ahead) or cancelled, and why. One per job under each do-not-service decision; rows are never deleted."""

    class Outcome(models.TextChoices):
        KEEP = "keep", "Kept"
        CANCEL = "cancel", "Cancelled"

    decision = models.ForeignKey(DoNotServiceDecision, on_delete=models.PROTECT, related_name="booked_jobs")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="do_not_service_outcomes")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(max_length=limits.NOTE)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "job"], name="booked_job_decided_once"),
            models.CheckConstraint(condition=~Q(reason=""), name="booked_job_decision_has_reason"),
            *limits.text_limits("customers_bookedjobdecision", reason=limits.NOTE),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.job}"


class AbusiveCall(models.Model):
    """Seed 002: "another curse word and I'll have no option but to terminate the conversation" — a call the CSR
    ended for abuse after that warning. It counts among the documented attempts of a do-not-service proposal."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="abusive_calls")
    ended_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    warned = models.BooleanField(help_text="The customer was warned before the call was ended.")
    what_happened = models.TextField(max_length=limits.NOTE)

    class Meta:
        ordering = ["-ended_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-ended_at"], name="abusive_call_customer")]
        constraints = [
            *limits.text_limits("customers_abusivecall", what_happened=limits.NOTE),
            # Ending a call without the warning first is not the documented attempt the seed asks for.
            models.CheckConstraint(condition=Q(warned=True), name="abusive_call_after_warning"),
        ]

    def __str__(self):
        return f"Call ended for abuse, {self.customer}, {self.ended_at:%Y-%m-%d}"


# --- review requests (issue 18) -----------------------------------------------------------------------------------


class ReviewRequestSettings(models.Model):
    """The one row of how the company asks for online reviews; managers edit it (customers/reviews.py sends).

    The rule never looks at a rating or a complaint: asking only the satisfied is "review gating", which Google's
    policy forbids and the FTC's 2024 rule on review suppression targets. Everyone is asked, after every completed
    visit, unless consent, the cooldown or a manager's pause says no.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"  # texts join once texting exists

    review_url = models.URLField(
        "review link", blank=True, help_text="Where customers leave a review (Google, Yelp...). No link, no request."
    )
    days_after = models.PositiveSmallIntegerField(
        "days after the visit", default=1, help_text="A day lets the work prove itself before the customer is asked."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    cooldown_days = models.PositiveSmallIntegerField(
        "cooldown (days)", default=180, help_text="A customer asked within this many days is not asked again."
    )
    paused = models.BooleanField(
        "paused", default=False, help_text="While paused, each visit's request is skipped, with the reason recorded."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "review request settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="review_request_settings_single_row"),
            models.CheckConstraint(condition=Q(days_after__lte=60), name="review_request_days_after_at_most_60"),
        ]

    def __str__(self):
        return "Review request settings"

    @classmethod
    def current(cls):
        """The saved row, or the defaults unsaved (reading a page never writes)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class ReviewRequest(models.Model):
    """A completed visit's review request: asked (who, when, through which channel, the visit's technician) or
    skipped, with why. One per job: the unique job is what makes the sweep safe to run twice."""

    class Skipped(models.TextChoices):
        OPTED_OUT = "opted_out", "the customer opted out of contact"
        DO_NOT_SERVICE = "do_not_service", "the customer is marked do-not-service"
        NO_ADDRESS = "no_address", "no e-mail address on record"
        PAUSED = "paused", "review requests were paused by a manager"
        COOLDOWN = "cooldown", "already asked within the cooldown"

    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="review_request")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="review_requests")
    technician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The visit's lead technician.",
    )
    channel = models.CharField(max_length=10, choices=ReviewRequestSettings.Channel.choices)
    address = models.CharField("sent to", max_length=254, blank=True, db_default="")
    skipped = models.CharField(max_length=20, choices=Skipped.choices, blank=True, db_default="")
    created_at = models.DateTimeField("decided at", default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The cooldown: when was this customer last asked.
            models.Index(fields=["customer", "-created_at"], name="review_request_asked",
                         condition=Q(skipped="")),
            # The sweep's sending step: asked, not e-mailed yet.
            models.Index(fields=["created_at"], name="review_request_unsent",
                         condition=Q(skipped="", emailed_at__isnull=True)),
        ]

    def __str__(self):
        return f"Review request for job #{self.job_id}: {'asked' if self.was_asked else 'skipped'}"

    @property
    def was_asked(self):
        return not self.skipped


# The flat jobs report's mappings and imports live in their own module (customers/reports/).
from .reports.models import ReportImport, ReportMapping  # noqa: E402, F401
