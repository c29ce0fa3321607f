"""Settled follow-up calls per week, pre-counted for the follow-up dashboard (issue 8, dashboards at a million jobs).

Twelve months of a large contractor is ~270,000 follow-up calls and ~450,000 attempts; counting them per request
took more than a second. FollowUpRollup holds the same figures per week the calls fell due × job kind × site type
× CSR, a few thousand rows a year, but only for *settled* calls: done, given up or cancelled before the rollup's
cutoff. A settled call takes no more attempts and keeps its answers, so its row never goes stale; a call still in
the queue, or settled after the cutoff, is counted live (the partial index of open calls and the index on
completed_at find them among the week's thousands). The only things that can still happen to a settled call are a
review asked and a referral recorded: the rollup counts those made before the cutoff and the dashboard adds the
later ones live. Callbacks and leads raised from calls are never rolled up (few, counted live on a partial index).

Each refresh recounts the weeks touched since the previous cutoff (a call settled, a review asked, a referral
recorded) and the complete weeks not rolled up yet, then moves every week's cutoff to the new one, in one
transaction under an advisory lock: an untouched week's rows are what a recount would write, two runs at once
wait for each other, and a run repeated writes the same rows. The cutoff lags the clock by CUTOFF_MARGIN so that a
call settled just before it, in a transaction not yet committed when the refresh read the table, is not missed.
As with JobRollup, a job's kind or site type corrected after its call was rolled up shows in the kind and site type
filters once the week is recounted (a call on it changes, or `refresh(full=True)` after such an import); a
technician's figures never come from here.
"""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.db import connection, transaction
from django.db.models import BooleanField, CharField, Count, DateField, ExpressionWrapper, F, Max, Min, Q, Value
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from callbacks.models import CallAttempt, FollowUpCall, Referral
from servicedesk.models import FollowUpRollup, FollowUpRollupWeek

from .rollup import monday, week_intervals

log = logging.getLogger(__name__)
State, Outcome = FollowUpCall.State, FollowUpCall.Outcome
Part = FollowUpRollup.Part
CUTOFF_MARGIN = timedelta(minutes=15)
SCORES = range(1, 6)
REACHED = Q(outcome=Outcome.REACHED)
_LOCK = 0x5D_0F_0C_A1  # pg_advisory_xact_lock key for the refresh


def settled_before(cutoff, prefix=""):
    """Calls the rollup counts: settled before `cutoff` (one settled without a time, which the services never
    write, counts as settled long ago rather than never)."""
    return ~Q(**{f"{prefix}state__in": FollowUpCall.OPEN_STATES}) & (
        Q(**{f"{prefix}completed_at__lt": cutoff}) | Q(**{f"{prefix}completed_at__isnull": True})
    )


def unsettled_at(cutoff):
    """The complement of settled_before(cutoff), written so that the partial index of open calls and the index on
    completed_at answer it."""
    return Q(state__in=FollowUpCall.OPEN_STATES) | Q(completed_at__gte=cutoff)


def call_week(prefix=""):
    return Cast(TruncWeek(f"{prefix}due_at"), DateField())


def call_groups(prefix=""):
    """The keys every part of the dashboard's figures is grouped by: week, CSR who finished the call, cancelled."""
    return {
        "g_week": call_week(prefix),
        "g_csr": F(f"{prefix}completed_by"),
        "g_cancelled": ExpressionWrapper(Q(**{f"{prefix}state": State.CANCELLED}), output_field=BooleanField()),
    }


def call_measures(*, reviews):
    """Per-call counts (a FollowUpCall queryset's aggregates); `reviews` is the Q of the reviews to count."""
    measures = {
        "calls": Count("pk"),
        "made": Count("pk", filter=Q(attempts__gt=0)),
        "reached": Count("pk", filter=REACHED),
        "gave_up": Count("pk", filter=Q(state=State.GAVE_UP)),
        **{f"score_{score}": Count("pk", filter=REACHED & Q(satisfaction=score)) for score in SCORES},
        "issues": Count("pk", filter=REACHED & ~Q(issues="")),
        "would_refer": Count("pk", filter=Q(would_refer=True)),
        "reviews": Count("pk", filter=reviews),
    }
    return measures


def attempt_measures():
    """Per-CSR counts of a CallAttempt queryset; "calls" is the calls they worked (each call is in one week, so the
    weeks' counts add up)."""
    return {
        "calls": Count("call", distinct=True),
        "attempts": Count("pk"),
        "reached_attempts": Count("pk", filter=Q(outcome=Outcome.REACHED)),
    }


def due_in(intervals, prefix=""):
    due = Q(pk__in=[])
    for start, end in intervals:
        due |= Q(**{f"{prefix}due_at__gte": start, f"{prefix}due_at__lt": end})
    return due


