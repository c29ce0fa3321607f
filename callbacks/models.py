"""Callbacks: a customer coming back because work already done did not fix the problem, or caused a new one.

The state machine and its rules live in services.py; this module holds the records and the derived,
single-object state (the SLA clock, the recovery checklist's status).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from customers.models import Job
from servicedesk import limits, roles


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"


class UrgencyTarget(models.Model):
    """How soon the customer must hear from us, and how soon the revisit must happen, per urgency."""

    urgency = models.CharField(max_length=20, choices=Urgency.choices, unique=True)
    first_contact_within = models.DurationField(help_text="From logging to the first contact with the customer.")
    revisit_within = models.DurationField(help_text="From logging to the revisit.")
    business_hours = models.BooleanField(
        default=False, help_text="Counted in opening hours (less holidays and closures), not around the clock.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["first_contact_within"]

    def __str__(self):
        return f"{self.get_urgency_display()}: {self.first_contact_within} / {self.revisit_within}"


class CallbackQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(state=Callback.State.CLOSED)

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def repeats(self):
        return self.filter(is_repeat=True)

    def in_triage(self):
        """Open callbacks nobody owns: logged from the feedback page into the office's triage queue, or left by
        someone no longer here. Every CSR (or the triage owner) is reminded of them until one takes it."""
        return self.open().filter(Q(assigned_to=None) | Q(assigned_to__is_active=False))

    def counted(self):
        """Callbacks that count against the work: an unrelated new problem is not a callback, and a potential one
        is not counted until it is classified after diagnosis (callbacks/recalls)."""
        return self.filter(COUNTED)

    def potential(self):
        """Logged as potential callbacks and not classified yet."""
        return self.filter(classification=Classification.POTENTIAL)

    def visible_to(self, user):
        """Office staff see every callback; a technician those on jobs they worked or will work."""
        if roles.is_office(user):
            return self
        if roles.has_role(user, roles.TECHNICIAN):
            return self.for_technician(user)
        return self.none()

    def for_technician(self, user):
        """Callbacks on jobs the technician led or helped on, or whose revisit is theirs.

        Tested on each callback's own two jobs: `job__in=Job.objects.assigned_to(user)` read all of the
        technician's jobs, a scan of the million, on every load (over a second).
        """
        helped = Job.helpers.through.objects.filter(user=user).values("job_id")
        return self.filter(
            Q(job__lead_technician=user) | Q(job__in=helped)
            | Q(revisit_job__lead_technician=user) | Q(revisit_job__in=helped)
        )

    def overdue_first(self):
        return self.order_by(models.F("due_at").asc(nulls_last=True), "-logged_at", "-pk")

    def with_related(self):
        return self.select_related(
            "customer", "site", "equipment", "job", "job__lead_technician", "revisit_job",
            "revisit_job__lead_technician", "assigned_to",
        )

    def for_rows(self):
        """What a row of callbacks/_callback_rows.html shows of the callback, its customer and site; its jobs
        and people come from `with_jobs_and_people()`.

        Every table joined to the sorted, limited page multiplies PostgreSQL's search for a join order (callbacks
        and jobs carry many indexes): with all of `with_related()` the list planned for ~25 ms a page it read in
        2 ms. Two lookups by primary key plan in microseconds.
        """
        return self.select_related("customer", "site").only(
            "problem", "urgency", "state", "is_repeat", "first_contact_due_at", "revisit_due_at", "revisit_done_at",
            "next_update_due_at", "due_at", "job", "revisit_job", "assigned_to", "customer__name", "site__street",
            "paused_since",
        )

    def earlier_for(self, job, *, since):
        """Earlier callbacks a new one on `job` repeats: on the same job ever, or on the same equipment
        (or site, when the job names no equipment) since `since`. Newest first."""
        same_place = Q(equipment=job.equipment_id) if job.equipment_id else Q(site=job.site_id)
        # A potential callback may still turn out to be one: it is repeated as much as a confirmed one.
        return (
            self.exclude(root_cause=Callback.RootCause.UNRELATED).exclude(classification=Classification.NEW_PROBLEM)
            .filter(Q(job=job.pk) | (same_place & Q(logged_at__gte=since)))
            .select_related("job")
            .order_by("-logged_at", "-pk")
        )


def with_jobs_and_people(callbacks):
    """The callbacks of a `for_rows()` page, with their job, revisit job, the jobs' lead technicians and their
    owner, in two queries whatever the page's size."""
    callbacks = list(callbacks)
    job_ids = {callback.job_id for callback in callbacks} | {callback.revisit_job_id for callback in callbacks}
    jobs = Job.objects.only("lead_technician", "scheduled_start").in_bulk(job_ids - {None})
    people_ids = {callback.assigned_to_id for callback in callbacks} | {job.lead_technician_id for job in jobs.values()}
    people = get_user_model()._default_manager.only("username", "first_name", "last_name").in_bulk(people_ids - {None})
    for job in jobs.values():
        job.lead_technician = people.get(job.lead_technician_id)
    for callback in callbacks:
        callback.job = jobs[callback.job_id]
        callback.revisit_job = jobs.get(callback.revisit_job_id)
        callback.assigned_to = people.get(callback.assigned_to_id)
    return callbacks


