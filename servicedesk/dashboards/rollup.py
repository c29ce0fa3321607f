"""Completed jobs per week, pre-counted: the denominator of every callback rate (issue 8, dashboards at a million jobs).

Twelve months of a large contractor is ~330,000 completed jobs; counting them per request took half a second.
JobRollup holds the same counts per week × job kind × site type × technician × role (lead, or helper), a few
thousand rows a year. The figures stay exact to the minute because only *complete past weeks* listed in
JobRollupWeek are read from it; the current week, the partial weeks at either end of a range, and any week the
sweep has not reached yet are counted live from the jobs table (a few thousand rows through the
(status, completed_at) index). With no rollup at all (a fresh install, the test database) everything is live.

The sweep recounts the last REFRESH_WEEKS complete weeks every few minutes (a job completed late, or corrected by
an import, lands in its week at the next run); `refresh(weeks=None)` recounts all history, for after a bulk import
of old jobs. Each run replaces the weeks' rows in one transaction under an advisory lock, so two runs at once, or a
run repeated, leave the same rows.
"""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import CharField, Count, DateField, F, Min, Q, Sum, Value
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from customers.models import Job
from servicedesk.models import JobRollup, JobRollupWeek

from .filters import Scope, _midnight
from .tables import person

log = logging.getLogger(__name__)
REFRESH_WEEKS = 6
Role = JobRollup.Role
_LOCK = 0x5D_0B_0A_4D  # pg_advisory_xact_lock key for the refresh


def monday(day):
    return day - timedelta(days=day.weekday())


def _week(prefix):
    return Cast(TruncWeek(f"{prefix}completed_at"), DateField())


def lead_groups(jobs, *, site_type=True):
    """Completed jobs (a Job queryset, already in range and filtered) per week, kind, site type and lead."""
    site = {"g_site": F("site__site_type")} if site_type else {}
    return (
        jobs.order_by()
        .values(g_week=_week(""), g_kind=F("kind"), **site, g_tech=F("lead_technician"),
                g_role=Value(Role.LEAD, output_field=CharField()))
        .annotate(n=Count("pk"))
    )


def helper_groups(helpers, *, by_week=True):
    """The same for helpers (a Job.helpers.through queryset in range); a helper who also leads counts once.
    The dashboards need helpers per technician only (by_week=False: week, kind and site type left empty)."""
    if by_week:
        groups = {"g_week": _week("job__"), "g_kind": F("job__kind"), "g_site": F("job__site__site_type")}
    else:
        groups = {"g_week": Value(None, output_field=DateField()), "g_kind": Value(None, output_field=CharField())}
    return (
        helpers.exclude(user=F("job__lead_technician"))
        .order_by()
        .values(**groups, g_tech=F("user"), g_role=Value(Role.HELPER, output_field=CharField()))
        .annotate(n=Count("pk"))
    )


