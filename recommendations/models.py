"""A technician's recommendation at a site, every time it was raised with the customer, and its lifecycle.

Seeds 001 and 004: a warning the customer signed is still forgotten unless it is raised again on every visit
and followed up by its owner. So an open recommendation always has an owner and a next follow-up date, every
state change is an event, and a job cannot be completed until each open recommendation at the site was discussed.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Equipment, Job, Site
from servicedesk import limits, roles

# How long outstanding recommendations have waited: (name, raised less than this many days before today).
AGE_BUCKETS = [("under_30_days", 30), ("30_to_90_days", 90), ("90_to_180_days", 180), ("over_180_days", None)]
PHOTO_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "heic"]
# The first bytes of each accepted format: the extension alone says nothing about what was uploaded.
_IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
PHOTO_MAX_BYTES = 15 * 1024 * 1024


def validate_photo(upload):
    """Pillow is not a dependency, so check the file's signature by hand."""
    if upload.size > PHOTO_MAX_BYTES:
        raise ValidationError("The photo is larger than 15 MB.")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    is_heic = head[4:8] == b"ftyp"
    if not (head.startswith(_IMAGE_SIGNATURES) or is_webp or is_heic):
        raise ValidationError("The file is not a photo (JPEG, PNG, GIF, WebP or HEIC).")


class Risk(models.TextChoices):
    FAILURE_LIKELY = "failure_likely", "Failure likely soon"
    SHOULD_BE_DONE = "should_be_done", "Should be done"
    ADVISORY = "advisory", "Advisory"


RISK_ORDER = {Risk.FAILURE_LIKELY: 0, Risk.SHOULD_BE_DONE: 1, Risk.ADVISORY: 2}


class FollowUpInterval(models.Model):
    """How many days after raising (or after the last answer) the owner follows a recommendation up, per risk."""

    risk = models.CharField(max_length=20, choices=Risk.choices, unique=True)
    days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["risk"]

    def __str__(self):
        return f"{self.get_risk_display()}: {self.days} days"

    # Used when a row was removed by hand; the data migration creates all three.
    DEFAULT_DAYS = {Risk.FAILURE_LIKELY: 7, Risk.SHOULD_BE_DONE: 30, Risk.ADVISORY: 90}

    @classmethod
    def days_for(cls, risk):
        days = cls.objects.filter(risk=risk).values_list("days", flat=True).first()
        return days or cls.DEFAULT_DAYS[risk]


def _raising_job():
    # NULL would make "<> raised_on_job" unknown and drop every row; no job has id 0.
    return Coalesce(OuterRef("raised_on_job"), Value(0))


def mentioned_on_a_later_visit():
    """Discussions that raised the recommendation (OuterRef) with the customer on a visit after the one that raised
    it: an excuse ("not discussed") is not a mention (seed 001)."""
    return Discussion.objects.filter(recommendation=OuterRef("pk"), job__isnull=False).exclude(
        Q(response=Discussion.Response.NOT_DISCUSSED) | Q(job=_raising_job())
    )


def not_yet_reminded(stamp):
    """Recommendations whose follow-up date is not the one stamped in `stamp` (a sweep's "reminded of this date").
    With the outstanding states it is the predicate of a partial index per stamp, so a sweep with nothing left to
    remind reads an almost empty index instead of every overdue row; PostgreSQL matches a predicate only when the
    query says the same, so filter `.open().filter(not_yet_reminded(...))`, not a hand-written equivalent."""
    return ~Q(**{stamp: F("next_follow_up_on")})


