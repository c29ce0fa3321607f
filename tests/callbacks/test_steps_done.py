"""Callback.steps_done: the recovery steps recorded on a callback as a bit mask (bit n: the n-th RecoveryStep.Step),
read by the dashboards instead of the steps themselves. It must equal the steps whoever writes them."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from callbacks import services
from callbacks.models import Callback, RecoveryStep
from servicedesk import demo
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory

pytestmark = pytest.mark.django_db

STEPS = list(RecoveryStep.Step)


def _mask(steps):
    return sum(1 << STEPS.index(step) for step in steps)


def _recorded():
    """steps_done as the steps themselves say it, for every callback."""
    bits = Case(*(When(step=step, then=Value(1 << n)) for n, step in enumerate(STEPS)), output_field=IntegerField())
    recorded = (
        RecoveryStep.objects.filter(callback=OuterRef("pk")).order_by().values("callback")
        .annotate(mask=Sum(bits)).values("mask")
    )
    return Coalesce(Subquery(recorded, output_field=IntegerField()), 0)


def _mismatches():
    return list(
        Callback.objects.annotate(recorded=_recorded()).exclude(steps_done=F("recorded"))
        .values_list("pk", "steps_done", "recorded")
    )


def test_a_new_callback_has_no_step_done(csr):
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat.", channel="phone", urgency="normal",
                                     logged_by=csr)

    callback.refresh_from_db()
    assert callback.steps_done == 0


def test_each_step_checked_through_the_service_sets_its_own_bit(csr):
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat.", channel="phone", urgency="normal",
                                     logged_by=csr)
    done = []
    for step in STEPS:
        services.callback_check_recovery_step(callback=callback, by=csr, step=step, answer_yes=False)
        done.append(step)

        callback.refresh_from_db()
        assert callback.steps_done == _mask(done), step
    assert callback.steps_done == 0xFF


def test_a_step_refused_by_the_service_changes_nothing(csr):
    callback = services.callback_log(job=CompletedJobFactory(), problem="No heat.", channel="phone", urgency="normal",
                                     logged_by=csr)
    services.callback_check_recovery_step(callback=callback, by=csr, step=RecoveryStep.Step.APOLOGISED)

    with pytest.raises(ValidationError, match="already checked"):
        services.callback_check_recovery_step(callback=callback, by=csr, step=RecoveryStep.Step.APOLOGISED)

    callback.refresh_from_db()
    assert callback.steps_done == _mask([RecoveryStep.Step.APOLOGISED])


def test_steps_written_directly_in_bulk_or_removed_keep_the_mask_equal_to_the_steps(manager):
    first, second, untouched = CallbackFactory(), CallbackFactory(), CallbackFactory()
    RecoveryStep.objects.create(callback=first, step=RecoveryStep.Step.URGENCY_SET, done_by=manager)
    RecoveryStep.objects.bulk_create([
        RecoveryStep(callback=first, step=RecoveryStep.Step.APOLOGISED, done_by=manager),
        RecoveryStep(callback=second, step=RecoveryStep.Step.OTHER_WORK, done_by=manager, answer_yes=True),
        RecoveryStep(callback=second, step=RecoveryStep.Step.FIX_EXPLAINED, done_by=manager),
    ])

    assert dict(Callback.objects.values_list("pk", "steps_done")) == {
        first.pk: _mask([RecoveryStep.Step.URGENCY_SET, RecoveryStep.Step.APOLOGISED]),
        second.pk: _mask([RecoveryStep.Step.OTHER_WORK, RecoveryStep.Step.FIX_EXPLAINED]),
        untouched.pk: 0,
    }

    RecoveryStep.objects.filter(callback=second, step=RecoveryStep.Step.OTHER_WORK).delete()
    RecoveryStep.objects.filter(callback=first).update(callback=second)

    assert dict(Callback.objects.values_list("pk", "steps_done")) == {
        first.pk: 0,
        second.pk: _mask([RecoveryStep.Step.FIX_EXPLAINED, RecoveryStep.Step.URGENCY_SET,
                          RecoveryStep.Step.APOLOGISED]),
        untouched.pk: 0,
    }
    assert _mismatches() == []


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "bulk_create"])
def test_the_demo_callbacks_steps_done_equal_their_steps(use_copy):
    plan = demo.Plan(jobs=400, customers=60, technicians=4, csrs=1, managers=1, sales=1, days_back=90)
    demo.seed(plan=plan, log=lambda text: None, use_copy=use_copy)

    assert RecoveryStep.objects.exists()
    assert Callback.objects.exclude(steps_done=0).exists()
    assert _mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_steps_written_at_the_same_time_by_eight_writers_are_all_counted(postgres, manager):
    callback = CallbackFactory()
    barrier = threading.Barrier(len(STEPS))

    def write(step):
        try:
            barrier.wait()
            with transaction.atomic():
                RecoveryStep.objects.create(callback_id=callback.pk, step=step, done_by=manager)
                # Still uncommitted while the others write theirs: each recount must wait for it, not miss it.
                time.sleep(0.2)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(STEPS)) as pool:
        list(pool.map(write, STEPS))

    callback.refresh_from_db()
    assert callback.steps_done == 0xFF