# Once the revisit job is completed, its outcome (resolved, with the root cause) is recorded within a day.
RESOLUTION_AFTER_REVISIT = timedelta(days=1)


@dataclass(frozen=True)
class Clock:
    """The SLA clock the callback page and lists show."""

    label: str
    due_at: datetime
    now: datetime

    @property
    def overdue(self):
        return self.due_at < self.now

    @property
    def remaining(self):
        return self.due_at - self.now


class Classification(models.TextChoices):
    """Whether a callback is one. Logged as confirmed, or as potential until diagnosed on site; a potential one is
    then classified by the technician or the office, and reclassified later only by a manager (callbacks/recalls)."""

    CONFIRMED = "confirmed", "Confirmed callback"
    POTENTIAL = "potential", "Potential — to be confirmed on site"
    OUR_WORK = "our_work", "Our work (a callback)"
    WARRANTY_PART = "warranty_part", "Manufacturer's part under warranty"
    NEW_PROBLEM = "new_problem", "New / unrelated problem (not a callback)"


# The callbacks that count against the work: not an unrelated new problem, whether found at resolution (the root
# cause) or on diagnosis (the classification), and not a potential one still to be classified. Literal values, as
# the index condition below needs them before the class exists.
COUNTED = ~Q(root_cause="unrelated") & ~Q(classification__in=["potential", "new_problem"])

# A callback whose dashboard figures can still change with time alone, without anyone writing it: counted (not an
# unrelated new problem) and either not contacted yet or not resolved yet ("still waiting, past target" and
# "unresolved, past target" turn on as the clock passes). Every other callback is settled: its figures change only
# when it is written (servicedesk/dashboards/callback_rollup.py). A potential callback is unsettled until classified:
# its job is always counted live, so the rollup never holds one. Literal values, as the index condition below
# needs them before the class exists.
UNSETTLED = ~Q(root_cause="unrelated") & ~Q(classification="new_problem") & (
    Q(classification="potential") | Q(acknowledged_at__isnull=True) | ~Q(state__in=["resolved", "closed"])
)


