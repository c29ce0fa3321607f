"""Settled callbacks per week, pre-counted for the callback dashboard (issue 8, dashboards at a million jobs).

Twelve months of a large contractor is ~19,000 callbacks; reading and grouping them eight ways (callback_pass.py)
took most of the dashboard's time. CallbackRollup holds what that pass gives for the callbacks on the jobs completed
in one week, a couple of hundred rows a week, but only for the jobs whose callbacks are all *settled*: contacted and
resolved, or found to be an unrelated new problem (callbacks.models.UNSETTLED is the rest). A settled callback's
figures no longer change with the clock ("still waiting, past target" needs one not contacted yet, "unresolved, past
target" one not resolved); they change only when someone writes it. Every such write (and a helper added to or
removed from its job) is logged in CallbackChange by database triggers, whoever writes.

So the dashboard (`dashboard_facts`) reads from the rollup only the complete weeks inside its range that are listed
in CallbackRollupWeek and have no change logged, and runs the same pass live over everything else: the partial weeks
at the range's ends, the current week, the weeks changed since the last refresh, and every job with an unsettled
callback (a few hundred, found through a partial index). Each job is counted in exactly one of the two, and every
figure of the pass is a count or a sum over jobs or callbacks, so adding the two is exact, distinct counts included.
Only the unfiltered dashboard reads the rollup: a technician, job kind or site type filter is counted live, from a
fraction of the callbacks.

The sweep recounts the weeks with changes logged and the complete weeks never counted, then clears the changes it
read, in one transaction under an advisory lock: two runs at once wait for each other, a run repeated writes the
same rows, and a change committed while it ran stays logged for the next run.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import connection, transaction
from django.db.models import DateField, Min, Q, Sum
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from callbacks.models import UNSETTLED, Callback
from servicedesk.models import CallbackChange, CallbackRollup, CallbackRollupWeek

from .callback_pass import GROUPINGS, STEPS, _as_date, callback_pass
from .callback_pass import KEYS as PASS_KEYS
from .filters import Scope, _midnight
from .rollup import _fetch, _mondays, monday, week_intervals

log = logging.getLogger(__name__)
_LOCK = 0x5D_0C_B0_11  # pg_advisory_xact_lock key for the refresh
# The pass's keys and the rollup's columns; a "week" row's week is the rollup row's own.
KEYS = {"k_kind": "kind", "k_tech": "technician_id", "k_text": "text"}
MEASURES = [field.name for field in CallbackRollup._meta.concrete_fields
            if field.name not in ("id", "week", "grouping", *KEYS.values())]
# Always 0 for settled callbacks: only unsettled ones (counted live) can be late, or potential (callbacks/recalls).
LATE = ("waiting_late", "unresolved_late")
ONLY_LIVE = (*LATE, "potential")


def unsettled_callbacks():
    """The unsettled callbacks, whose jobs are counted live, never rolled up (the partial index callback_unsettled)."""
    return Callback.objects.filter(UNSETTLED)


# --- the refresh


def refresh(*, full=False, now=None):
    """Recount the weeks whose callbacks changed and the complete weeks not counted yet (every complete week with
    `full`); returns the number of weeks recounted."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        # The time is read once the lock is held, so that runs that waited for each other count the same weeks.
        now = now or timezone.now()
        this_week = monday(timezone.localtime(now).date())
        changes = list(CallbackChange.objects.values_list("pk", "job_completed_at"))
        first = Callback.objects.aggregate(first=Min("job_completed_at"))["first"]
        weeks = []
        if first is not None:
            all_weeks = _mondays(monday(timezone.localtime(first).date()), this_week)
            if full:
                weeks = all_weeks
            else:
                rolled = set(CallbackRollupWeek.objects.values_list("week", flat=True))
                changed = {monday(timezone.localtime(at).date()) for _pk, at in changes}
                weeks = [week for week in all_weeks if week not in rolled or week in changed]
        if weeks:
            _recount(weeks, now)
        # Only the changes read above: one committed since then is for the next run (this one may not have seen it).
        pks = [pk for pk, _at in changes]
        for start in range(0, len(pks), 5000):
            CallbackChange.objects.filter(pk__in=pks[start:start + 5000]).delete()
    return len(weeks)


def _recount(weeks, now):
    """Replace the rollup rows of `weeks` (complete weeks, in the past) with fresh counts; in a transaction."""
    CallbackRollup.objects.filter(week__in=weeks).delete()
    rows = []
    for week in weeks:
        scope = Scope(start=_midnight(week), end=_midnight(week + timedelta(weeks=1)))
        settled = scope.callbacks_in_range(Callback.objects.exclude(job_id__in=unsettled_callbacks().values("job_id")))
        rows += _rows(week, callback_pass(settled, now=now))
    CallbackRollup.objects.bulk_create(rows, batch_size=2000)
    CallbackRollupWeek.objects.filter(week__in=weeks).update(refreshed_at=now)
    CallbackRollupWeek.objects.bulk_create([CallbackRollupWeek(week=week, refreshed_at=now) for week in weeks],
                                           ignore_conflicts=True)


