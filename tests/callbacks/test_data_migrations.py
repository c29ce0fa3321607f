"""The callbacks' data migrations, in one trip back to 0010 and forward again (each way costs seconds):
0011, the recovery step once stored as "acknowledged" (the callback state's name too) is "listened"; 0017, each
callback's revisit cost becomes a row of its own and one training item is kept per callback and cause."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from callbacks.models import Callback, RecoveryStep, RevisitCost, TrainingItem
from customers.models import Job
from servicedesk import triggers
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory

pytestmark = pytest.mark.django_db


def _stored(callback):
    steps = sorted(RecoveryStep.objects.filter(callback=callback).values_list("step", flat=True))
    return steps, Callback.objects.values_list("steps_done", flat=True).get(pk=callback.pk)


def test_the_step_is_renamed_forward_and_back_and_the_mask_keeps_its_bit_and_revisit_costs_move_to_their_rows(
    manager, csr
):
    """A step recorded as "listened" goes back to "acknowledged" with its triggers; steps recorded while back there
    come forward renamed. A callback's cost kept on the callback (as before 0017) becomes its revisit's cost row,
    and of two training items for one cause the one done is kept."""
    costly = CallbackFactory(state="resolved", root_cause="workmanship", resolved_by=csr, resolved_at=timezone.now())
    revisit = CompletedJobFactory(kind=Job.Kind.CALLBACK_REVISIT, site=costly.site, equipment=costly.equipment)
    Callback.objects.filter(pk=costly.pk).update(revisit_job=revisit, labour_hours=Decimal("2.50"),
                                                 parts_cost=Decimal("75.00"))
    recorded_now = CallbackFactory()
    RecoveryStep.objects.create(callback=recorded_now, step=RecoveryStep.Step.LISTENED, done_by=manager)
    recorded_before = CallbackFactory()

    call_command("migrate", "callbacks", "0010_callback_rollup_indexes", verbosity=0)

    assert _stored(recorded_now) == (["acknowledged"], 0b10)
    RecoveryStep.objects.create(callback=recorded_now, step="fix_explained", done_by=manager)
    assert _stored(recorded_now) == (["acknowledged", "fix_explained"], 0b1010)
    for step in ("acknowledged", "apologised"):  # as recorded before: the 0008 triggers give "acknowledged" bit 1
        RecoveryStep.objects.create(callback=recorded_before, step=step, done_by=manager)
    assert _stored(recorded_before) == (["acknowledged", "apologised"], 0b11)
    call_command("migrate", "callbacks", "0016_revisit_done", verbosity=0)
    fields = {"callback": costly, "root_cause": "workmanship", "technician": costly.job.lead_technician,
              "what_happened": "x", "due_on": timezone.localdate()}
    first = TrainingItem.objects.create(**fields)
    done = TrainingItem.objects.create(**fields, done_on=timezone.localdate(), lesson="Torque the flue joint")

    call_command("migrate", verbosity=0)

    assert list(TrainingItem.objects.filter(callback=costly).values_list("pk", flat=True)) == [done.pk]
    assert first.pk != done.pk
    cost = RevisitCost.objects.get(callback=costly)
    assert (cost.revisit_job, cost.labour_hours, cost.parts_cost, cost.recorded_by) == (
        revisit, Decimal("2.50"), Decimal("75.00"), csr)

    assert _stored(recorded_now) == (["fix_explained", "listened"], 0b1010)
    assert _stored(recorded_before) == (["apologised", "listened"], 0b11)
    assert triggers.stale(connection) == []
    RecoveryStep.objects.filter(callback=recorded_before, step="listened").delete()
    assert _stored(recorded_before) == (["apologised"], 0b01)
