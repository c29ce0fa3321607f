"""The queue and the scheduling sweep under real concurrency: threads on PostgreSQL, each with its own connection."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from callbacks.follow_ups import services as calls
from callbacks.follow_ups.models import FollowUpCall
from customers.models import Job
from servicedesk import roles
from tests.factories import SiteFactory, TechnicianFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def _completed_jobs(count, *, days_ago=3):
    site = SiteFactory()
    technician = TechnicianFactory()
    done = timezone.now() - timedelta(days=days_ago)
    return Job.objects.bulk_create(
        Job(customer_id=site.customer_id, site=site, kind=Job.Kind.SERVICE_CALL, status=Job.Status.COMPLETED,
            scheduled_start=done - timedelta(hours=1), scheduled_end=done, completed_at=done,
            lead_technician=technician)
        for _ in range(count)
    )


def _in_threads(workers, function):
    """Run `function(i)` in `workers` threads released at the same moment; returns their results."""
    barrier = threading.Barrier(workers)

    def run(i):
        try:
            barrier.wait()
            return function(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


def test_eight_csrs_claiming_from_a_queue_of_1000_calls_get_each_call_exactly_once(postgres):
    jobs = _completed_jobs(1000)
    due = timezone.now() - timedelta(hours=1)
    FollowUpCall.objects.bulk_create(
        FollowUpCall(job=job, customer_id=job.customer_id, due_at=due, next_attempt_at=due) for job in jobs
    )
    csrs = [UserFactory(username=f"csr{i}", role=roles.CSR) for i in range(8)]

    def work_the_queue(i):
        handed_out = []
        while (call := calls.call_claim_next(by=csrs[i])) is not None:
            handed_out.append(call.pk)
            # Finished, so "next call" moves on rather than handing back the call in hand.
            FollowUpCall.objects.filter(pk=call.pk).update(state=FollowUpCall.State.DONE, claimed_by=None,
                                                            claimed_until=None)
        return handed_out

    results = _in_threads(8, work_the_queue)

    every = [pk for handed_out in results for pk in handed_out]
    assert len(every) == 1000
    assert Counter(every).most_common(1)[0][1] == 1
    assert set(every) == set(FollowUpCall.objects.values_list("pk", flat=True))
    assert sum(1 for handed_out in results if handed_out) > 1  # the work really was shared


def test_ten_concurrent_sweeps_create_each_call_once(postgres):
    _completed_jobs(300)

    created = _in_threads(10, lambda i: calls.schedule_follow_up_calls())

    assert sum(created) == 300
    assert FollowUpCall.objects.count() == 300



def test_next_call_pressed_twice_at_once_by_one_csr_holds_one_call(postgres):
    jobs = _completed_jobs(2)
    due = timezone.now() - timedelta(hours=1)
    FollowUpCall.objects.bulk_create(
        FollowUpCall(job=job, customer_id=job.customer_id, due_at=due, next_attempt_at=due) for job in jobs
    )
    csr = UserFactory(username="carla", role=roles.CSR)
    first_press_claimed = threading.Event()

    def press(i):
        if i == 0:
            # The first press's transaction is still open (the page is slow) when the second press arrives.
            with transaction.atomic():
                call = calls.call_claim_next(by=csr)
                first_press_claimed.set()
                time.sleep(0.5)
            return call.pk
        first_press_claimed.wait()
        return calls.call_claim_next(by=csr).pk

    handed_out = _in_threads(2, press)

    assert handed_out[0] == handed_out[1]
    assert list(FollowUpCall.objects.held_by(csr).values_list("pk", flat=True)) == handed_out[:1]
