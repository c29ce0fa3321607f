"""Two sweeps and two workers at once over the same 50 outbox rows (their first messages lost): each event reaches
the receiver exactly once. Threads with their own database connections, on PostgreSQL's row locks."""

import random
import threading

import pytest
from django.db import connection
from django.utils import timezone

from servicedesk.webhooks import tasks
from servicedesk.webhooks.models import Attempt, Delivery, Event
from servicedesk.webhooks.outbox import document

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sweeps_and_two_workers_at_once_deliver_each_of_50_events_exactly_once(postgres, receiver, subscribe):
    subscription, secret = subscribe(receiver.url, ["feedback.received"])
    now = timezone.now()
    events = [Event(type="feedback.received", occurred_at=now) for _ in range(50)]
    for event in events:
        event.body = document(event_type=event.type, event_uuid=event.uuid, occurred_at=now, data={})
    Event.objects.bulk_create(events)
    rows = Delivery.objects.bulk_create(
        [Delivery(event=event, subscription=subscription, next_attempt_at=now, retry_from=now) for event in events])
    ids = [row.pk for row in rows]
    start = threading.Barrier(4)
    errors = []

    def run(work):
        try:
            start.wait()
            work()
        except Exception as exc:  # reported below: an assertion in a thread would be lost
            errors.append(exc)
        finally:
            connection.close()

    def sweeps():
        for _ in range(3):
            tasks.sweep_webhook_deliveries()

    def worker():
        for pk in random.sample(ids, len(ids)):
            tasks.deliver(pk)

    threads = [threading.Thread(target=run, args=(work,)) for work in (sweeps, sweeps, worker, worker)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(receiver.ids()) == sorted({event.webhook_id for event in events})
    assert len(receiver.verified(secret)) == 50
    assert Attempt.objects.count() == 50 and not Delivery.objects.pending().exists()
