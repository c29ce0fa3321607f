"""Concurrent claiming: twenty processes, each with its own connection to PostgreSQL, drain a queue of 1,000
follow-up calls through the real claim service: 1,000 claims of 1,000 distinct calls, no deadlock, no error.
An abandoned claim is back in the queue within its lease plus one run of the release sweep."""

import multiprocessing
import traceback
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from callbacks.follow_ups import services as calls
from callbacks.models import FollowUpCall
from servicedesk import roles
from servicedesk.celery import BEAT_SCHEDULE
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.callbacks.follow_ups.test_calls_concurrency import _completed_jobs
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

PROCESSES = 20
CALLS = 1000


def _deadlocks():
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _work_the_queue(csr_id, barrier, results):
    """One CSR in their own process: "next call" until the queue is empty, finishing each call taken."""
    connections.close_all()  # never share the parent's socket
    handed_out = []
    try:
        csr = UserFactory._meta.model.objects.get(pk=csr_id)
        barrier.wait(timeout=30)
        while (call := calls.call_claim_next(by=csr)) is not None:
            handed_out.append(call.pk)
            FollowUpCall.objects.filter(pk=call.pk, claimed_by=csr).update(
                state=FollowUpCall.State.DONE, claimed_by=None, claimed_until=None
            )
        results.put(("ok", handed_out))
    except Exception:  # noqa: BLE001 (reported to the test, which fails on it)
        results.put(("error", traceback.format_exc()))
    finally:
        connections.close_all()


def test_twenty_processes_drain_1000_calls_each_claimed_exactly_once(postgres):
    jobs = _completed_jobs(CALLS)
    due = timezone.now() - timedelta(hours=1)
    FollowUpCall.objects.bulk_create(
        FollowUpCall(job=job, customer_id=job.customer_id, due_at=due, next_attempt_at=due) for job in jobs
    )
    csrs = [UserFactory(username=f"csr{i}", role=roles.CSR).pk for i in range(PROCESSES)]
    deadlocks_before = _deadlocks()
    connections.close_all()  # the children fork from here: no open connection to inherit

    fork = multiprocessing.get_context("fork")
    barrier, results = fork.Barrier(PROCESSES), fork.Queue()
    processes = [fork.Process(target=_work_the_queue, args=(csr, barrier, results)) for csr in csrs]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    errors = [detail for status, detail in outcomes if status == "error"]
    assert errors == []
    every = [pk for _, handed_out in outcomes for pk in handed_out]
    assert len(every) == CALLS
    assert Counter(every).most_common(1)[0][1] == 1
    assert set(every) == set(FollowUpCall.objects.values_list("pk", flat=True))
    assert FollowUpCall.objects.filter(state=FollowUpCall.State.DONE).count() == CALLS
    assert sum(1 for _, handed_out in outcomes if handed_out) > PROCESSES // 2  # the work really was shared
    assert _deadlocks() == deadlocks_before
    assert all(process.exitcode == 0 for process in processes)


def test_an_abandoned_claim_is_back_in_the_queue_within_its_lease_plus_one_release_sweep(postgres):
    carla, dana = UserFactory(username="carla", role=roles.CSR), UserFactory(username="dana", role=roles.CSR)
    call = FollowUpCallFactory()
    claimed_at = timezone.now()
    assert calls.call_claim_next(by=carla, now=claimed_at).pk == call.pk  # then Carla closes the tab

    lease = timedelta(minutes=settings.FOLLOW_UP_CALL_CLAIM_MINUTES)
    sweep_interval = timedelta(seconds=BEAT_SCHEDULE["release abandoned call claims"]["every"])
    # Within the lease it is Carla's: the sweep leaves it, nobody else is handed it.
    assert calls.release_abandoned_claims(now=claimed_at + lease - timedelta(seconds=1)) == 0
    assert calls.call_claim_next(by=dana, now=claimed_at + lease - timedelta(seconds=1)) is None
    # The first sweep after the lease lapsed (at the latest one interval later) returns it.
    assert calls.release_abandoned_claims(now=claimed_at + lease + sweep_interval) == 1
    assert calls.call_claim_next(by=dana, now=claimed_at + lease + sweep_interval).pk == call.pk
