"""Follow-up calls (seed 002): the CSR's call after the visit, its attempts, the referrals it brings, and the
rules for when it falls due.

These are models of the callbacks app (app label "callbacks", the same tables); callbacks/models.py imports
them so the app registry finds them.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from customers.models import Job
from servicedesk import limits
from servicedesk.audit import Via


class FollowUpRule(models.Model):
    """How many days after a job of a kind is completed its follow-up call falls due; no days means no call."""

    job_kind = models.CharField(max_length=20, choices=Job.Kind.choices, unique=True)
    days_after = models.PositiveSmallIntegerField(
        "days after completion", null=True, blank=True, help_text="Leave empty for no follow-up call."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["job_kind"]

    def __str__(self):
        when = f"{self.days_after} days after" if self.days_after is not None else "no call"
        return f"{self.get_job_kind_display()}: {when}"


class FollowUpCallQuerySet(models.QuerySet):
    def in_queue(self, now=None):
        """Due now and nobody is on it: what "next call" hands out, most overdue first."""
        return self.filter(state=FollowUpCall.State.DUE, next_attempt_at__lte=now or timezone.now()).order_by(
            "next_attempt_at", "pk"
        )

    def claimed_by(self, user, now=None):
        return self.filter(state=FollowUpCall.State.CLAIMED, claimed_by=user, claimed_until__gt=now or timezone.now())

    def held_by(self, user):
        """Claimed by `user`, lease lapsed or not: until the release sweep or someone else takes it, it is theirs."""
        return self.filter(state=FollowUpCall.State.CLAIMED, claimed_by=user)

    def abandoned(self, now=None):
        return self.filter(state=FollowUpCall.State.CLAIMED, claimed_until__lte=now or timezone.now())

    def with_related(self):
        return self.select_related(
            "customer", "job", "job__site", "job__equipment", "job__lead_technician", "claimed_by", "completed_by"
        )


class FollowUpCall(models.Model):
    """The post-visit call: any issues since the visit, were expectations met, anything else, referrals.

    One per job (the unique job is what makes the scheduling sweep safe to run twice). `next_attempt_at` is
    when it is (next) due in the queue; a claim is a lease that lapses at `claimed_until`.
    """

    class State(models.TextChoices):
        DUE = "due", "Due"
        CLAIMED = "claimed", "Being called"
        DONE = "done", "Done"
        GAVE_UP = "gave_up", "Gave up"
        CANCELLED = "cancelled", "Cancelled"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached"
        VOICEMAIL = "voicemail", "Left voicemail"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        DO_NOT_CALL = "do_not_call", "Asked not to be called"

    OPEN_STATES = (State.DUE, State.CLAIMED)
    # Outcomes after which the call comes back later.
    RETRY_OUTCOMES = (Outcome.VOICEMAIL, Outcome.NO_ANSWER)

    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="follow_up_call")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="follow_up_calls")
    due_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.DUE, db_default=State.DUE)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Since when the holder has been on it: the page tells a second CSR who is on the call and since when.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, db_default="")
    # The script's answers (seed 002), recorded when the customer was reached.
    issues = models.TextField("issues since the visit", max_length=limits.ACCOUNT, blank=True, db_default="")
    expectations_met = models.BooleanField("we met what they expected", null=True, blank=True)
    anything_else = models.TextField("anything else we can do", max_length=limits.NOTE, blank=True, db_default="")
    would_refer = models.BooleanField("would refer us", null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    # A review asked on the call, before review requests went to every customer after every visit
    # (customers/reviews.py, issue 18): kept for the calls of that time, which the follow-up dashboard counts.
    review_requested_at = models.DateTimeField(null=True, blank=True)
    callback = models.ForeignKey(
        "callbacks.Callback", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The callback logged from a problem reported on this call.",
    )
    lead = models.ForeignKey(
        "recommendations.Recommendation", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The lead raised from interest in more work on this call.",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True, db_default="")
    created_at = models.DateTimeField(default=timezone.now)

    # Every change sets it, whoever writes (a trigger, servicedesk/triggers.py): the API's `updated_since`; a
    # database default too, for rows inserted in SQL.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)

    objects = FollowUpCallQuerySet.as_manager()

    class Meta:
        ordering = ["next_attempt_at", "pk"]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="follow_up_call_updated"),
            # The queue: "next call" reads the most overdue due call on this index.
            models.Index(fields=["next_attempt_at", "id"], name="follow_up_call_queue", condition=Q(state="due")),
            models.Index(fields=["claimed_until"], name="follow_up_call_claims", condition=Q(state="claimed")),
            models.Index(fields=["customer", "-due_at"], name="follow_up_call_customer"),
            # The follow-up dashboard (servicedesk.dashboards.follow_ups): the weeks it counts live; the calls of
            # rolled-up weeks not settled before the rollup's cutoff (open, or completed since); the reviews asked
            # since; the callbacks and leads raised from calls, which it always counts live.
            models.Index(fields=["due_at"], name="follow_up_call_due"),
            models.Index(fields=["due_at"], name="follow_up_call_open", condition=Q(state__in=["due", "claimed"])),
            models.Index(fields=["completed_at"], name="follow_up_call_completed"),
            models.Index(fields=["review_requested_at"], name="follow_up_call_review",
                         condition=Q(review_requested_at__isnull=False)),
            models.Index(fields=["due_at"], name="follow_up_call_linked",
                         condition=Q(callback__isnull=False) | Q(lead__isnull=False)),
        ]
        constraints = [
            *limits.text_limits("callbacks_followupcall", issues=limits.ACCOUNT, anything_else=limits.NOTE),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="follow_up_call_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=~Q(state="claimed") | Q(claimed_by__isnull=False, claimed_until__isnull=False),
                name="follow_up_call_claim_has_lease",
            ),
        ]

    def __str__(self):
        return f"Follow-up call #{self.pk} — {self.customer}"

    def get_absolute_url(self):
        return reverse("callbacks:call", args=[self.pk])

    @property
    def is_open(self):
        return self.state in self.OPEN_STATES

    def is_held_by_other(self, user, now=None):
        """Someone else is on this call and their lease still runs."""
        return (self.state == self.State.CLAIMED and self.claimed_by_id != user.pk
                and self.claimed_until > (now or timezone.now()))

    def is_overdue(self, now=None):
        return self.is_open and self.next_attempt_at < (now or timezone.now())


class CallAttempt(models.Model):
    """Every attempt at a follow-up call, kept: who dialled, when, and what happened."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.CASCADE, related_name="call_attempts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=FollowUpCall.Outcome.choices)
    note = models.TextField(max_length=limits.NOTE, blank=True)

    class Meta:
        constraints = limits.text_limits("callbacks_callattempt", note=limits.NOTE)
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["call", "at"], name="call_attempt_call_at")]

    def __str__(self):
        return f"{self.get_outcome_display()} at {self.at:%Y-%m-%d %H:%M}"


