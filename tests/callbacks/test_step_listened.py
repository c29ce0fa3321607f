"""callbacks 0011: the recovery step once stored as "acknowledged" (the callback state's name too) is "listened"."""

import pytest
from django.core.management import call_command
from django.db import connection

from callbacks.models import Callback, RecoveryStep
from servicedesk import triggers
from tests.callbacks.factories import CallbackFactory

pytestmark = pytest.mark.django_db


def _stored(callback):
    steps = sorted(RecoveryStep.objects.filter(callback=callback).values_list("step", flat=True))
    return steps, Callback.objects.values_list("steps_done", flat=True).get(pk=callback.pk)


def test_the_step_is_renamed_forward_and_back_and_the_mask_keeps_its_bit(manager):
    """One trip back to 0010 and forward again (each costs seconds of migrations): a step recorded as "listened"
    goes back to "acknowledged" with its triggers; steps recorded while back there come forward renamed."""
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

    call_command("migrate", verbosity=0)

    assert _stored(recorded_now) == (["fix_explained", "listened"], 0b1010)
    assert _stored(recorded_before) == (["apologised", "listened"], 0b11)
    assert triggers.stale(connection) == []
    RecoveryStep.objects.filter(callback=recorded_before, step="listened").delete()
    assert _stored(recorded_before) == (["apologised"], 0b01)
