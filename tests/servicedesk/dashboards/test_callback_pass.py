"""The one pass over the callbacks (callback_pass.py): its shortcuts give the figures of the plain queries."""

from datetime import timedelta
from decimal import Decimal

import pytest

from callbacks import services
from callbacks.models import RecoveryStep
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.filters import DashboardFilterForm

from .data import RootCause, State, callback, completed_job

pytestmark = pytest.mark.django_db


def _scope(**filters):
    form = DashboardFilterForm(filters)
    assert form.is_valid(), form.errors
    return form.scope()


def _rows(rows):
    return sorted(rows, key=repr)


@pytest.fixture
def jobs(alice, bob, dave):
    """Jobs that came back once, twice, only with an unrelated problem; helpers who also lead; other weeks."""
    twice = completed_job(alice, helpers=[dave, alice])  # alice leads and is listed as a helper: counted once
    callback(twice, root_cause=RootCause.WORKMANSHIP)
    callback(twice, days_after=5)
    callback(completed_job(alice, days_ago=40, helpers=[bob]), root_cause=RootCause.INSTALLATION)
    callback(completed_job(bob, days_ago=40, helpers=[alice, dave]))
    callback(completed_job(bob, days_ago=90, helpers=[dave]), root_cause=RootCause.UNRELATED)  # not counted
    callback(completed_job(dave, days_ago=3))
    completed_job(alice, helpers=[dave])  # no callback
    callback(completed_job(alice, days_ago=500), root_cause=RootCause.WORKMANSHIP)  # out of range


def test_jobs_that_came_back_per_week_and_per_helper_count_each_job_once(jobs, alice, bob, dave):
    facts = CallbackDashboard(_scope()).facts

    assert sum(row["came_back"] for row in facts["week"]) == 4 == facts["total"][0]["came_back"]
    assert {row["k_tech"]: row["came_back"] for row in facts["helper"]} == {dave.pk: 2, alice.pk: 1, bob.pk: 1}
    rows = {row["user_id"]: (row["jobs"], row["came_back"]) for row in CallbackDashboard(_scope()).technicians().rows}
    assert rows == {alice.pk: (4, 3), bob.pk: (3, 2), dave.pk: (5, 3)}


@pytest.mark.parametrize("who", ["alice", "bob", "dave"])
def test_a_technicians_figures_from_the_teams_pass_equal_the_pass_filtered_to_them(jobs, who, request):
    technician = request.getfixturevalue(who)

    mine = CallbackDashboard(_scope(), technician=technician).technician_dashboard().facts
    filtered = CallbackDashboard(_scope(technician=technician.pk)).facts

    assert set(mine) == set(filtered)
    for grouping in filtered:
        assert _rows(mine[grouping]) == _rows(filtered[grouping]), grouping


def test_steps_checked_through_the_service_are_not_skipped(alice, csr):
    job = completed_job(alice)
    logged = services.callback_log(job=job, problem="No heat.", channel="phone", urgency="normal", logged_by=csr,
                                   now=job.completed_at + timedelta(days=1))
    services.callback_acknowledge(callback=logged, by=csr)
    services.callback_check_recovery_step(callback=logged, by=csr, step=RecoveryStep.Step.APOLOGISED)
    callback(completed_job(alice), state=State.ACKNOWLEDGED)  # no step checked

    rows = {row["step"]: row for row in CallbackDashboard(_scope()).recovery_steps().rows}

    apologised = rows[RecoveryStep.Step.APOLOGISED.label]
    assert (apologised["expected"], apologised["skipped"], apologised["skip_rate"]) == (2, 1, Decimal("50.0"))
    acknowledged = rows[RecoveryStep.Step.LISTENED.label]
    assert (acknowledged["expected"], acknowledged["skipped"]) == (2, 2)