class Callback(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "E-mail"
        WEB = "web", "Web"
        WALK_IN = "walk_in", "Walk-in"

    class State(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        REVISIT_SCHEDULED = "revisit_scheduled", "Revisit scheduled"
        REVISIT_DONE = "revisit_done", "Revisit done, awaiting resolution"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class RootCause(models.TextChoices):
        WORKMANSHIP = "workmanship", "Workmanship"
        MISDIAGNOSIS = "misdiagnosis", "Misdiagnosis"
        INSTALLATION = "installation", "Installation"
        FAULTY_PART = "faulty_part", "Faulty part"
        COMMUNICATION = "communication", "Customer communication / expectations"
        CUSTOMER_CAUSED = "customer_caused", "Customer-caused"
        UNRELATED = "unrelated", "Unrelated new problem (not a callback)"
        PRE_EXISTING = "pre_existing", "Pre-existing condition"

    # Causes that are the technician's to learn from: each creates a training item.
    TRAINING_CAUSES = (RootCause.WORKMANSHIP, RootCause.MISDIAGNOSIS, RootCause.INSTALLATION)

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="callbacks", help_text="The original job.")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="callbacks")
    site = models.ForeignKey("customers.Site", on_delete=models.PROTECT, related_name="callbacks")
    equipment = models.ForeignKey(
        "customers.Equipment", on_delete=models.PROTECT, null=True, blank=True, related_name="callbacks"
    )
    problem = models.TextField(max_length=limits.ACCOUNT, help_text="In the customer's own words.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PHONE)
    urgency = models.CharField(max_length=20, choices=Urgency.choices, default=Urgency.NORMAL)
    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    is_repeat = models.BooleanField(default=False)
    repeat_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="repeats")
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    logged_at = models.DateTimeField(default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_callbacks",
        help_text="The CSR who owns the callback until it is closed.",
    )
    revisit_job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="revisit_for_callbacks"
    )
    # Targets fixed at logging time, so a manager changing the targets later does not move promises made.
    first_contact_due_at = models.DateTimeField()
    revisit_due_at = models.DateTimeField()
    revisit_done_at = models.DateTimeField(
        null=True, blank=True, help_text="When the revisit job was completed, whoever completed it and however."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    next_update_due_at = models.DateTimeField(
        null=True, blank=True, help_text="The customer was promised an update (or the closure call) by then."
    )
    # The nearest of the state's target and the promised update; kept by the services so lists can sort
    # overdue first on an index.
    due_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # On hold (callbacks/recalls/models.CallbackPause) since then: the clock stops, nothing is due or overdue.
    paused_since = models.DateTimeField(null=True, blank=True, editable=False)
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.CONFIRMED,
        db_default=Classification.CONFIRMED,
    )
    classified_at = models.DateTimeField(null=True, blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    resolution = models.TextField(max_length=limits.ACCOUNT, blank=True, help_text="What was found and done.")
    faulty_part = models.CharField(max_length=200, blank=True)
    part_supplier = models.CharField(max_length=200, blank=True)
    rma_reference = models.CharField("return / RMA reference", max_length=100, blank=True)
    # The sums of the callback's RevisitCost rows (every revisit's, a reopened callback's too), kept by
    # callback_resolve, so that the dashboards read the cost from this table alone.
    labour_hours = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    parts_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_by_customer = models.BooleanField(default=False)
    customer_confirmation = models.TextField(
        max_length=limits.NOTE, blank=True, help_text="What the customer said when confirming the fix."
    )
    # The recovery steps recorded, as a bit mask (bit n: the n-th RecoveryStep.Step), so the dashboards read the
    # checklist of ~20,000 callbacks a year without a look-up per callback. Kept by database triggers on the
    # recovery steps (servicedesk/triggers.py), whoever writes them; a new step needs its bit added there.
    steps_done = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    # The job's and the revisit job's facts the dashboards group and filter by, copied here so that reading a
    # year of callbacks (~19,000 at a million jobs) reads this table alone, not the jobs by one index look-up per
    # callback (most of the callback dashboard's time). Kept by database triggers on both tables, whoever writes
    # them (servicedesk/triggers.py): filled when a callback's job or revisit job is set, refreshed when those jobs
    # change.
    # NULL where the job has no such value, and the revisit's facts are NULL while there is no revisit. All
    # nullable without a default so that SQLite adds them in place: rebuilding this table there breaks on the
    # steps_done triggers that name it.
    job_completed_at = models.DateTimeField(null=True, editable=False)
    job_kind = models.CharField(max_length=20, null=True, editable=False)
    job_status = models.CharField(max_length=20, null=True, editable=False)
    # User ids, not foreign keys: copies of the jobs' own (constrained) references, never followed.
    job_lead_id = models.IntegerField(null=True, editable=False)
    revisit_lead_id = models.IntegerField(null=True, editable=False)
    revisit_no_charge = models.BooleanField(null=True, editable=False)
    # The no-charge revisits before the current one (a reopened callback's), which the cost panel adds to
    # revisit_no_charge so that every no-charge visit counts. Kept by callback_reopen; NULL is none. Written only
    # with the state, so the rollup's triggers, which watch the state, see it change.
    earlier_no_charge_revisits = models.PositiveSmallIntegerField(null=True, editable=False)

    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`; a
    # database default too, for rows inserted in SQL.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    objects = CallbackQuerySet.as_manager()

    class Meta:
        ordering = ["-logged_at", "-pk"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="callback_updated"),
            models.Index(fields=["due_at"], name="callback_open_due", condition=~Q(state="closed")),
            # The list filtered by urgency (and overdue): read in due order and stop at the page, rather than
            # joining every open callback of any urgency before sorting.
            models.Index(
                fields=["urgency", "due_at"], name="callback_open_urgency_due", condition=~Q(state="closed")
            ),
            models.Index(fields=["equipment", "-logged_at"], name="callback_equipment_logged"),
            models.Index(fields=["site", "-logged_at"], name="callback_site_logged"),
            models.Index(fields=["assigned_to", "state"], name="callback_owner_state"),
            models.Index(fields=["-logged_at"], name="callback_logged"),
            # The list in its own order (overdue first, then newest) for the views that include closed callbacks
            # ("all", "closed"): without it, a sort of every callback on every page (~180 ms).
            models.Index(fields=["due_at", "-logged_at", "-id"], name="callback_list_order"),
            # The callback dashboard's rollup (servicedesk/dashboards/callback_rollup.py): a week's callbacks by
            # their job's completion, and the few unsettled ones whose jobs are always counted live.
            models.Index(fields=["job_completed_at"], name="callback_job_completed"),
            models.Index(fields=["job_completed_at", "job"], name="callback_unsettled", condition=UNSETTLED),
        ]
        constraints = [
            *limits.text_limits(
                "callbacks_callback", problem=limits.ACCOUNT, resolution=limits.ACCOUNT,
                customer_confirmation=limits.NOTE,
            ),
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False), name="callback_closed_has_closed_at"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["resolved", "closed"]) | ~Q(root_cause=""),
                name="callback_resolved_has_root_cause",
            ),
        ]

    def __str__(self):
        return f"Callback #{self.pk} — {self.customer}"

    def get_absolute_url(self):
        return reverse("callbacks:detail", args=[self.pk])

    @property
    def is_open(self):
        return self.state != self.State.CLOSED

    @property
    def counts_as_callback(self):
        return self.root_cause != self.RootCause.UNRELATED and self.classification not in (
            Classification.POTENTIAL, Classification.NEW_PROBLEM)

    @property
    def is_potential(self):
        return self.classification == Classification.POTENTIAL

    def state_target(self):
        """(label, due) of what the current state waits for, or None once closed."""
        if self.state == self.State.NEW:
            return "First contact", self.first_contact_due_at
        if self.state in (self.State.ACKNOWLEDGED, self.State.REVISIT_SCHEDULED):
            return "Revisit", self.revisit_due_at
        if self.state == self.State.REVISIT_DONE:
            # The revisit clock stops when the visit is done; what is left is the owner recording the outcome.
            return "Resolution", self.revisit_done_at + RESOLUTION_AFTER_REVISIT
        if self.state == self.State.RESOLVED and self.next_update_due_at:
            return "Closure call", self.next_update_due_at
        return None

    def compute_due_at(self):
        clock = self.clock(now=timezone.now())
        return clock.due_at if clock else None

    def clock(self, now=None):
        """The nearest promise still open: the state's target, or an update promised to the customer sooner."""
        now = now or timezone.now()
        target = self.state_target()
        if target is None or (self.paused_since is not None and self.state in PAUSABLE_STATES):
            return None
        label, due = target
        if self.state != self.State.RESOLVED and self.next_update_due_at and self.next_update_due_at < due:
            label, due = "Customer update", self.next_update_due_at
        return Clock(label=label, due_at=due, now=now)

    def is_overdue(self, now=None):
        clock = self.clock(now)
        return bool(clock and clock.overdue)


class CallbackEvent(models.Model):
    """Every state change and action on a callback, who and when. Nothing is deleted; this is the timeline."""

    class Action(models.TextChoices):
        LOGGED = "logged", "Logged"
        ESCALATED = "escalated", "Escalated to managers"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        REVISIT_SCHEDULED = "revisit_scheduled", "Revisit scheduled"
        REVISIT_DONE = "revisit_done", "Revisit done"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed — customer confirmed"
        REOPENED = "reopened", "Reopened"
        HANDED_OFF = "handed_off", "Handed off"
        CONTACT = "contact", "Customer contact"
        STEP = "step", "Recovery step"
        TRAINING = "training", "Training item"
        TAKEN = "taken", "Taken from the triage queue"
        CLASSIFIED = "classified", "Classified"
        CLAIM = "claim", "Warranty claim"
        PAUSED = "paused", "Put on hold"
        RESUMED = "resumed", "Taken off hold"
        RECLASSIFIED = "reclassified", "Reclassified by a manager"

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    from_state = models.CharField(max_length=20, choices=Callback.State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=Callback.State.choices, blank=True)
    note = models.TextField(max_length=limits.RECORD, blank=True)  # a composed line may quote an account
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = limits.text_limits("callbacks_callbackevent", note=limits.RECORD)
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["callback", "at"], name="callback_event_callback_at")]

    def __str__(self):
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class Triage(models.Model):
    """The office's triage queue of callbacks nobody owns yet: one row, whose owner the managers set. With no owner
    (or one who has left), every CSR is reminded of them."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Reminded of callbacks nobody owns; nobody chosen means every CSR.",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"Triage owner: {self.owner or 'every CSR'}"

    @classmethod
    def current(cls):
        return cls.objects.select_related("owner").filter(pk=1).first() or cls(pk=1)


class RecoveryStep(models.Model):
    """One checked step of the service-recovery checklist (seeds 000 and 003). A missing row is a step not done."""

    class Step(models.TextChoices):
        APOLOGISED = "apologised", "Apologised for the problem"
        # Not "acknowledged": that is the callback's state once the first contact is made (Callback.State).
        LISTENED = "listened", "Listened to the problem in the customer's words (let them vent)"
        APOLOGISED_AGAIN = "apologised_again", "Apologised again"
        FIX_EXPLAINED = "fix_explained", "Fix explained to the customer"
        URGENCY_SET = "urgency_set", "Urgency target set with the customer"
        SOLUTION_REVIEWED = "solution_reviewed", "Solution reviewed with the customer on site"
        ANYTHING_ELSE = "anything_else", "“Is there anything else we can do for you?” asked"
        OTHER_WORK = "other_work", "Other work opportunities asked"

    # By which state each step should have been done; a step still unchecked past it shows as skipped.
    DUE_BY = {
        Step.APOLOGISED: Callback.State.ACKNOWLEDGED,
        Step.LISTENED: Callback.State.ACKNOWLEDGED,
        Step.APOLOGISED_AGAIN: Callback.State.ACKNOWLEDGED,
        Step.FIX_EXPLAINED: Callback.State.REVISIT_SCHEDULED,
        Step.URGENCY_SET: Callback.State.REVISIT_SCHEDULED,
        Step.SOLUTION_REVIEWED: Callback.State.RESOLVED,
        Step.ANYTHING_ELSE: Callback.State.RESOLVED,
        Step.OTHER_WORK: Callback.State.CLOSED,
    }

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="recovery_steps")
    step = models.CharField(max_length=20, choices=Step.choices)
    done_at = models.DateTimeField(default=timezone.now)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    # Only for "other work": did the customer want other work?
    answer_yes = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["done_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["callback", "step"], name="recovery_step_once")]

    def __str__(self):
        return self.get_step_display()


# The states a callback may be put on hold in (callbacks/pauses.py): waiting for its first contact or its revisit.
PAUSABLE_STATES = ("new", "acknowledged", "revisit_scheduled")

STATE_ORDER = [
    Callback.State.NEW,
    Callback.State.ACKNOWLEDGED,
    Callback.State.REVISIT_SCHEDULED,
    Callback.State.REVISIT_DONE,
    Callback.State.RESOLVED,
    Callback.State.CLOSED,
]


def checklist(callback, steps):
    """[(step value, label, status, row)] with status "done", "skipped" (its moment has passed) or "to do"."""
    done = {row.step: row for row in steps}
    reached = STATE_ORDER.index(callback.state)
    rows = []
    for value, label in RecoveryStep.Step.choices:
        row = done.get(value)
        if row is not None:
            status = "done"
        elif STATE_ORDER.index(RecoveryStep.DUE_BY[value]) <= reached:
            status = "skipped"
        else:
            status = "to do"
        rows.append((value, label, status, row))
    return rows


class HandOff(models.Model):
    """A callback passed from one person to another; warm means a three-way conversation with the customer."""

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="hand_offs")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    warm = models.BooleanField(help_text="Three-way: the customer heard the problem explained to the new owner.")
    note = models.TextField(max_length=limits.NOTE, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = limits.text_limits("callbacks_handoff", note=limits.NOTE)
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{'Warm' if self.warm else 'Cold'} hand-off at {self.at:%Y-%m-%d %H:%M}"


class CustomerContact(models.Model):
    """Staying in touch: each contact with the customer and when the next update was promised."""

    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "E-mail"
        VISIT = "visit", "Visit"
        NOTE = "note", "Note"

    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CALL)
    summary = models.TextField(max_length=limits.NOTE)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    next_update_due_at = models.DateTimeField("next update promised by", null=True, blank=True)

    class Meta:
        constraints = limits.text_limits("callbacks_customercontact", summary=limits.NOTE)
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class TrainingItem(models.Model):
    """What a technician learns from a callback they caused (seed 000: "training will take place")."""

    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_items")
    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="training_items")
    root_cause = models.CharField(max_length=20, choices=Callback.RootCause.choices)
    what_happened = models.TextField(max_length=limits.ACCOUNT)
    lesson = models.TextField("what is learned", max_length=limits.NOTE, blank=True)
    due_on = models.DateField("done by")
    done_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # A callback reopened and resolved again with the same cause is the same lesson, not a second one.
            models.UniqueConstraint(fields=["callback", "root_cause"], name="training_item_once_per_callback_cause"),
            *limits.text_limits("callbacks_trainingitem", what_happened=limits.ACCOUNT, lesson=limits.NOTE),
        ]

    def __str__(self):
        return f"Training for {self.technician} on callback #{self.callback_id}"


class RevisitCost(models.Model):
    """The labour and parts of one go at fixing a callback: its revisit job, or a fix without a revisit (talked
    through on the phone). Each resolution records its own, so a reopened callback's second revisit adds to the
    first instead of overwriting it; the callback's cost (Callback.labour_hours, parts_cost) is their sum."""

    callback = models.ForeignKey(Callback, on_delete=models.PROTECT, related_name="revisit_costs")
    revisit_job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    labour_hours = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    parts_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["recorded_at", "pk"]
        # One row per revisit job (fixes without a revisit have none, and NULLs are distinct).
        constraints = [
            models.UniqueConstraint(fields=["callback", "revisit_job"], name="revisit_cost_once_per_revisit")
        ]

    def __str__(self):
        return f"Cost of a revisit on callback #{self.callback_id}"


class RecallWindow(models.Model):
    """How long after a job of this kind is completed a new problem on it is presumed a callback; outside it (or
    with no window at all, as for an estimate) the log form proposes "potential" and says why (callbacks/windows.py).
    A missing row is the default (DEFAULT_RECALL_DAYS)."""

    kind = models.CharField(max_length=20, choices=Job.Kind.choices, unique=True)
    days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no window, never presumed.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["kind"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.days if self.days is not None else 'no'} days"


DEFAULT_RECALL_DAYS = {
    Job.Kind.SERVICE_CALL: 30,
    Job.Kind.MAINTENANCE: 30,
    Job.Kind.INSTALL: 365,
    Job.Kind.ESTIMATE: None,
}


# Which targets run in business hours when no row says (callbacks/business_clock.py; migration 0026 sets the rows
# the same): an emergency around the clock, high and normal in the company's opening hours.
DEFAULT_BUSINESS_HOURS = {Urgency.EMERGENCY: False, Urgency.HIGH: True, Urgency.NORMAL: True}

DEFAULT_TARGETS = {
    Urgency.EMERGENCY: (timedelta(hours=1), timedelta(hours=4)),
    Urgency.HIGH: (timedelta(hours=4), timedelta(hours=24)),
    Urgency.NORMAL: (timedelta(hours=24), timedelta(hours=72)),
}


# Follow-up calls live in their own room (callbacks/follow_ups); imported here so the app registry sees them.
from .follow_ups.models import (  # noqa: E402, F401
    DEFAULT_FOLLOW_UP_DAYS,
    CallAttempt,
    FollowUpCall,
    FollowUpCallEvent,
    FollowUpCallQuerySet,
    FollowUpRule,
    Referral,
)

# Warranty part claims live in their own room (callbacks/recalls); imported here so the app registry sees them.
from .recalls.models import (  # noqa: E402, F401
    CallbackPause,
    ClaimQuerySet,
    Closure,
    OpeningHours,
    WarrantyClaim,
)
