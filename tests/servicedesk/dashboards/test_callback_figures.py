"""The callback dashboard's figures, each on a hand-built data set with a known answer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from callbacks.models import RecoveryStep, Urgency
from customers.models import Job, Site
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.filters import DashboardFilterForm, Scope
from tests.factories import JobFactory

from .data import RootCause, State, callback, completed_job, revisit

pytestmark = pytest.mark.django_db


def _scope(**filters):
    form = DashboardFilterForm(filters)
    assert form.is_valid(), form.errors
    return form.scope()


def _dashboard(**filters):
    return CallbackDashboard(_scope(**filters))


def _by(table, key):
    return {row[key]: row for row in table.rows}


@pytest.fixture
def company(alice, bob, carol, dave):
    """8 completed jobs in the last year; 3 of them came back (one twice); one unrelated problem; noise around."""
    a1 = completed_job(alice)
    first = callback(a1, root_cause=RootCause.WORKMANSHIP, labour_hours=Decimal("2.00"), parts_cost=Decimal("50.00"))
    first.revisit_job = revisit(first, bob)
    first.save()
    callback(a1, days_after=20, is_repeat=True, repeat_of=first)  # second callback on the same job, not resolved
    a2 = completed_job(alice, kind=Job.Kind.MAINTENANCE)
    callback(a2, root_cause=RootCause.UNRELATED)
    a3 = completed_job(alice, kind=Job.Kind.INSTALL, site_type=Site.SiteType.COMMERCIAL, helpers=[dave])
    callback(a3, root_cause=RootCause.FAULTY_PART, state=State.CLOSED, faulty_part="Igniter",
             part_supplier="Ferguson", rma_reference="RMA-1")
    completed_job(alice)
    b1 = completed_job(bob)
    callback(b1)  # new: not resolved yet, so no root cause, and it counts
    completed_job(bob, kind=Job.Kind.MAINTENANCE)
    completed_job(carol)
    completed_job(carol)
    # Outside the figures: completed 400 days ago, not completed, and a cancelled job.
    callback(completed_job(alice, days_ago=400), root_cause=RootCause.WORKMANSHIP)
    JobFactory(lead_technician=alice)
    JobFactory(lead_technician=alice, status=Job.Status.CANCELLED)
    return {"a1": a1, "a3": a3, "b1": b1}


def test_callback_rate_counts_each_job_once_and_unresolved_callbacks_but_not_unrelated_problems(company):
    totals = _dashboard().totals

    assert totals["jobs"] == 8  # the revisit bob did is not a job that can come back
    assert totals["came_back"] == 3
    assert totals["rate"] == Decimal("37.5")
    assert totals["callbacks"] == 4
    assert totals["unresolved"] == 2
    assert totals["unrelated"] == 1
    assert totals["second_on_job"] == 1
    assert totals["repeats"] == 1


def test_rate_per_technician_charges_lead_and_helpers_and_shows_a_technician_with_no_callbacks(company):
    rows = _by(_dashboard().technicians(), "name")

    assert {name: (row["jobs"], row["came_back"], row["rate"]) for name, row in rows.items()} == {
        "Alice Ames": (4, 2, Decimal("50.0")),
        "Bob Byrne": (2, 1, Decimal("50.0")),
        "Carol Cho": (2, 0, Decimal("0.0")),
        "Dave Diaz": (1, 1, Decimal("100.0")),
    }
    assert {row["team_rate"] for row in rows.values()} == {Decimal("37.5")}


def test_rate_per_job_kind(company):
    rows = _by(_dashboard().job_kinds(), "kind")

    assert {kind: (row["jobs"], row["came_back"], row["rate"]) for kind, row in rows.items()} == {
        "Service call": (5, 2, Decimal("40.0")),
        "Maintenance": (2, 0, Decimal("0.0")),
        "Install": (1, 1, Decimal("100.0")),
    }


def test_filters_by_technician_job_kind_and_site_type(company, alice, dave):
    assert _dashboard(technician=alice.pk).totals["jobs"] == 4
    assert _dashboard(technician=alice.pk).totals["rate"] == Decimal("50.0")
    assert _dashboard(technician=dave.pk).totals["came_back"] == 1  # a helper's jobs count as theirs
    assert _dashboard(site_type="commercial").totals["rate"] == Decimal("100.0")
    assert _dashboard(kind="service_call").totals["came_back"] == 2


def test_filters_that_exclude_everything_show_no_rate_instead_of_dividing_by_zero(company):
    dashboard = _dashboard(kind=Job.Kind.ESTIMATE)

    assert dashboard.totals["jobs"] == 0
    assert dashboard.totals["rate"] is None
    assert dashboard.totals["faulty_part_rate"] is None
    assert dashboard.technicians().rows == []
    assert dashboard.root_causes().rows == []
    assert all(row["rate"] is None for row in dashboard.weekly().rows)
    assert dashboard.summary().cells.__next__()[2][1] == "—"


def test_no_jobs_in_range_shows_dashes(db):
    dashboard = CallbackDashboard(Scope(start=timezone.now() - timedelta(days=7), end=timezone.now()))

    assert dashboard.totals["rate"] is None
    assert [value for _column, value, _url in next(dashboard.summary().cells)] == ["0", "0", "—", "0", "0", "0"]


def test_root_causes_pareto_orders_by_count_with_cumulative_share_and_flags_faulty_parts(company):
    table = _dashboard().root_causes()

    assert [(row["cause"], row["callbacks"], row["share"], row["cumulative"]) for row in table.rows] == [
        ("Not found yet (still open)", 2, Decimal("50.0"), Decimal("50.0")),
        ("Faulty part", 1, Decimal("25.0"), Decimal("75.0")),
        ("Workmanship", 1, Decimal("25.0"), Decimal("100.0")),
    ]
    # 1 faulty-part callback on 8 completed jobs: 12.5 per 100 jobs against parts failing under 1% of the time.
    assert len(table.flags) == 1 and "12.5%" in table.flags[0]
    assert table.chart_data()["type"] == "pareto"


def test_faulty_part_under_the_baseline_is_not_flagged(alice):
    jobs = [completed_job(alice) for _ in range(101)]
    callback(jobs[0], root_cause=RootCause.FAULTY_PART, faulty_part="Igniter", part_supplier="Ferguson",
             rma_reference="RMA-2")

    table = _dashboard().root_causes()

    assert _dashboard().totals["faulty_part_rate"] == Decimal("1.0")
    assert table.flags == []


def test_repeat_callbacks_count_the_job_once_and_the_second_callback_apart(company):
    rows = {row["what"]: row["n"] for row in _dashboard().repeats().rows}

    assert rows == {
        "Jobs that came back": 3,
        "Second or later callbacks on the same job": 1,
        "Callbacks flagged as repeats when logged (same job, equipment or site)": 1,
    }


def test_cost_by_root_cause_with_no_charge_revisits(company):
    rows = _by(_dashboard().cost(), "cause")

    assert rows["Workmanship"]["labour_hours"] == Decimal("2.00")
    assert rows["Workmanship"]["parts_cost"] == Decimal("50.00")
    assert rows["Workmanship"]["no_charge_visits"] == 1
    assert rows["All callbacks"] == {"cause": "All callbacks", "callbacks": 4, "labour_hours": Decimal("2.00"),
                                     "parts_cost": Decimal("50.00"), "no_charge_visits": 1}


def test_fixing_technician_is_credited_separately(company):
    rows = _dashboard().fixes().rows

    assert rows == [{"name": "Bob Byrne", "fixed": 1, "closed": 0}]


def test_weekly_trend_by_week_of_completion(alice):
    scope = _scope()
    monday = scope.first_day - timedelta(days=scope.first_day.weekday())
    first_week = completed_job(alice, days_ago=(timezone.localdate() - monday).days - 1)
    completed_job(alice, days_ago=(timezone.localdate() - monday).days - 2)
    callback(first_week)
    last = completed_job(alice, days_ago=0)
    callback(last, root_cause=RootCause.UNRELATED, days_after=0)

    rows = CallbackDashboard(scope).weekly().rows

    assert rows[0]["week"] == monday
    assert (rows[0]["jobs"], rows[0]["came_back"], rows[0]["rate"]) == (2, 1, Decimal("50.0"))
    assert (rows[-1]["jobs"], rows[-1]["came_back"], rows[-1]["rate"]) == (1, 0, Decimal("0.0"))
    assert all(row["rate"] is None for row in rows[1:-1])
    assert len(rows) in (53, 54)


def test_time_to_first_contact_and_to_resolve_against_targets(alice):
    now = timezone.now()
    # Normal urgency: first contact within 24 h, revisit within 72 h (the defaults).
    on_time = callback(completed_job(alice), root_cause=RootCause.WORKMANSHIP)
    on_time.acknowledged_at = on_time.logged_at + timedelta(hours=2)
    on_time.resolved_at = on_time.logged_at + timedelta(hours=48)
    on_time.save()
    late = callback(completed_job(alice), root_cause=RootCause.INSTALLATION)
    late.acknowledged_at = late.logged_at + timedelta(hours=30)
    late.resolved_at = late.logged_at + timedelta(hours=96)
    late.save()
    waiting = callback(completed_job(alice, days_ago=10))  # logged 8 days ago, never contacted
    assert waiting.first_contact_due_at < now
    callback(completed_job(alice), urgency=Urgency.EMERGENCY, acknowledged_at=timezone.now(),
             root_cause=RootCause.UNRELATED)  # not counted

    rows = _by(_dashboard().response(), "urgency")

    assert list(rows) == ["Normal"]
    normal = rows["Normal"]
    assert normal["callbacks"] == 3
    assert (normal["contacted"], normal["contacted_on_time"], normal["waiting_late"]) == (2, 1, 1)
    assert normal["to_contact"] == timedelta(hours=16)
    assert normal["contact_on_time_rate"] == Decimal("50.0")
    assert (normal["resolved"], normal["resolved_on_time"]) == (2, 1)
    assert normal["to_resolve"] == timedelta(hours=72)
    assert normal["unresolved_late"] == 1
    assert normal["contact_target"] == timedelta(hours=24)


def test_recovery_steps_skipped_count_only_callbacks_past_the_step(alice, manager):
    acknowledged = callback(completed_job(alice), state=State.ACKNOWLEDGED)
    RecoveryStep.objects.create(callback=acknowledged, step=RecoveryStep.Step.APOLOGISED, done_by=manager)
    callback(completed_job(alice), state=State.CLOSED, root_cause=RootCause.WORKMANSHIP)  # every step skipped
    callback(completed_job(alice))  # new: no step is due yet
    callback(completed_job(alice), state=State.CLOSED, root_cause=RootCause.UNRELATED)  # not a callback

    rows = _by(_dashboard().recovery_steps(), "step")

    apologised = rows[RecoveryStep.Step.APOLOGISED.label]
    assert (apologised["expected"], apologised["skipped"], apologised["skip_rate"]) == (2, 1, Decimal("50.0"))
    acknowledged_step = rows[RecoveryStep.Step.LISTENED.label]
    assert (acknowledged_step["expected"], acknowledged_step["skipped"]) == (2, 2)
    other_work = rows[RecoveryStep.Step.OTHER_WORK.label]
    assert (other_work["expected"], other_work["skipped"]) == (1, 1)
    # Most skipped first.
    assert _dashboard().recovery_steps().rows[0]["skipped"] == 2


def test_open_callbacks_by_age_ignore_the_date_range_but_not_the_filters(alice, bob):
    now = timezone.now()
    callback(completed_job(alice, days_ago=500), days_after=490)  # logged 10 days ago, on an old job
    fresh = callback(completed_job(alice, days_ago=1), days_after=0)
    fresh.logged_at = now - timedelta(hours=3)
    fresh.due_at = fresh.logged_at + timedelta(hours=24)
    fresh.save()
    callback(completed_job(alice, days_ago=100), days_after=1, state=State.CLOSED, root_cause=RootCause.WORKMANSHIP)
    callback(completed_job(alice, days_ago=100), days_after=1, root_cause=RootCause.UNRELATED, state=State.RESOLVED)
    callback(completed_job(bob, days_ago=40), days_after=0)  # 40 days open

    counts = {row["age"]: row["n"] for row in _dashboard().open_by_age().rows}
    alices = {row["age"]: row["n"] for row in _dashboard(technician=alice.pk).open_by_age().rows}

    assert counts == {"Under 1 day": 1, "1–3 days": 0, "3–7 days": 0, "1–4 weeks": 1, "Over 4 weeks": 1}
    assert alices == {"Under 1 day": 1, "1–3 days": 0, "3–7 days": 0, "1–4 weeks": 1, "Over 4 weeks": 0}
    assert _dashboard().open_by_age().extra["overdue"] == 2
