"""The callback dashboard from its weekly rollup of settled callbacks gives exactly the live figures, for every table
and range, and stays exact when callbacks change after the rollup ran (logged on an old job, moved on, resolved,
a step done, a helper added, the job's lead corrected, deleted) and as time alone makes an open callback late;
every write the figures read is logged by the database, and a refresh that runs twice writes the same rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback, RecoveryStep, Urgency
from customers.models import Job
from servicedesk.dashboards import callback_rollup
from servicedesk.dashboards.callback_rollup import refresh, refresh_callback_rollup, rolled_weeks
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.rollup import monday
from servicedesk.dashboards.rollup import refresh as refresh_job_rollup
from servicedesk.models import CallbackChange, CallbackRollup, CallbackRollupWeek

from .data import RootCause, State, callback, completed_job, ranges_and_filters, revisit

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _data(alice, bob, carol):
    """Callbacks of every kind over a year: settled (resolved and contacted, closed, unrelated) and not (new,
    contacted but not resolved), several on one job, with helpers, revisits, costs and recovery steps."""
    callbacks = {}
    for days_ago in (3, 9, 20, 40, 41, 80, 150, 200, 300, 360):
        job = completed_job(alice, days_ago=days_ago, helpers=[carol])
        contacted = job.completed_at + timedelta(days=2, hours=5)
        fixed = callback(job, root_cause=RootCause.WORKMANSHIP, acknowledged_at=contacted,
                         labour_hours=Decimal("1.50"), parts_cost=Decimal("20.00"), urgency=Urgency.HIGH)
        fixed.revisit_job = revisit(fixed, bob, no_charge=days_ago % 2 == 0)
        fixed.save()
        RecoveryStep.objects.create(callback=fixed, step=RecoveryStep.Step.APOLOGISED, done_by=bob)
        callbacks[f"fixed {days_ago}"] = fixed
        other = completed_job(bob, days_ago=days_ago + 1, kind=Job.Kind.INSTALL)
        callbacks[f"closed {days_ago}"] = callback(other, root_cause=RootCause.FAULTY_PART, state=State.CLOSED,
                                                   acknowledged_at=other.completed_at + timedelta(days=3))
        callbacks[f"unrelated {days_ago}"] = callback(completed_job(carol, days_ago=days_ago + 2),
                                                      root_cause=RootCause.UNRELATED)
    # Not settled: never contacted, and contacted but not resolved; and a job with one settled callback and one
    # open one (a repeat), which is counted live as a whole.
    callbacks["new"] = callback(completed_job(alice, days_ago=60, helpers=[bob]), urgency=Urgency.EMERGENCY)
    waiting = completed_job(bob, days_ago=100)
    callbacks["waiting"] = callback(waiting, state=State.ACKNOWLEDGED,
                                    acknowledged_at=waiting.completed_at + timedelta(days=3))
    twice = completed_job(carol, days_ago=120, helpers=[alice])
    callbacks["twice, settled"] = callback(twice, root_cause=RootCause.MISDIAGNOSIS,
                                           acknowledged_at=twice.completed_at + timedelta(days=2, hours=1))
    callbacks["twice, open"] = callback(twice, days_after=9, is_repeat=True)
    return callbacks


def _figures(scope, now=None):
    dashboard = CallbackDashboard(scope, now=now)
    return {"totals": dashboard.totals, **{slug: dashboard.table(slug).rows for slug in dashboard.TABLES}}


def _live(scope, now=None):
    """The figures counted without the rollup (its weeks forgotten, then put back)."""
    try:
        with transaction.atomic():
            CallbackRollupWeek.objects.all().delete()
            figures = _figures(scope, now)
            raise _Rollback
    except _Rollback:
        return figures


def _rows():
    fields = [field.name for field in CallbackRollup._meta.fields if field.name != "id"]
    return sorted((tuple(row) for row in CallbackRollup.objects.values_list(*fields)), key=repr)


@pytest.fixture
def year():
    return ranges_and_filters(None)[0]


def test_the_rollup_gives_the_live_figures_of_every_table_for_every_range_and_filter(alice, bob, carol):
    _data(alice, bob, carol)
    refresh_job_rollup(weeks=None)
    scopes = ranges_and_filters(alice)
    live = [_figures(scope) for scope in scopes]
    assert live[0]["totals"]["callbacks"] == 24 and live[0]["totals"]["unrelated"] == 10

    refresh()

    assert len(rolled_weeks(scopes[0])) >= 50, "the year's complete weeks come from the rollup"
    assert rolled_weeks(scopes[1]), "so do the mid-range weeks of a range with partial ends"
    assert CallbackRollup.objects.filter(grouping="helper").exists()
    assert [_figures(scope) for scope in scopes] == live


def test_callbacks_changed_after_the_refresh_count_at_once(alice, bob, carol, year):
    callbacks = _data(alice, bob, carol)
    refresh()
    old_week = monday(timezone.localtime(callbacks["fixed 150"].job.completed_at).date())
    assert old_week in rolled_weeks(year)

    # Logged today on a job of an old week, moved on, resolved by a queryset update, a step done, a helper added,
    # the lead corrected, deleted: each shows at once, and its week is counted live until the next refresh.
    callback(callbacks["fixed 150"].job, days_after=100)
    assert old_week not in rolled_weeks(year)
    assert _figures(year) == _live(year)
    refresh()
    assert old_week in rolled_weeks(year)

    Callback.objects.filter(pk=callbacks["waiting"].pk).update(state=State.RESOLVED, root_cause=RootCause.INSTALLATION,
                                                               resolved_at=timezone.now())
    Callback.objects.filter(pk=callbacks["closed 200"].pk).update(state=State.RESOLVED)
    RecoveryStep.objects.create(callback=callbacks["fixed 300"], step=RecoveryStep.Step.FIX_EXPLAINED, done_by=bob)
    callbacks["fixed 80"].job.helpers.add(bob)
    Job.objects.filter(pk=callbacks["closed 40"].job_id).update(lead_technician=carol)
    callbacks["unrelated 360"].delete()
    assert _figures(year) == _live(year)
    assert refresh() >= 6
    assert _figures(year) == _live(year)
    assert not CallbackChange.objects.exists()


def test_time_alone_makes_an_open_callback_on_an_old_job_late(alice, bob, carol, year):
    _data(alice, bob, carol)
    refresh()
    now = timezone.now()
    in_a_week = now + timedelta(weeks=1)

    later = _figures(year, now=in_a_week)
    assert later == _live(year, now=in_a_week)
    assert later != _figures(year, now=now), "the never-contacted callback is later in a week's time"


def test_every_write_the_figures_read_logs_its_week_and_no_other(alice, bob, carol):
    job = completed_job(alice, days_ago=30)
    fixed = callback(job, root_cause=RootCause.WORKMANSHIP, acknowledged_at=job.completed_at + timedelta(days=2))
    CallbackChange.objects.all().delete()

    def logged():
        changes = list(CallbackChange.objects.values_list("job_completed_at", flat=True))
        CallbackChange.objects.all().delete()
        return changes

    Callback.objects.filter(pk=fixed.pk).update(problem="Cold air again, and a noise.", next_update_due_at=None)
    assert logged() == [], "nothing the figures read"
    Callback.objects.filter(pk=fixed.pk).update(state=State.CLOSED, closed_at=timezone.now())
    assert logged() == [job.completed_at]
    RecoveryStep.objects.create(callback=fixed, step=RecoveryStep.Step.ANYTHING_ELSE, done_by=bob)
    assert logged() == [job.completed_at]
    job.helpers.add(carol)
    assert logged() == [job.completed_at]
    with connection.cursor() as cursor:  # an operator's SQL, not the ORM
        cursor.execute("UPDATE customers_job SET kind = %s WHERE id = %s", [Job.Kind.INSTALL, job.pk])
    assert logged() == [job.completed_at]
    earlier = job.completed_at - timedelta(days=7)
    Job.objects.filter(pk=job.pk).update(completed_at=earlier)
    assert sorted(logged()) == [earlier, job.completed_at], "both weeks: the one it left and the one it joined"
    completed_job(alice, days_ago=3).helpers.add(carol)
    assert logged() == [], "a job with no callback"


def test_refreshing_twice_writes_the_same_rows_and_keeps_the_current_week_live(alice, bob, carol):
    callbacks = _data(alice, bob, carol)
    callback(completed_job(alice, days_ago=0), root_cause=RootCause.WORKMANSHIP, days_after=0,
             acknowledged_at=timezone.now())
    weeks = refresh()
    first = _rows()
    assert weeks >= 52 and first

    assert refresh() == 0, "nothing changed"
    assert refresh(full=True) == weeks
    assert refresh_callback_rollup() == 0
    assert _rows() == first
    this_week = monday(timezone.localdate())
    assert not CallbackRollupWeek.objects.filter(week__gte=this_week).exists()
    assert not CallbackRollup.objects.filter(week__gte=this_week).exists()
    twice = monday(timezone.localtime(callbacks["twice, open"].job.completed_at).date())
    assert not CallbackRollup.objects.filter(week=twice, grouping="total", callbacks__gt=0).exists(), (
        "a job with an unsettled callback is counted live, its settled one too"
    )


def test_the_dashboard_reads_both_rollups_in_a_constant_number_of_queries(client_for, manager, alice, bob, carol,
                                                                          django_assert_num_queries):
    _data(alice, bob, carol)
    refresh_job_rollup(weeks=None)
    refresh()
    client = client_for(manager)
    client.get(reverse("dashboards:callbacks"))

    # As many whatever the data: the callback rollup's two reads (its rows per week, job kind and lead; the other
    # groupings' sums) come on top of the live page's (with its time on hold, issue 23).
    with django_assert_num_queries(16):
        response = client.get(reverse("dashboards:callbacks"))
    assert response.context["dashboard"].totals["callbacks"] == 24
    for _ in range(3):
        _data(alice, bob, carol)
    refresh()
    with django_assert_num_queries(16):
        client.get(reverse("dashboards:callbacks"))


def test_a_filtered_dashboard_and_a_technicians_figures_are_counted_live(alice, bob, carol, year):
    _data(alice, bob, carol)
    refresh()
    CallbackRollup.objects.update(callbacks=1000)  # were it read, every figure would be wrong

    assert _figures(ranges_and_filters(alice)[2]) == _live(ranges_and_filters(alice)[2])
    assert _figures(ranges_and_filters(alice)[5]) == _live(ranges_and_filters(alice)[5])


def test_the_sweep_is_on_the_beat_schedule():
    from servicedesk.celery import BEAT_SCHEDULE, SWEEPS

    task = "servicedesk.dashboards.callback_rollup.refresh_callback_rollup"
    assert task in [entry["task"] for entry in BEAT_SCHEDULE.values()]
    assert SWEEPS["refresh-callback-rollup"] == task
    assert callback_rollup.refresh_callback_rollup.name == task
