"""A potential callback is worked like any other but counts on nobody's rate until classified after diagnosis; each
classification moves the figures exactly, on the live count and the rollup alike, at once; a manager reclassifies
with a reason; a new problem makes the revisit billable with who and why on its trail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, CallbackEvent, Classification
from callbacks.recalls.services import callback_classify
from customers.models import JobEvent
from servicedesk.dashboards.callback_rollup import refresh, rolled_weeks
from servicedesk.dashboards.callbacks import CallbackDashboard
from servicedesk.dashboards.scorecard import Scorecard
from tests.servicedesk.dashboards.data import RootCause, State, callback, completed_job, ranges_and_filters, revisit
from tests.servicedesk.dashboards.test_callback_rollup import _figures, _live

pytestmark = pytest.mark.django_db


def _rate_figures(scope, technician):
    totals = CallbackDashboard(scope).totals
    mine = Scorecard(technician, scope.start, scope.end).callback_rate().rows[0]
    return (totals["came_back"], totals["callbacks"], totals["potential"], totals["unrelated"], mine["came_back"])


def test_a_potential_callback_counts_on_no_rate_until_classified_and_each_classification_moves_the_figures(
        alice, bob, csr, manager):
    year = ranges_and_filters(alice)[0]
    settled = callback(completed_job(alice, days_ago=60), root_cause=RootCause.WORKMANSHIP,
                       acknowledged_at=timezone.now() - timedelta(days=57))
    job = completed_job(alice, days_ago=40)
    potential = callback(job, classification=Classification.POTENTIAL, state=State.ACKNOWLEDGED,
                         acknowledged_at=job.completed_at + timedelta(days=2, hours=1))
    potential.revisit_job = revisit(potential, bob)
    potential.save()
    refresh()
    assert rolled_weeks(year), "the old weeks come from the rollup"

    # Logged as potential: worked, listed, but on nobody's rate (the team's or Alice's).
    assert _rate_figures(year, alice) == (1, 1, 1, 0, 1)
    assert _figures(year) == _live(year)
    assert settled in Callback.objects.counted() and potential not in Callback.objects.counted()

    # The technician finds it was our work: it counts, at once, live and from the rollup alike.
    callback_classify(callback=potential, by=bob, classification=Classification.OUR_WORK)
    assert _rate_figures(year, alice) == (2, 2, 0, 0, 2)
    assert _figures(year) == _live(year)
    refresh()
    assert _figures(year) == _live(year)

    # A manager reclassifies it a new problem after the rollup ran: off the rates the same minute.
    with pytest.raises(ValidationError, match="Only a manager"):
        callback_classify(callback=potential, by=csr, classification=Classification.NEW_PROBLEM, reason="x")
    with pytest.raises(ValidationError, match="Say why"):
        callback_classify(callback=potential, by=manager, classification=Classification.NEW_PROBLEM)
    callback_classify(callback=potential, by=manager, classification=Classification.NEW_PROBLEM,
                      reason="Different valve; ours was fine.")
    assert _rate_figures(year, alice) == (1, 1, 0, 1, 1)
    assert _figures(year) == _live(year)
    refresh()
    assert _figures(year) == _live(year)

    # And back to a manufacturer's part under warranty: counted as a faulty part, with its evidence.
    with pytest.raises(ValidationError) as refused:
        callback_classify(callback=potential, by=manager, classification=Classification.WARRANTY_PART,
                          reason="The supplier confirmed the batch.")
    assert set(refused.value.message_dict) == {"faulty_part", "part_supplier"}
    callback_classify(callback=potential, by=manager, classification=Classification.WARRANTY_PART,
                      reason="The supplier confirmed the batch.", faulty_part="Gas valve GV-400",
                      part_supplier="Ferguson")
    assert _rate_figures(year, alice) == (2, 2, 0, 0, 2)
    assert _figures(year) == _live(year)
    notes = list(potential.events.filter(action__in=["classified", "reclassified"]).values_list("action", "by",
                                                                                                "note"))
    assert notes == [
        ("classified", bob.pk, "Our work (a callback)."),
        ("reclassified", manager.pk, "Our work (a callback) → New / unrelated problem (not a callback). "
                                     "Different valve; ours was fine."),
        ("reclassified", manager.pk, "New / unrelated problem (not a callback) → Manufacturer's part under "
                                     "warranty. The supplier confirmed the batch."),
    ]


def test_a_new_problem_makes_the_revisit_billable_with_who_and_why(csr, technician, manager):
    job = completed_job(technician, days_ago=10)
    logged = services.callback_log(job=job, problem="Heater leaking again.", channel="phone", urgency="normal",
                                   logged_by=csr, potential=True)
    assert logged.classification == Classification.POTENTIAL
    assert "Potential callback" in logged.events.get(action=CallbackEvent.Action.LOGGED).note
    services.callback_acknowledge(callback=logged, by=csr)
    logged = services.callback_schedule_revisit(callback=logged, by=csr, technician=technician,
                                                start=timezone.now() + timedelta(hours=2))
    assert logged.revisit_job.no_charge

    with pytest.raises(ValidationError, match="Say what was found"):
        callback_classify(callback=logged, by=technician, classification=Classification.NEW_PROBLEM)
    callback_classify(callback=logged, by=technician, classification=Classification.NEW_PROBLEM,
                      reason="Cracked tank; our fitting is dry.")
    revisit_job = logged.revisit_job
    revisit_job.refresh_from_db()
    assert not revisit_job.no_charge
    trail = JobEvent.objects.get(job=revisit_job, action=JobEvent.Action.CHARGE_CHANGED)
    assert trail.by == technician
    assert "Billable: a new problem" in trail.note and "Cracked tank" in trail.note

    # Resolving it with a root cause of ours contradicts the classification: a manager's reclassification first.
    with pytest.raises(ValidationError, match="reclassifies"):
        services.callback_resolve(callback=logged, by=csr, root_cause=RootCause.WORKMANSHIP, resolution="x")
    resolved = services.callback_resolve(callback=logged, by=csr, root_cause=RootCause.UNRELATED,
                                         resolution="Quoted a new tank.")
    assert not resolved.counts_as_callback

    # Taken back by a manager: a callback after all, the revisit no charge again, the root cause of our work.
    callback_classify(callback=resolved, by=manager, classification=Classification.OUR_WORK,
                      reason="The tank cracked where we clamped it.", root_cause=RootCause.INSTALLATION)
    resolved.refresh_from_db()
    revisit_job.refresh_from_db()
    assert resolved.root_cause == RootCause.INSTALLATION and resolved.counts_as_callback
    assert revisit_job.no_charge


def test_resolving_a_potential_callback_classifies_it_from_the_root_cause(csr, technician):
    logged = services.callback_log(job=completed_job(technician), problem="No heat.", channel="phone",
                                   urgency="normal", logged_by=csr, potential=True)
    services.callback_acknowledge(callback=logged, by=csr)
    resolved = services.callback_resolve(callback=logged, by=csr, root_cause=RootCause.FAULTY_PART,
                                         resolution="Igniter failed.", faulty_part="Igniter HS-1",
                                         part_supplier="Johnstone", rma_reference="RMA-1", labour_hours=Decimal("1"))
    assert resolved.classification == Classification.WARRANTY_PART
    assert resolved.classified_by == csr
    assert resolved.events.filter(action=CallbackEvent.Action.CLASSIFIED).count() == 1


def test_only_staff_who_work_callbacks_classify_and_a_confirmed_one_only_by_a_manager(csr, technician, sales):
    logged = services.callback_log(job=completed_job(technician), problem="No heat.", channel="phone",
                                   urgency="normal", logged_by=csr)
    with pytest.raises(ValidationError, match="Only a manager"):
        callback_classify(callback=logged, by=technician, classification=Classification.NEW_PROBLEM, reason="x")
    potential = services.callback_log(job=completed_job(technician), problem="No heat.", channel="phone",
                                      urgency="normal", logged_by=csr, potential=True)
    with pytest.raises(ValidationError, match="technician or the office"):
        callback_classify(callback=potential, by=sales, classification=Classification.OUR_WORK)
    with pytest.raises(ValidationError, match="Choose"):
        callback_classify(callback=potential, by=csr, classification=Classification.POTENTIAL)
