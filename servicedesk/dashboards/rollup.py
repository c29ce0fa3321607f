"""Completed jobs per week, pre-counted: the denominator of every callback rate (issue 8, dashboards at a million jobs).

Twelve months of a large contractor is ~330,000 completed jobs; counting them per request took half a second.
JobRollup holds the same counts per week × job kind × site type × technician × role (lead, or helper), a few
thousand rows a year. The figures stay exact to the minute because only *complete past weeks* listed in
JobRollupWeek are read from it; the current week, the partial weeks at either end of a range, and any week the
sweep has not reached yet are counted live from the jobs table (a few thousand rows through the
(status, completed_at) index). With no rollup at all (a fresh install, the test database) everything is live.

The sweep recounts the last REFRESH_WEEKS complete weeks every few minutes (a job completed late, or corrected by
an import, lands in its week at the next run), and also counts up to BACKFILL_WEEKS older weeks that have no
rollup yet, newest first: a fresh install, or a bulk import of old jobs, is fully rolled up after a few runs with
no manual step, and no run takes more than a second or so. `refresh(weeks=None)` recounts all history at once
(`seed_demo` does, and an operator may after correcting old jobs). Each run replaces the weeks' rows in one
transaction under an advisory lock, so two runs at once, or a run repeated, leave the same rows.
"""

import logging
from dataclasses import replace
from datetime import date, timedelta
from operator import itemgetter

from celery import shared_task
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, F, IntegerField, Min, Q, Sum, Value, When
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from customers.models import Job
from servicedesk.models import JobRollup, JobRollupWeek

from .filters import Scope, _midnight
from .tables import people

log = logging.getLogger(__name__)
REFRESH_WEEKS = 6
# Weeks of history without rollup rows counted per run: ~0.5 s at a million jobs, three years in six runs.
BACKFILL_WEEKS = 26
Role = JobRollup.Role
_LOCK = 0x5D_0B_0A_4D  # pg_advisory_xact_lock key for the refresh


def monday(day):
    return day - timedelta(days=day.weekday())


def _week(prefix):
    return Cast(TruncWeek(f"{prefix}completed_at"), DateField())