def _touched_weeks(since):
    """Weeks of the calls that changed in a way the rollup counts since `since`: settled, a review asked, a referral
    recorded (a call created since then is open, or settled since then)."""
    calls = (
        FollowUpCall.objects.filter(Q(completed_at__gte=since) | Q(review_requested_at__gte=since))
        .order_by().values_list(call_week()).distinct()
    )
    referrals = Referral.objects.filter(at__gte=since).order_by().values_list(call_week("call__")).distinct()
    return {as_date(week) for (week,) in calls.union(referrals)}


def as_date(value):
    if isinstance(value, str):  # SQLite returns the date as text
        return date.fromisoformat(value[:10])
    return value


def _sources(weeks, cutoff):
    """The querysets whose rows the refresh inserts for `weeks`, with the column each alias goes to."""
    intervals = week_intervals(weeks)
    settled = FollowUpCall.objects.filter(due_in(intervals), settled_before(cutoff))
    where = {"g_kind": F("job__kind"), "g_site": F("job__site__site_type")}
    calls = (
        settled.order_by()
        .values(**call_groups(), **where, g_part=Value(Part.CALLS, output_field=CharField()))
        .annotate(**call_measures(reviews=Q(review_requested_at__lt=cutoff)))
    )
    referrals = (
        Referral.objects.filter(due_in(intervals, "call__"), settled_before(cutoff, "call__"), at__lt=cutoff)
        .order_by()
        .values(**call_groups("call__"), g_kind=F("call__job__kind"), g_site=F("call__job__site__site_type"),
                g_part=Value(Part.CALLS, output_field=CharField()))
        .annotate(referrals=Count("pk"))
    )
    attempts = (
        CallAttempt.objects.filter(due_in(intervals, "call__"), settled_before(cutoff, "call__"))
        .order_by()
        .values(g_week=call_week("call__"), g_csr=F("by"), g_kind=F("call__job__kind"),
                g_site=F("call__job__site__site_type"), g_part=Value(Part.ATTEMPTS, output_field=CharField()))
        .annotate(**attempt_measures())
    )
    keys = {"g_week": "week", "g_kind": "kind", "g_site": "site_type", "g_part": "part", "g_csr": "csr_id"}
    return [
        (calls, {**keys, "g_cancelled": "cancelled", **{name: name for name in call_measures(reviews=Q())}}),
        (referrals, {**keys, "g_cancelled": "cancelled", "referrals": "referrals"}),
        (attempts, {**keys, **{name: name for name in attempt_measures()}}),
    ]


def refresh(*, full=False, now=None):
    """Bring the rollup up to a new cutoff; returns the number of weeks recounted. `full` recounts every week."""
    quote = connection.ops.quote_name
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two refreshes at once would both count, then both insert: one waits for the other instead.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        # The time is read once the lock is held, so that runs that waited for each other move the cutoff forward.
        now = now or timezone.now()
        cutoff = now - CUTOFF_MARGIN
        this_week = monday(timezone.localtime(now).date())
        first = FollowUpCall.objects.aggregate(first=Min("due_at"))["first"]
        if first is None:
            return 0
        first_week = monday(timezone.localtime(first).date())
        all_weeks = [first_week + timedelta(weeks=n) for n in range((this_week - first_week).days // 7)]
        previous = FollowUpRollupWeek.objects.aggregate(cutoff=Max("cutoff"))["cutoff"]
        if full or previous is None or previous > cutoff:
            # (A cutoff moving back would leave rows counting calls the dashboard also counts live.)
            weeks = all_weeks
        else:
            rolled = set(FollowUpRollupWeek.objects.values_list("week", flat=True))
            touched = _touched_weeks(previous)
            weeks = [week for week in all_weeks if week not in rolled or week in touched]
        if weeks:
            FollowUpRollup.objects.filter(week__in=weeks).delete()
            for source, columns in _sources(weeks, cutoff):
                sql, params = source.query.sql_with_params()
                picked = ", ".join(f"s.{quote(alias)}" for alias in columns)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {quote(FollowUpRollup._meta.db_table)} "
                        f"({', '.join(quote(column) for column in columns.values())}) SELECT {picked} FROM ({sql}) s",
                        params,
                    )
        # Every week moves to the new cutoff: the untouched ones have nothing between the old cutoff and the new.
        FollowUpRollupWeek.objects.update(cutoff=cutoff)
        FollowUpRollupWeek.objects.bulk_create(
            [FollowUpRollupWeek(week=week, cutoff=cutoff) for week in all_weeks], ignore_conflicts=True
        )
    return len(weeks)


@shared_task
def refresh_follow_up_rollup():
    weeks = refresh()
    log.info("follow-up rollup: %s weeks recounted", weeks)
    return weeks