def _rows(week, facts):
    """CallbackRollup rows of one week from the pass's {grouping: [row dicts]}."""
    rows = []
    for grouping, results in facts.items():
        for result in results:
            if grouping == "steps":
                # One row per step: its `expected` and `skipped` (the pass gives expected_0, skipped_0, ...).
                rows += [
                    CallbackRollup(week=week, grouping=grouping, text=step.value,
                                   expected=result[f"expected_{index}"], skipped=result[f"skipped_{index}"])
                    for index, step in enumerate(STEPS)
                ]
                continue
            keys = {column: result[key] for key, column in KEYS.items() if key in result}
            measures = {name: value for name, value in result.items() if name in MEASURES and value is not None}
            rows.append(CallbackRollup(week=week, grouping=grouping, **keys, **measures))
    # A week with no settled callback (or a step no callback reached) adds nothing: no row.
    return [row for row in rows if any(getattr(row, name) for name in MEASURES)]


@shared_task
def refresh_callback_rollup():
    weeks = refresh()
    log.info("callback rollup: %s weeks recounted", weeks)
    return weeks


# --- the dashboard


def rolled_weeks(scope):
    """The complete weeks inside the scope's range that the rollup holds and that have no change logged since."""
    changed = CallbackChange.objects.values_list(Cast(TruncWeek("job_completed_at"), DateField()))
    return list(
        CallbackRollupWeek.objects.filter(week__range=scope.whole_weeks())
        .exclude(week__in=changed)
        .order_by("week").values_list("week", flat=True)
    )


def dashboard_facts(scope, callbacks, *, now, groupings=tuple(GROUPINGS)):
    """callback_pass(callbacks, ...) for an unfiltered scope (`callbacks` are the scope's): the rolled-up weeks'
    settled jobs from the rollup, the rest live, added up."""
    weeks = rolled_weeks(scope)
    if not weeks:
        return callback_pass(callbacks, now=now, groupings=groupings)
    # Live: the range outside those weeks, and the jobs inside them with an unsettled callback.
    rolled = Q(pk__in=[])
    for start, end in week_intervals(weeks):
        rolled |= Q(job_completed_at__gte=start, job_completed_at__lt=end)
    unsettled_jobs = unsettled_callbacks().values("job_id")
    facts = callback_pass(callbacks.filter(~rolled | Q(job_id__in=unsettled_jobs)), now=now, groupings=groupings)
    for grouping, rows in _rolled_up(weeks, groupings):
        _add(facts[grouping], rows, keys=_keys(grouping))
    return facts


def _keys(grouping):
    """The keys of a grouping's rows (callback_pass.KEYS that it groups by)."""
    return [key for key, column in zip(PASS_KEYS, GROUPINGS[grouping][0], strict=True) if column]


def _rolled_up(weeks, groupings):
    """(grouping, rows) of the rollup's sums over `weeks`, rows shaped as callback_pass shapes them."""
    rolled = CallbackRollup.objects.filter(week__gte=weeks[0], week__lte=weeks[-1], week__in=weeks).order_by()
    if "week" in groupings:
        # A row per week, job kind and lead (~100 a week) that the page adds up by week, kind and lead: read as
        # tuples, as rollup._fetch explains.
        rows = _fetch(rolled.filter(grouping="week").values("week", "kind", "technician_id", "came_back"),
                      ("week", "kind", "technician_id", "came_back"))
        yield "week", [{"k_week": _as_date(week), "k_kind": kind, "k_tech": lead, "came_back": n}
                       for week, kind, lead, n in rows]
    others = [grouping for grouping in groupings if grouping != "week"]
    sums = (
        rolled.filter(grouping__in=others)
        .values("grouping", "kind", "technician_id", "text")
        .annotate(**{f"sum_{name}": Sum(name) for name in MEASURES})
    )
    by_grouping = {}
    for result in sums:
        grouping = result["grouping"]
        if grouping == "steps":
            # One row per step in the rollup, one row of expected_0, skipped_0, ... from the pass.
            index = [step.value for step in STEPS].index(result["text"])
            steps = by_grouping.setdefault(grouping, [{}])[0]
            steps.update({f"expected_{index}": result["sum_expected"], f"skipped_{index}": result["sum_skipped"]})
            continue
        row = {key: result[KEYS[key]] for key in _keys(grouping)}
        row.update({name: 0 if name in ONLY_LIVE else result[f"sum_{name}"] for name in GROUPINGS[grouping][2]})
        by_grouping.setdefault(grouping, []).append(row)
    yield from by_grouping.items()


def _add(rows, additions, *, keys):
    """Add each of `additions` to the row of `rows` with the same keys (or append it when there is none)."""
    index = {tuple(row[key] for key in keys): row for row in rows}
    for addition in additions:
        row = index.get(tuple(addition[key] for key in keys))
        if row is None:
            rows.append(addition)
            continue
        for name, value in addition.items():
            if name not in keys and value is not None:
                row[name] = value if row[name] is None else row[name] + value
