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


def test_the_migration_renames_the_stored_step_and_the_mask_keeps_its_bit(manager):
    callback = CallbackFactory()
    call_command("migrate", "callbacks", "0010_callback_rollup_indexes", verbosity=0)
    for step in ("acknowledged", "apologised"):  # as recorded before: the 0008 triggers give "acknowledged" bit 1
        RecoveryStep.objects.create(callback=callback, step=step, done_by=manager)
    assert _stored(callback) == (["acknowledged", "apologised"], 0b11)

    call_command("migrate", verbosity=0)

    assert _stored(callback) == (["apologised", "listened"], 0b11)
    assert triggers.stale(connection) == []
    RecoveryStep.objects.filter(callback=callback, step="listened").delete()
    assert _stored(callback) == (["apologised"], 0b01)


def test_migrating_back_restores_the_old_step_and_its_triggers(manager):
    callback = CallbackFactory()
    RecoveryStep.objects.create(callback=callback, step=RecoveryStep.Step.LISTENED, done_by=manager)

    call_command("migrate", "callbacks", "0010_callback_rollup_indexes", verbosity=0)

    assert _stored(callback) == (["acknowledged"], 0b10)
    RecoveryStep.objects.create(callback=callback, step="fix_explained", done_by=manager)
    assert _stored(callback) == (["acknowledged", "fix_explained"], 0b1010)
    call_command("migrate", verbosity=0)
    assert _stored(callback) == (["fix_explained", "listened"], 0b1010)
