"""The weekly job rollup gives exactly the figures of the live count, for every range and filter (a technician's
too), a refresh that runs twice writes the same rows, and the sweep rolls up the history it has not counted yet
on its own, a batch per run."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Job, Site
from servicedesk import demo, roles
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.filters import Scope, _midnight
from servicedesk.dashboards.rollup import REFRESH_WEEKS, JobCounts, monday, refresh, refresh_dashboard_rollup
from servicedesk.dashboards.scorecard import Scorecard
from servicedesk.models import JobRollup, JobRollupWeek

from .data import RootCause, callback, completed_job, ranges_and_filters

pytestmark = pytest.mark.django_db

TABLES = ("technicians", "job_kinds", "weekly", "root_causes")


def _data(alice, bob, carol):
    for days_ago in (0, 3, 9, 12, 20, 40, 41, 80, 200, 370):
        completed_job(alice, days_ago=days_ago)
        completed_job(bob, days_ago=days_ago, kind=Job.Kind.INSTALL, site_type=Site.SiteType.COMMERCIAL,
                      helpers=[carol])
    # A lead listed as a helper too counts once; a job with no lead counts for nobody but the team.
    completed_job(alice, days_ago=15, helpers=[alice, bob])
    completed_job(None, days_ago=16)
    job = completed_job(carol, days_ago=25, kind=Job.Kind.MAINTENANCE)
    callback(job, root_cause=RootCause.WORKMANSHIP)
    callback(completed_job(bob, days_ago=50, helpers=[alice]))
    callback(completed_job(alice, days_ago=33), root_cause=RootCause.UNRELATED)
    # Neither counts: a revisit is not a job, a scheduled job is not completed.
    completed_job(alice, days_ago=10, kind=Job.Kind.CALLBACK_REVISIT)
    scheduled = completed_job(alice, days_ago=11)
    Job.objects.filter(pk=scheduled.pk).update(status=Job.Status.SCHEDULED, completed_at=None)


def _figures(scope):
    dashboard = CallbackDashboard(scope)
    return {"totals": dashboard.totals, **{slug: dashboard.table(slug).rows for slug in TABLES}}


def _rollup_rows():
    rows = JobRollup.objects.values_list("week", "kind", "site_type", "technician_id", "role", "jobs")
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


def test_the_rollup_gives_the_live_figures_for_every_range_and_filter(alice, bob, carol):
    _data(alice, bob, carol)
    scopes = ranges_and_filters(alice)
    live = [_figures(scope) for scope in scopes]
    assert live[0]["totals"]["jobs"] == 23 and live[0]["totals"]["came_back"] == 2

    refresh(weeks=None)

    assert JobCounts(scopes[0]).rolled_weeks(), "the year's complete weeks come from the rollup"
    assert JobCounts(scopes[1]).rolled_weeks(), "so do the mid-range weeks of a range with partial ends"
    assert [_figures(scope) for scope in scopes] == live


def test_refreshing_twice_writes_the_same_rows_and_keeps_the_current_week_live(alice, bob, carol):
    _data(alice, bob, carol)
    refresh(weeks=None)
    first = _rollup_rows()
    refresh(weeks=None)
    refresh()

    assert _rollup_rows() == first
    this_week = monday(timezone.localdate())
    assert not JobRollupWeek.objects.filter(week__gte=this_week).exists()
    assert not JobRollup.objects.filter(week__gte=this_week).exists()


def test_a_job_completed_today_counts_at_once_and_a_late_one_at_the_next_refresh(alice):
    completed_job(alice, days_ago=20)
    refresh()
    today = timezone.localdate()
    scope = Scope(start=_midnight(today - timedelta(days=60)), end=_midnight(today + timedelta(days=1)))

    completed_job(alice, days_ago=0)
    assert CallbackDashboard(scope).totals["jobs"] == 2

    # Entered late (an import) into a week already rolled up: counted once the sweep recounts that week.
    completed_job(alice, days_ago=21)
    refresh()
    assert CallbackDashboard(scope).totals["jobs"] == 3


def test_no_rollup_and_no_jobs_gives_an_empty_range():
    today = timezone.localdate()
    scope = Scope(start=_midnight(today - timedelta(days=30)), end=_midnight(today + timedelta(days=1)))

    assert refresh(weeks=None) == 0
    assert CallbackDashboard(scope).totals["jobs"] == 0
    assert CallbackDashboard(scope).totals["rate"] is None


def test_reading_the_rollup_costs_no_more_queries_than_counting_live(client_for, manager, alice, bob, carol,
                                                                    django_assert_num_queries):
    _data(alice, bob, carol)
    refresh(weeks=None)
    client = client_for(manager)

    # As test_pages counts it (with the time on hold, issue 23): the callback rollup is empty here.
    with django_assert_num_queries(13):
        response = client.get(reverse("dashboards:callbacks"))
    assert response.context["dashboard"].totals["jobs"] == 23


def _forget_the_rollup():
    JobRollup.objects.all().delete()
    JobRollupWeek.objects.all().delete()


def test_the_sweep_rolls_up_the_history_it_has_not_counted_a_batch_per_run_newest_first(alice, bob, carol):
    _data(alice, bob, carol)  # jobs up to 370 days ago
    scopes = ranges_and_filters(alice)
    live = [_figures(scope) for scope in scopes]
    refresh(weeks=None)
    complete = _rollup_rows()
    _forget_the_rollup()
    this_week = monday(timezone.localdate())

    assert refresh(backfill=10) == REFRESH_WEEKS + 10
    newest = {this_week - timedelta(weeks=n) for n in range(1, REFRESH_WEEKS + 11)}
    assert set(JobRollupWeek.objects.values_list("week", flat=True)) == newest
    # Half rolled up: the weeks counted so far from the rollup, the older ones live, the same figures.
    assert [_figures(scope) for scope in scopes] == live

    task_runs = 0
    while refresh_dashboard_rollup() > REFRESH_WEEKS:
        task_runs += 1
    first_week = monday(timezone.localdate() - timedelta(days=370))
    assert task_runs == 2, "the other 37 or 38 weeks in two runs of the beat task (26 weeks a run)"
    assert JobRollupWeek.objects.count() == (this_week - first_week).days // 7
    assert _rollup_rows() == complete
    assert [_figures(scope) for scope in scopes] == live
    # Caught up, a run counts only the last weeks, and writes the same rows again.
    assert refresh() == REFRESH_WEEKS
    assert _rollup_rows() == complete


def _per_week_and_kind(counts):
    sums = {}
    for (week, kind, _lead), n in counts.leads.items():
        sums[week, kind] = sums.get((week, kind), 0) + n
    return sums


def test_a_technicians_jobs_come_from_the_rollup_and_match_the_live_count(alice, bob, carol):
    _data(alice, bob, carol)
    scopes = [replace(scope, technician=technician) for scope in ranges_and_filters(alice)[:4]
              for technician in (alice, bob, carol)]
    live = [_per_week_and_kind(JobCounts(scope, per_technician=False)) for scope in scopes]
    assert sum(live[0].values()) == 12, "alice led 11 jobs in the year (a revisit does not count), helped on 1"

    refresh(weeks=None)

    assert all(JobCounts(scope, per_technician=False).rolled_weeks() for scope in scopes)
    assert not JobCounts(scopes[0]).rolled_weeks(), "per technician, a technician filter is counted live"
    assert [_per_week_and_kind(JobCounts(scope, per_technician=False)) for scope in scopes] == live
    assert [_per_week_and_kind(JobCounts(scope)) for scope in scopes] == live


def test_the_scorecard_reads_the_same_figures_from_the_rollup_and_counts_today_at_once(alice, bob, carol):
    _data(alice, bob, carol)
    year = ranges_and_filters(alice)[0]
    live = {technician: Scorecard(technician, year.start, year.end).callback_rate().rows
            for technician in (alice, bob, carol)}

    refresh(weeks=None)
    assert {technician: Scorecard(technician, year.start, year.end).callback_rate().rows
            for technician in (alice, bob, carol)} == live

    completed_job(bob, days_ago=0, helpers=[alice])
    rows = Scorecard(alice, year.start, year.end).callback_rate().rows
    assert rows[0]["jobs"] == live[alice][0]["jobs"] + 1
    assert rows[1]["jobs"] == live[alice][1]["jobs"] + 1


def test_a_technicians_figures_from_the_team_pass_equal_their_own_dashboard(alice, bob, carol):
    _data(alice, bob, carol)
    refresh(weeks=None)
    for scope in ranges_and_filters(alice)[:2]:
        for technician in (alice, bob, carol):
            shared = CallbackDashboard(scope, technician=technician).technician_dashboard()
            own = CallbackDashboard(replace(scope, technician=technician))
            assert shared.totals == own.totals
            assert [table.rows for table in shared.tables()] == [table.rows for table in own.tables()]


def test_the_demo_company_is_loaded_with_its_history_rolled_up():
    # The roles come from a migration, which a browser test's flush may have emptied before this test.
    for role in roles.ALL_ROLES:
        Group.objects.get_or_create(name=role)
    plan = demo.Plan(jobs=400, customers=60, technicians=4, csrs=1, managers=1, sales=1, days_back=120)
    demo.seed(plan=plan, log=lambda text: None)
    this_week = monday(timezone.localdate())
    first = Job.objects.filter(status=Job.Status.COMPLETED).order_by("completed_at").first().completed_at
    first_week = monday(timezone.localtime(first).date())

    assert JobRollupWeek.objects.count() == (this_week - first_week).days // 7
    scope = ranges_and_filters(None)[0]
    rolled = _figures(scope)
    _forget_the_rollup()
    assert _figures(scope) == rolled


def test_the_scorecard_reads_the_rollup_in_as_many_queries_as_it_counts_live(client_for, manager, alice, bob, carol,
                                                                            django_assert_num_queries):
    _data(alice, bob, carol)
    client = client_for(manager)
    url = reverse("dashboards:scorecard", args=[alice.pk])

    with django_assert_num_queries(15):
        live = client.get(url)
    refresh(weeks=None)
    with django_assert_num_queries(15):
        rolled = client.get(url)
    assert rolled.context["dashboard"].mine.totals == live.context["dashboard"].mine.totals
    assert rolled.context["dashboard"].mine.totals["jobs"] == 12


def test_a_job_imported_into_a_week_already_counted_shows_after_a_recount(alice, bob, carol):
    _data(alice, bob, carol)
    refresh(weeks=None)
    completed_job(alice, days_ago=200)  # imported late, into a week the rollup holds
    year = ranges_and_filters(alice)[0]
    refresh()  # the sweep recounts only the last weeks
    stale = _figures(year)

    call_command("recount_dashboards", stdout=StringIO())
    recounted = _figures(year)
    _forget_the_rollup()

    assert recounted == _figures(year) != stale


def test_a_technicians_jobs_led_or_helped_on_are_counted_per_lead_and_per_helper(alice, bob, carol):
    _data(alice, bob, carol)
    completed_job(None, days_ago=17, helpers=[alice, carol])  # helped on a job nobody led
    completed_job(carol, days_ago=400, helpers=[alice])  # out of range
    scope = ranges_and_filters(alice)[5]
    in_range = Job.objects.filter(status=Job.Status.COMPLETED, completed_at__gte=scope.start,
                                  completed_at__lt=scope.end).exclude(kind=Job.Kind.CALLBACK_REVISIT)
    theirs = [job for job in in_range.prefetch_related("helpers")
              if job.lead_technician_id == alice.pk or alice in job.helpers.all()]
    leads, helpers = {}, {}
    for job in theirs:
        key = (monday(timezone.localtime(job.completed_at).date()), job.kind, job.lead_technician_id)
        leads[key] = leads.get(key, 0) + 1
        for helper in job.helpers.all():
            if helper.pk != job.lead_technician_id:
                helpers[helper.pk] = helpers.get(helper.pk, 0) + 1

    counts = JobCounts(scope)

    assert len(theirs) == 13 and helpers == {alice.pk: 2, bob.pk: 1, carol.pk: 1}
    assert (counts.leads, counts.helpers) == (leads, helpers)