class Referral(models.Model):
    """A neighbour or friend the customer referred on a follow-up call; recorded as a new customer (a lead)."""

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="referrals")
    referred_customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=40)
    note = models.TextField(max_length=limits.NOTE, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = limits.text_limits("callbacks_referral", note=limits.NOTE)
        ordering = ["at", "pk"]
        # The follow-up dashboard counts the referrals recorded since its rollup's cutoff live.
        indexes = [models.Index(fields=["at"], name="referral_at")]

    def __str__(self):
        return f"{self.name} (referred on call #{self.call_id})"


# Defaults the data migration writes; managers change them on the follow-up rules page.
DEFAULT_FOLLOW_UP_DAYS = {
    # Two days: long enough to know whether the repair held, soon enough that the visit is remembered.
    Job.Kind.SERVICE_CALL: 2,
    # Routine work with little to go wrong; the call is mostly for expectations and referrals.
    Job.Kind.MAINTENANCE: 3,
    # A week of living with new equipment (a few heating or cooling cycles) shows whether it works as promised.
    Job.Kind.INSTALL: 7,
    # No work was done; following an estimate up is the recommendation's owner's job, not a post-visit call.
    Job.Kind.ESTIMATE: None,
    # The callback's closure call is that conversation.
    Job.Kind.CALLBACK_REVISIT: None,
}


class FollowUpCallEvent(models.Model):
    """Who had a follow-up call and when it left the queue: claimed by a CSR, released back to the queue (a lease
    that lapsed), cancelled (and why). The attempts are their own record (CallAttempt). Never edited or deleted."""

    class Action(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released to the queue"
        CANCELLED = "cancelled", "Cancelled"

    call = models.ForeignKey(FollowUpCall, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)
    # Nobody for what a beat sweep did.
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.PAGE)
    note = models.TextField(max_length=limits.RECORD, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["call", "at"], name="follow_up_call_event_call_at")]
        constraints = limits.text_limits("callbacks_followupcallevent", note=limits.RECORD)

    def __str__(self):
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