class RecommendationQuerySet(models.QuerySet):
    def open(self):
        """Still outstanding: open, or deferred by the customer (the equipment can still fail meanwhile)."""
        return self.filter(state__in=Recommendation.OUTSTANDING_STATES)

    def for_site(self, site):
        return self.filter(site=site)

    def owed_by(self, user):
        """What the user owes a follow-up on, soonest (so overdue) first."""
        return self.open().filter(owner=user).order_by(F("next_follow_up_on").asc(nulls_last=True), "pk")

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.open().filter(next_follow_up_on__lt=today)

    def failed_while_open(self):
        return self.filter(state=Recommendation.State.FAILED_WHILE_OPEN)

    def visible_to(self, user):
        """Office staff see all; a technician, those at the sites on their schedule; sales, what they own or raised."""
        if roles.has_role(user, roles.CSR, roles.MANAGER):
            return self
        condition = Q(owner=user) | Q(raised_by=user)
        if roles.has_role(user, roles.TECHNICIAN):
            return self.filter(condition | Q(site__in=Job.objects.assigned_to(user).values("site_id")))
        if roles.has_role(user, roles.SALES):
            return self.filter(condition)
        return self.none()

    def with_related(self):
        return self.select_related("customer", "site", "equipment", "owner", "raised_by")

    def with_visits_since_raised(self, *, since=None, before=None):
        """Completed visits at the site after the recommendation was raised, not counting the visit that raised it
        (only those completed in [since, before) when given: the sweep counts up to its start, the dashboard on)."""
        window = {}
        if since is not None:
            window["completed_at__gte"] = since
        if before is not None:
            window["completed_at__lt"] = before
        later_visits = (
            Job.objects.filter(
                site=OuterRef("site"), status=Job.Status.COMPLETED, completed_at__gt=OuterRef("created_at"), **window
            )
            .exclude(pk=_raising_job())
            .order_by()
            .values("site")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(visits_since_raised=Coalesce(Subquery(later_visits), 0))

    def with_visits_until_failure(self):
        """For recommendations that failed while open: `visits_since_raised`, the completed visits at the site from
        the one after it was raised to its failure, and `visits_discussed`, how many of them raised it with the
        customer (an excuse, "not discussed", is not a mention). Two subqueries, whatever the number of rows."""
        visits = (
            Job.objects.filter(site=OuterRef("site"), status=Job.Status.COMPLETED,
                               completed_at__gt=OuterRef("created_at"), completed_at__lte=OuterRef("state_changed_at"))
            .exclude(pk=_raising_job())
        )
        discussed = visits.filter(Exists(
            Discussion.objects.filter(recommendation=OuterRef(OuterRef("pk")), job=OuterRef("pk"))
            .exclude(response=Discussion.Response.NOT_DISCUSSED)
        ))

        def count(jobs):
            return Coalesce(Subquery(jobs.order_by().values("site").annotate(n=Count("pk")).values("n")), 0)

        return self.annotate(visits_since_raised=count(visits), visits_discussed=count(discussed))

    def with_last_discussion(self):
        """When and how it was last raised with the customer, and the customer's last real answer."""
        last = Discussion.objects.filter(recommendation=OuterRef("pk")).order_by("-discussed_at", "-pk")
        answered = last.exclude(response=Discussion.Response.NOT_DISCUSSED)
        return self.annotate(
            last_discussed_at=Subquery(last.values("discussed_at")[:1]),
            last_discussion_response=Subquery(last.values("response")[:1]),
            last_discussion_note=Subquery(last.values("note")[:1]),
            last_answer=Subquery(answered.values("response")[:1]),
            last_answer_at=Subquery(answered.values("discussed_at")[:1]),
        )

    def never_discussed_since_raised(self):
        """Open, with later visits at the site, and not once raised with the customer on any of them (seed 001).
        The live definition, one subquery per row; the dashboard reads the same figures from the kept state
        (never_discussed_by_owner), and the tests hold the two equal."""
        return (
            self.open()
            .with_visits_since_raised()
            .filter(visits_since_raised__gt=0)
            .exclude(Exists(mentioned_on_a_later_visit()))
        )

    def not_yet_discussed_later(self):
        """Outstanding and never raised with the customer on a visit after the one that raised it (kept state)."""
        return self.open().filter(discussed_on_later_visit=False)

    def never_discussed_by_owner(self, *, counted_to):
        """never_discussed_since_raised() per owner — n, most_visits, oldest — in two set-based queries.

        `counted_to` is when the sweep last counted `later_visits` (LaterVisitsCount), None if never. A site
        with a visit completed since then is counted live; elsewhere the stored count is the figure. So the list
        is exact for every visit completed and every discussion recorded since the sweep; a visit back-dated
        before it (an import of old jobs, an edit in the admin) counts from the next run, minutes later.
        Returns (per-owner aggregates, one row per recommendation at a recently visited site): the caller adds
        the second into the first, a few rows at most between two sweeps.
        """
        candidates = self.not_yet_discussed_later()
        visited = Job.objects.filter(status=Job.Status.COMPLETED)
        if counted_to is not None:
            visited = visited.filter(completed_at__gte=counted_to)
        recent = visited.order_by().values("site_id")
        owner = ("owner", "owner__first_name", "owner__last_name", "owner__username")
        counted = (
            candidates.filter(later_visits__gt=0).exclude(site__in=recent)
            .order_by().values(*owner)
            .annotate(n=Count("pk"), most_visits=models.Max("later_visits"), oldest=models.Min("created_at"))
            if counted_to is not None else self.none().values(*owner)
        )
        base = F("later_visits") if counted_to is not None else Value(0)
        live = (
            candidates.filter(site__in=recent)
            .with_visits_since_raised(since=counted_to)
            .annotate(visits=base + F("visits_since_raised"))
            .filter(visits__gt=0)
            .order_by().values(*owner, "visits", "created_at")
        )
        return list(counted), list(live)

    def conversion_by_risk(self):
        """Per risk: raised (withdrawn ones were mistakes and do not count), accepted, failed while open."""
        return self._conversion("risk").order_by("risk")

    def conversion_by_technician(self):
        return self._conversion("raised_by", "raised_by__username", "raised_by__first_name", "raised_by__last_name")

    def _conversion(self, *group_by):
        return (
            self.exclude(state=Recommendation.State.WITHDRAWN)
            .order_by()
            .values(*group_by)
            .annotate(
                raised=Count("pk"),
                accepted=Count("pk", filter=Q(state=Recommendation.State.ACCEPTED)),
                failed=Count("pk", filter=Q(state=Recommendation.State.FAILED_WHILE_OPEN)),
            )
            .order_by(*group_by)
        )

    def outstanding_by_owner(self, today=None):
        """The outstanding ones grouped by owner, age bucket (AGE_BUCKETS, as in age_of_open), overdue follow-up
        and passed to sales: n, oldest raised, oldest due. What the dashboard's age and stale-lead tables add up,
        in one pass over one partial index (~190,000 rows at a large contractor, grouped into a few hundred)."""
        today = today or timezone.localdate()
        midnight = timezone.make_aware(datetime.combine(today, time.min))
        age = models.Case(
            *(models.When(created_at__gt=midnight - timedelta(days=days), then=Value(index))
              for index, (_, days) in enumerate(AGE_BUCKETS[:-1])),
            default=Value(len(AGE_BUCKETS) - 1),
            output_field=models.IntegerField(),
        )
        return (
            self.open().order_by()
            .values("owner", age_bucket=age,
                    overdue=ExpressionWrapper(Q(next_follow_up_on__lt=today), output_field=models.BooleanField()),
                    with_sales=ExpressionWrapper(Q(passed_to_sales_at__isnull=False),
                                                 output_field=models.BooleanField()))
            # COUNT(*), not COUNT(id): the id is not in the index, and reading it would mean visiting the table.
            .annotate(n=Count("*"), oldest=models.Min("created_at"), oldest_due=models.Min("next_follow_up_on"))
        )

    def age_of_open(self, today=None):
        """How long open recommendations have waited, in buckets (AGE_BUCKETS), plus the oldest one's raised date."""
        today = today or timezone.localdate()
        midnight = timezone.make_aware(datetime.combine(today, time.min))
        buckets, newer_than = {}, None
        for name, days in AGE_BUCKETS:
            condition = Q(created_at__lte=newer_than) if newer_than is not None else Q()
            if days is not None:
                newer_than = midnight - timedelta(days=days)
                condition &= Q(created_at__gt=newer_than)
            buckets[name] = condition
        return self.open().aggregate(
            total=Count("pk"),
            oldest=models.Min("created_at"),
            **{name: Count("pk", filter=condition) for name, condition in buckets.items()},
        )


class Recommendation(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        DEFERRED = "deferred", "Deferred"
        DONE_BY_OTHERS = "done_by_others", "Done by someone else"
        WITHDRAWN = "withdrawn", "Withdrawn"
        FAILED_WHILE_OPEN = "failed_while_open", "Failed while open"

    OUTSTANDING_STATES = (State.OPEN, State.DEFERRED)
    # The only moves the services allow; every other state is final.
    TRANSITIONS = {
        State.OPEN: {
            State.ACCEPTED, State.DECLINED, State.DEFERRED, State.DONE_BY_OTHERS, State.WITHDRAWN,
            State.FAILED_WHILE_OPEN,
        },
        State.DEFERRED: {
            State.OPEN, State.ACCEPTED, State.DECLINED, State.DEFERRED, State.DONE_BY_OTHERS, State.WITHDRAWN,
            State.FAILED_WHILE_OPEN,
        },
    }

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="recommendations")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="recommendations")
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, null=True, blank=True, related_name="recommendations"
    )
    raised_on_job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="raised_recommendations"
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=200, help_text="The work recommended, e.g. Replace cracked heat exchanger.")
    why = models.TextField(
        max_length=limits.NOTE, blank=True, help_text="What you saw, and what happens if it is not done."
    )
    risk = models.CharField(max_length=20, choices=Risk.choices)
    price_low = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    price_high = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    photo = models.FileField(
        upload_to="recommendations/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(PHOTO_EXTENSIONS), validate_photo],
    )
    customer_acknowledged = models.BooleanField(
        default=False, help_text="The customer signed the work order that lists it."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    decline_reason = models.TextField(max_length=limits.NOTE, blank=True)
    deferred_until = models.DateField(null=True, blank=True)
    accepted_job = models.ForeignKey(
        Job, on_delete=models.PROTECT, null=True, blank=True, related_name="accepted_recommendations"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    next_follow_up_on = models.DateField(null=True, blank=True)
    # The follow-up dates the beat sweeps already reminded the owner of / escalated to the managers, so a sweep
    # with nothing due reads the few rows whose date moved rather than re-deriving 100,000 reminders it already sent.
    follow_up_reminded_for = models.DateField(null=True, blank=True, editable=False)
    stale_escalated_for = models.DateField(null=True, blank=True, editable=False)
    passed_to_sales_at = models.DateTimeField(null=True, blank=True)
    passed_to_sales_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Kept for the dashboard's "visits since raised, never discussed" (seed 001), which counted the jobs table
    # per row (eight seconds at a million jobs). Set once by recommendation_record_discussion when the
    # customer is asked on a later visit; discussions are never edited or deleted, so it never goes back.
    discussed_on_later_visit = models.BooleanField(default=False, db_default=False, editable=False)
    # Completed visits at the site since it was raised, up to LaterVisitsCount.counted_to (the sweep's count
    # for the outstanding ones not yet discussed; see RecommendationQuerySet.never_discussed_by_owner).
    later_visits = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`; a
    # database default too, for rows inserted in SQL.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["site", "state"], name="recommendation_site_state"),
            models.Index(fields=["updated_at", "id"], name="recommendation_updated"),
            models.Index(fields=["owner", "state", "next_follow_up_on"], name="recommendation_owner_due"),
            models.Index(fields=["state", "next_follow_up_on"], name="recommendation_state_due"),
            # The office list's default (open or deferred, follow-up date first): with a plain (state, date) index
            # PostgreSQL sorted all ~190,000 outstanding ones for each page.
            models.Index(fields=["next_follow_up_on", "id"], name="recommendation_outstanding_due",
                         condition=Q(state__in=["open", "deferred"])),
            models.Index(fields=["next_follow_up_on"], name="recommendation_unreminded",
                         condition=Q(state__in=["open", "deferred"]) & not_yet_reminded("follow_up_reminded_for")),
            models.Index(fields=["next_follow_up_on"], name="recommendation_unescalated",
                         condition=Q(state__in=["open", "deferred"]) & not_yet_reminded("stale_escalated_for")),
            models.Index(fields=["customer", "-created_at"], name="recommendation_customer"),
            models.Index(fields=["raised_by", "state"], name="recommendation_raised_by"),
            # The recommendation dashboard (issue 8). Raised in a range, grouped by risk, technician and state,
            # from the index alone: a year is ~100,000 rows, read without touching the table. The site is for the
            # site type filter (joined to the sites of that type): 285 → 165 ms for commercial sites.
            models.Index(fields=["created_at"],
                         include=["risk", "raised_by", "state", "price_low", "price_high", "site"],
                         name="recommendation_raised_at"),
            # The outstanding ones (~190,000) by owner, age and overdue follow-up in one pass (outstanding_by_owner),
            # from the index alone, and with the site type filter too.
            models.Index(fields=["owner"], include=["created_at", "next_follow_up_on", "passed_to_sales_at",
                                                    "raised_by", "site"],
                         name="recommendation_outstanding", condition=Q(state__in=["open", "deferred"])),
            # Never discussed since raised: the ones with counted later visits, per owner.
            models.Index(fields=["owner"], include=["later_visits", "created_at", "site", "raised_by"],
                         name="recommendation_never_discussed",
                         condition=Q(state__in=["open", "deferred"], discussed_on_later_visit=False,
                                     later_visits__gt=0)),
        ]
        constraints = [
            *limits.text_limits("recommendations_recommendation", why=limits.NOTE, decline_reason=limits.NOTE),
            models.CheckConstraint(
                condition=Q(price_low__isnull=True) | Q(price_high__isnull=True) | Q(price_low__lte=F("price_high")),
                name="recommendation_price_range_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(state="declined") | ~Q(decline_reason=""), name="recommendation_declined_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(state="deferred") | Q(deferred_until__isnull=False),
                name="recommendation_deferred_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(accepted_job__isnull=False),
                name="recommendation_accepted_has_job",
            ),
        ]

    def __str__(self):
        return self.what

    def get_absolute_url(self):
        return reverse("recommendations:detail", args=[self.pk])

    @property
    def is_outstanding(self):
        return self.state in self.OUTSTANDING_STATES

    @property
    def is_overdue(self):
        return self.is_outstanding and self.next_follow_up_on is not None and (
            self.next_follow_up_on < timezone.localdate()
        )

    @property
    def age_days(self):
        return (timezone.now() - self.created_at).days

    @property
    def price_range(self):
        if self.price_low is None and self.price_high is None:
            return ""
        if self.price_low is None or self.price_high is None or self.price_low == self.price_high:
            return f"${self.price_low if self.price_low is not None else self.price_high:,.0f}"
        return f"${self.price_low:,.0f}–${self.price_high:,.0f}"

    def can_move_to(self, state):
        return state in self.TRANSITIONS.get(self.state, ())


class LaterVisitsCount(models.Model):
    """One row: when the sweep (recommendation_count_later_visits) last counted Recommendation.later_visits.
    No row means never: the dashboard then counts every visit live."""

    counted_to = models.DateTimeField()

    def __str__(self):
        return f"Later visits counted to {self.counted_to:%Y-%m-%d %H:%M}"


class RecommendationEvent(models.Model):
    """One line of a recommendation's history; written by the services only, never edited or deleted."""

    class Action(models.TextChoices):
        RAISED = "raised", "Raised"
        STATE_CHANGED = "state_changed", "State changed"
        PASSED_TO_SALES = "passed_to_sales", "Passed to sales"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=20, choices=Recommendation.State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=Recommendation.State.choices)
    note = models.TextField(max_length=limits.RECORD, blank=True)  # a composed line may quote an account

    class Meta:
        constraints = limits.text_limits("recommendations_recommendationevent", note=limits.RECORD)
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["recommendation", "at"], name="recommendation_event_at")]

    def __str__(self):
        return f"{self.get_action_display()} {self.from_state}→{self.to_state}"


class Discussion(models.Model):
    """One time the recommendation was raised with the customer — on a visit, or by its owner by phone."""

    class Response(models.TextChoices):
        INTERESTED = "interested", "Interested"
        NOT_NOW = "not_now", "Not now"
        DECLINED = "declined", "Declined"
        NOT_DISCUSSED = "not_discussed", "Not discussed"

    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="discussions")
    job = models.ForeignKey(Job, on_delete=models.PROTECT, null=True, blank=True, related_name="discussions")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    discussed_at = models.DateTimeField(default=timezone.now)
    response = models.CharField(max_length=20, choices=Response.choices)
    note = models.TextField(max_length=limits.NOTE, blank=True)

    class Meta:
        ordering = ["-discussed_at", "-pk"]
        indexes = [
            models.Index(fields=["recommendation", "-discussed_at"], name="discussion_recommendation"),
            models.Index(fields=["job", "recommendation"], name="discussion_job"),
        ]
        constraints = [
            *limits.text_limits("recommendations_discussion", note=limits.NOTE),
            # "Not discussed" is allowed, but never silently: the reason is the record (seed 001).
            models.CheckConstraint(
                condition=~Q(response="not_discussed") | ~Q(note=""), name="discussion_not_discussed_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.get_response_display()} ({self.discussed_at:%Y-%m-%d})"


class CustomerReminder(models.Model):
    """One reminder e-mail about one open recommendation, to a customer who opted in (recommendations/reminders.py).

    `number` counts the reminders about the recommendation (1, 2, ...), derived from the rows already there, so
    the unique pair makes a sweep that runs twice or concurrently write, and send, each reminder once.
    `sent_at` is when the sweep sent the reminder out (the cadence counts from it); `emailed_at` is when the mail
    server took the e-mail, empty while it is still to go (the resend sweep delivers it once the server is back).
    """

    recommendation = models.ForeignKey(Recommendation, on_delete=models.PROTECT, related_name="customer_reminders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="recommendation_reminders")
    number = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recommendation", "number"], name="customer_reminder_once_per_number"),
        ]
        indexes = [
            models.Index(fields=["customer", "-sent_at"], name="customer_reminder_customer"),
            # The resend sweep's "still to e-mail" rows: a handful at most, so the index stays tiny.
            models.Index(fields=["sent_at"], condition=models.Q(emailed_at__isnull=True),
                         name="customer_reminder_unemailed"),
        ]

    def __str__(self):
        return f"Reminder {self.number} about {self.recommendation}"