def lead_groups(jobs, *, site_type=True, lead=True):
    """Completed jobs (a Job queryset, already in range and filtered) per week, kind, site type and lead (or
    with lead=False, the lead left empty)."""
    site = {"g_site": F("site__site_type")} if site_type else {}
    tech = F("lead_technician") if lead else Value(None, output_field=IntegerField())
    return (
        jobs.order_by()
        .values(g_week=_week(""), g_kind=F("kind"), **site, g_tech=tech,
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


def refresh(*, weeks=REFRESH_WEEKS, backfill=BACKFILL_WEEKS, today=None):
    """Recount the last `weeks` complete weeks (all of history with weeks=None), and up to `backfill` older weeks
    that have no rollup yet, newest first (the dashboards open on the last twelve months); returns the weeks
    written."""
    this_week = monday(today or timezone.localdate())
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Two refreshes at once would both delete, then both insert: one waits for the other instead, and
            # then sees the weeks the first one filled in.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        first = Job.objects.filter(status=Job.Status.COMPLETED).aggregate(first=Min("completed_at"))["first"]
        first_week = monday(timezone.localtime(first).date()) if first is not None else None
        if weeks is None:
            recent_start = min(first_week or this_week, this_week)
        else:
            recent_start = this_week - timedelta(weeks=weeks)
        counted = _mondays(recent_start, this_week)
        if first_week is not None and first_week < recent_start and backfill:
            rolled = set(
                JobRollupWeek.objects.filter(week__gte=first_week, week__lt=recent_start)
                .values_list("week", flat=True)
            )
            missing = [week for week in reversed(_mondays(first_week, recent_start)) if week not in rolled]
            counted = sorted(missing[:backfill]) + counted
        if counted:
            _recount(counted)
    return len(counted)


def _mondays(first_week, end_week):
    """The Mondays from `first_week` up to, not including, `end_week`."""
    return [first_week + timedelta(weeks=n) for n in range(max(0, (end_week - first_week).days // 7))]


def _recount(weeks):
    """Replace the rollup rows of `weeks` (sorted Mondays, in the past) with fresh counts; in a transaction."""
    intervals = week_intervals(weeks)
    completed = Q(pk__in=[])
    for start, end in intervals:
        completed |= Q(completed_at__gte=start, completed_at__lt=end)
    # The scope spans every interval, so the (status, completed_at) index bounds the scan; the Q picks the weeks.
    scope = Scope(start=intervals[0][0], end=intervals[-1][1])
    helpers = scope.in_range(Job.helpers.through.objects, prefix="job__").filter(_prefixed(completed, "job__"))
    columns = ("week", "kind", "site_type", "technician_id", "role", "jobs")
    quote = connection.ops.quote_name
    JobRollup.objects.filter(week__in=weeks).delete()
    for source in (lead_groups(scope.jobs().filter(completed)), helper_groups(helpers)):
        sql, params = source.query.sql_with_params()
        picked = ", ".join(f"s.{quote(alias)}" for alias in ("g_week", "g_kind", "g_site", "g_tech", "g_role", "n"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(JobRollup._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
                f"SELECT {picked} FROM ({sql}) s",
                params,
            )
    now = timezone.now()
    JobRollupWeek.objects.filter(week__in=weeks).update(refreshed_at=now)
    JobRollupWeek.objects.bulk_create([JobRollupWeek(week=week, refreshed_at=now) for week in weeks],
                                      ignore_conflicts=True)


def week_intervals(weeks):
    """[start, end) datetimes covering `weeks` (sorted Mondays), consecutive weeks merged."""
    intervals = []
    for week in weeks:
        start, end = _midnight(week), _midnight(week + timedelta(weeks=1))
        if intervals and intervals[-1][1] == start:
            intervals[-1] = (intervals[-1][0], end)
        else:
            intervals.append((start, end))
    return intervals


def seed_demo_rollup(demo):
    """The demo data step (servicedesk/demo/ lists it): the whole history rolled up, as the sweep leaves it after a
    few runs, so the dashboards (and `make bench`) read what a running deployment reads. It runs once the jobs
    exist; the later steps add only callback revisits, which the rollup leaves out."""
    weeks = refresh(weeks=None, today=demo.today)
    demo.log(f"dashboard rollup: {weeks:,} weeks counted")


@shared_task
def refresh_dashboard_rollup():
    weeks = refresh()
    log.info("dashboard rollup: %s weeks recounted", weeks)
    return weeks


class JobCounts:
    """Completed jobs in a scope: per (week, kind, lead) and per helper, from the rollup where it is complete and
    live elsewhere, in one query (plus one for the rolled-up weeks and one for the technicians' names).

    With per_technician=False only the per-(week, kind) counts are wanted (the lead is left empty and there are
    no helper counts): then a technician filter can be read from the rollup too, since a technician's jobs are
    exactly their lead rows plus their helper rows (a lead listed as a helper is counted once, as the lead)."""

    def __init__(self, scope, *, per_technician=True):
        self.scope = scope
        self.per_technician = per_technician
        rows = _fetch(self._rows(), ("g_week", "g_kind", "g_tech", "g_role", "n"))
        ids = {tech for _week, _kind, tech, _role, _n in rows if tech is not None}
        names = people(ids)
        self.leads, self.helpers = {}, {}
        for week, kind, tech, role, n in rows:
            if isinstance(week, str):  # SQLite returns the date as text
                week = date.fromisoformat(week[:10])
            if role == Role.LEAD:
                key = (week, kind, tech)
                self.leads[key] = self.leads.get(key, 0) + n
            else:
                self.helpers[tech] = self.helpers.get(tech, 0) + n
        self.names = names

    def rolled_weeks(self):
        """Complete weeks inside the range that the rollup holds; none with a technician filter when the counts
        are wanted per technician, which the rollup cannot answer (the other technicians on that technician's
        jobs are not in it)."""
        scope = self.scope
        if scope.technician is not None and self.per_technician:
            return []
        return list(
            JobRollupWeek.objects.filter(week__range=scope.whole_weeks())
            .order_by("week").values_list("week", flat=True)
        )

    def _rows(self):
        scope = self.scope
        weeks = self.rolled_weeks()
        live = Q(pk__in=[])
        for start, end in scope.outside(weeks):
            live |= Q(completed_at__gte=start, completed_at__lt=end)
        if scope.technician is not None and self.per_technician:
            parts = self._technician_parts(live)
        else:
            parts = [lead_groups(scope.jobs().filter(live), site_type=False, lead=self.per_technician)]
            if self.per_technician:
                helpers = scope.in_range(Job.helpers.through.objects, prefix="job__").filter(_prefixed(live, "job__"))
                parts.append(helper_groups(helpers, by_week=False))
        if weeks:
            rolled = JobRollup.objects.filter(week__in=weeks)
            if scope.kind:
                rolled = rolled.filter(kind=scope.kind)
            if scope.site_type:
                rolled = rolled.filter(site_type=scope.site_type)
            if not self.per_technician:
                if scope.technician is not None:
                    # A technician's lead rows and helper rows are disjoint (helper_groups leaves out the lead).
                    rolled = rolled.filter(technician_id=scope.technician.pk)
                else:
                    rolled = rolled.filter(role=Role.LEAD)
                parts.append(
                    rolled.order_by()
                    .values(g_week=F("week"), g_kind=F("kind"), g_tech=Value(None, output_field=IntegerField()),
                            g_role=Value(Role.LEAD, output_field=CharField()))
                    .annotate(n=Sum("jobs"))
                )
                return parts[0].union(*parts[1:], all=True)
            # Leads per (week, kind, lead), helpers per technician only: one read of the weeks' rows for both.
            lead = Q(role=Role.LEAD)
            parts.append(
                rolled.order_by()
                .values(g_week=Case(When(lead, then=F("week")), output_field=DateField()),
                        g_kind=Case(When(lead, then=F("kind")), output_field=CharField()),
                        g_tech=F("technician_id"), g_role=F("role"))
                .annotate(n=Sum("jobs"))
            )
        return parts[0].union(*parts[1:], all=True)


    def _technician_parts(self, live):
        """The live parts for one technician's jobs, per lead and per helper, as two disjoint sets that indexes
        find: the jobs they led, and the jobs they helped on that someone else led (or nobody). "Led or helped on"
        as one condition made PostgreSQL filter every completed job of the range (~330 ms for twelve months at a
        million jobs, against ~40)."""
        technician = self.scope.technician
        team = replace(self.scope, technician=None)
        helped = Job.helpers.through.objects.filter(user=technician).values("job_id")
        parts = []
        for theirs in (Q(lead_technician=technician), Q(pk__in=helped) & ~Q(lead_technician=technician)):
            jobs = live & theirs
            parts.append(lead_groups(team.jobs().filter(jobs), site_type=False))
            helpers = team.in_range(Job.helpers.through.objects, prefix="job__").filter(_prefixed(jobs, "job__"))
            parts.append(helper_groups(helpers, by_week=False))
        return parts


def _fetch(queryset, names):
    """The rows of a values() queryset as tuples of `names`, straight from the cursor: the week × kind × lead groups
    of a year are ~8,500 rows, and the ORM's dict and converters for each cost a third of the time spent in Python."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        pick = itemgetter(*(columns.index(name) for name in names))
        return [pick(row) for row in cursor.fetchall()]


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