def refresh(*, weeks=REFRESH_WEEKS, today=None):
    """Recount the last `weeks` complete weeks (all of history with weeks=None); returns the weeks written."""
    this_week = monday(today or timezone.localdate())
    if weeks is None:
        first = Job.objects.filter(status=Job.Status.COMPLETED).aggregate(first=Min("completed_at"))["first"]
        if first is None:
            return 0
        first_week = monday(timezone.localtime(first).date())
    else:
        first_week = this_week - timedelta(weeks=weeks)
    if first_week >= this_week:
        return 0
    scope = Scope(start=_midnight(first_week), end=_midnight(this_week))
    all_weeks = [first_week + timedelta(weeks=n) for n in range((this_week - first_week).days // 7)]
    columns = ("week", "kind", "site_type", "technician_id", "role", "jobs")
    quote = connection.ops.quote_name
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two refreshes at once would both delete, then both insert: one waits for the other instead.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        JobRollup.objects.filter(week__gte=first_week, week__lt=this_week).delete()
        for source in (lead_groups(scope.jobs()), helper_groups(scope.in_range(Job.helpers.through.objects,
                                                                               prefix="job__"))):
            sql, params = source.query.sql_with_params()
            picked = ", ".join(f"s.{quote(alias)}" for alias in ("g_week", "g_kind", "g_site", "g_tech", "g_role", "n"))
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {quote(JobRollup._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
                    f"SELECT {picked} FROM ({sql}) s",
                    params,
                )
        now = timezone.now()
        JobRollupWeek.objects.filter(week__in=all_weeks).update(refreshed_at=now)
        JobRollupWeek.objects.bulk_create(
            [JobRollupWeek(week=week, refreshed_at=now) for week in all_weeks], ignore_conflicts=True
        )
    return len(all_weeks)


@shared_task
def refresh_dashboard_rollup():
    weeks = refresh()
    log.info("dashboard rollup: %s weeks recounted", weeks)
    return weeks


class JobCounts:
    """Completed jobs in a scope: per (week, kind, lead) and per helper, from the rollup where it is complete and
    live elsewhere, in one query (plus one for the rolled-up weeks and one for the technicians' names)."""

    def __init__(self, scope):
        self.scope = scope
        rows = self._rows()
        ids = {row["g_tech"] for row in rows if row["g_tech"] is not None}
        names = {
            user["pk"]: person(user["first_name"], user["last_name"], user["username"])
            for user in get_user_model().objects.filter(pk__in=ids).values("pk", "first_name", "last_name",
                                                                               "username")
        } if ids else {}
        self.leads, self.helpers = {}, {}
        for row in rows:
            week = row["g_week"]
            if isinstance(week, str):  # SQLite returns the date as text
                week = date.fromisoformat(week[:10])
            if row["g_role"] == Role.LEAD:
                key = (week, row["g_kind"], row["g_tech"])
                self.leads[key] = self.leads.get(key, 0) + row["n"]
            else:
                self.helpers[row["g_tech"]] = self.helpers.get(row["g_tech"], 0) + row["n"]
        self.names = names

    def rolled_weeks(self):
        """Complete weeks inside the range that the rollup holds; none with a technician filter, which the rollup
        cannot answer (a job a technician helped on counts for its lead too)."""
        scope = self.scope
        if scope.technician is not None:
            return []
        first, last = scope.first_day, scope.last_day
        first_full = monday(first) if first.weekday() == 0 else monday(first) + timedelta(weeks=1)
        return list(
            JobRollupWeek.objects.filter(week__gte=first_full, week__lte=last - timedelta(days=6))
            .order_by("week").values_list("week", flat=True)
        )

    def _live_intervals(self, weeks):
        """[start, end) datetimes of the range not covered by `weeks`."""
        intervals, cursor = [], self.scope.start
        for week in weeks:
            start = _midnight(week)
            if start > cursor:
                intervals.append((cursor, start))
            cursor = _midnight(week + timedelta(weeks=1))
        if cursor < self.scope.end:
            intervals.append((cursor, self.scope.end))
        return intervals

    def _rows(self):
        scope = self.scope
        weeks = self.rolled_weeks()
        live = Q(pk__in=[])
        for start, end in self._live_intervals(weeks):
            live |= Q(completed_at__gte=start, completed_at__lt=end)
        helpers = scope.in_range(Job.helpers.through.objects, prefix="job__").filter(_prefixed(live, "job__"))
        parts = [
            lead_groups(scope.jobs().filter(live), site_type=False),
            helper_groups(helpers, by_week=False),
        ]
        if weeks:
            rolled = JobRollup.objects.filter(week__in=weeks)
            if scope.kind:
                rolled = rolled.filter(kind=scope.kind)
            if scope.site_type:
                rolled = rolled.filter(site_type=scope.site_type)
            parts.append(
                rolled.filter(role=Role.LEAD).order_by()
                .values(g_week=F("week"), g_kind=F("kind"), g_tech=F("technician_id"), g_role=F("role"))
                .annotate(n=Sum("jobs"))
            )
            parts.append(
                rolled.filter(role=Role.HELPER).order_by()
                .values(g_week=Value(None, output_field=DateField()), g_kind=Value(None, output_field=CharField()),
                        g_tech=F("technician_id"), g_role=F("role"))
                .annotate(n=Sum("jobs"))
            )
        return list(parts[0].union(*parts[1:], all=True))


def _prefixed(condition, prefix):
    """`condition` (a Q over Job fields) for a queryset that reaches the job through `prefix`."""
    prefixed = Q()
    prefixed.connector, prefixed.negated = condition.connector, condition.negated
    for child in condition.children:
        if isinstance(child, Q):
            prefixed.children.append(_prefixed(child, prefix))
        else:
            prefixed.children.append((f"{prefix}{child[0]}", child[1]))
    return prefixed
