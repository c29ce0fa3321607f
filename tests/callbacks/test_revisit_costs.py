"""Reopening loses no money and doubles no training: every revisit keeps its labour and parts (the callback's cost,
and the dashboards' cost panel, are their sum), and a callback has one training item per root cause."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, CallbackEvent, TrainingItem
from servicedesk.dashboards.callback_rollup import refresh
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.filters import DashboardFilterForm
from servicedesk.models import CallbackRollupWeek, Notification
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import TechnicianFactory
from tests.servicedesk.dashboards.data import completed_job

pytestmark = pytest.mark.django_db

State = Callback.State


def acknowledged(csr, job=None):
    callback = services.callback_log(job=job or CompletedJobFactory(), problem="No heat again.", channel="phone",
                                     urgency="normal", logged_by=csr)
    return services.callback_acknowledge(callback=callback, by=csr)


def revisit_and_resolve(callback, csr, *, labour_hours, parts_cost, root_cause="workmanship", no_charge=True,
                        resolution="Re-made the flue joint."):
    callback = services.callback_schedule_revisit(callback=callback, by=csr, technician=TechnicianFactory(),
                                                  start=timezone.now() + timedelta(hours=2), no_charge=no_charge)
    return services.callback_resolve(callback=callback, by=csr, root_cause=root_cause, resolution=resolution,
                                     labour_hours=labour_hours, parts_cost=parts_cost)


def reopened_and_fixed_twice(csr, job=None, *, second_no_charge=True):
    callback = revisit_and_resolve(acknowledged(csr, job), csr, labour_hours=Decimal("1.50"),
                                   parts_cost=Decimal("40.00"))
    first = callback.revisit_job
    callback = services.callback_reopen(callback=callback, by=csr, reason="Cold again the next morning.")
    callback = revisit_and_resolve(callback, csr, labour_hours=Decimal("2.00"), parts_cost=Decimal("60.00"),
                                   no_charge=second_no_charge, resolution="Replaced the inducer motor.")
    return callback, first


def test_a_second_revisit_adds_its_labour_and_parts_to_the_firsts(csr):
    callback, first = reopened_and_fixed_twice(csr)

    callback.refresh_from_db()
    assert (callback.labour_hours, callback.parts_cost) == (Decimal("3.50"), Decimal("100.00"))
    costs = list(callback.revisit_costs.values_list("revisit_job", "labour_hours", "parts_cost", "recorded_by"))
    assert costs == [
        (first.pk, Decimal("1.50"), Decimal("40.00"), csr.pk),
        (callback.revisit_job_id, Decimal("2.00"), Decimal("60.00"), csr.pk),
    ]


def test_a_fix_without_a_revisit_is_costed_too_and_one_with_no_figures_keeps_the_sum(csr):
    callback = services.callback_resolve(callback=acknowledged(csr), by=csr, root_cause="communication",
                                         labour_hours=Decimal("0.50"))
    callback = services.callback_reopen(callback=callback, by=csr, reason="Still confused by the thermostat.")
    callback = services.callback_resolve(callback=callback, by=csr, root_cause="communication")

    callback.refresh_from_db()
    assert (callback.labour_hours, callback.parts_cost) == (Decimal("0.50"), None)
    assert list(callback.revisit_costs.values_list("revisit_job", "labour_hours")) == [(None, Decimal("0.50"))]


def test_the_callback_page_lists_the_cost_of_each_revisit(client_for, csr):
    callback, first = reopened_and_fixed_twice(csr)

    body = client_for(csr).get(callback.get_absolute_url()).content.decode()

    assert "3.50 labour hours · $100.00 parts" in body
    costs = body[body.index('id="revisit-costs"'):]
    assert "1.50 h · $40.00" in costs and "2.00 h · $60.00" in costs


def test_a_second_workmanship_resolution_makes_no_second_training_item(csr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        callback, _first = reopened_and_fixed_twice(csr)

    item = TrainingItem.objects.get(callback=callback)
    assert item.root_cause == "workmanship" and item.what_happened == "Re-made the flue joint."
    assert callback.events.filter(action=CallbackEvent.Action.TRAINING).count() == 1
    assert Notification.objects.filter(recipient=item.technician, text__startswith="Training item").count() == 1


def test_a_different_cause_on_the_second_resolution_is_a_second_lesson(csr):
    callback = revisit_and_resolve(acknowledged(csr), csr, labour_hours=None, parts_cost=None)
    callback = services.callback_reopen(callback=callback, by=csr, reason="Not fixed")
    revisit_and_resolve(callback, csr, labour_hours=None, parts_cost=None, root_cause="misdiagnosis")

    assert sorted(TrainingItem.objects.filter(callback=callback).values_list("root_cause", flat=True)) == [
        "misdiagnosis", "workmanship"]


def test_the_database_keeps_one_training_item_per_callback_and_cause(csr):
    callback = revisit_and_resolve(acknowledged(csr), csr, labour_hours=None, parts_cost=None)
    item = TrainingItem.objects.get(callback=callback)

    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingItem.objects.create(callback=callback, root_cause=item.root_cause, technician=item.technician,
                                    what_happened="Again", due_on=item.due_on)


def _cost_panel():
    form = DashboardFilterForm({})
    assert form.is_valid(), form.errors
    rows = {row["cause"]: row for row in CallbackDashboard(form.scope()).cost().rows}
    return rows["Workmanship"]


def test_the_cost_panel_sums_every_revisit_and_counts_every_no_charge_one_live_and_rolled_up(csr):
    technician = TechnicianFactory()
    callback, _first = reopened_and_fixed_twice(csr, completed_job(technician, days_ago=40))
    # A charged second revisit is not a no-charge one.
    other, _ = reopened_and_fixed_twice(csr, completed_job(technician, days_ago=41), second_no_charge=False)
    expected = {"callbacks": 2, "labour_hours": Decimal("7.00"), "parts_cost": Decimal("200.00"),
                "no_charge_visits": 3}

    live = _cost_panel()
    refresh(full=True)
    assert CallbackRollupWeek.objects.exists()
    rolled = _cost_panel()

    assert {key: live[key] for key in expected} == expected
    assert {key: rolled[key] for key in expected} == expected
