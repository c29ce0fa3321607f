"""The weekly job rollup gives exactly the figures of the live count, for every range and filter, and a refresh
that runs twice writes the same rows."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Job, Site
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.filters import Scope, _midnight
from servicedesk.dashboards.rollup import JobCounts, monday, refresh
from servicedesk.models import JobRollup, JobRollupWeek

from .data import RootCause, callback, completed_job

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


def _scopes(alice):
    today = timezone.localdate()
    year = Scope(start=_midnight(today - timedelta(days=365)), end=_midnight(today + timedelta(days=1)))
    # Starts on a Wednesday and ends on a Thursday: partial weeks at both ends.
    wednesday = monday(today) - timedelta(weeks=8) + timedelta(days=2)
    mid_week = Scope(start=_midnight(wednesday), end=_midnight(wednesday + timedelta(days=36)))
    return [
        year,
        mid_week,
        Scope(start=year.start, end=year.end, kind=Job.Kind.INSTALL),
        Scope(start=year.start, end=year.end, site_type=Site.SiteType.RESIDENTIAL),
        Scope(start=year.start, end=year.end, technician=alice),
    ]


def test_the_rollup_gives_the_live_figures_for_every_range_and_filter(alice, bob, carol):
    _data(alice, bob, carol)
    scopes = _scopes(alice)
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

    with django_assert_num_queries(11):
        response = client.get(reverse("dashboards:callbacks"))
    assert response.context["dashboard"].totals["jobs"] == 23
