"""Issues 19 and 20, "done when": for the integrations the rows are the truth. A worker SIGKILLed while it posts a
webhook, or while it processes an event the dispatch system sent, loses nothing: the sweep hands the row to the next
worker, and a webhook goes again under the same webhook-id. With Redis stopped while callbacks are logged, every
event waits in the outbox and is delivered once Redis is back."""

import http.server
import json
import threading
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from callbacks.services import callback_log
from customers.models import Customer
from servicedesk.integrations.intake.models import InboxEvent, RecordVersion
from servicedesk.integrations.intake.services import inbox_sweep, webhook_secret_set
from servicedesk.integrations.models import Integration
from servicedesk.webhooks.delivery import CLAIM_LEASE, deliveries_claim_due
from servicedesk.webhooks.models import Attempt, Delivery, Event
from servicedesk.webhooks.services import subscription_add
from servicedesk.webhooks.tasks import enqueue_on_commit, sweep_webhook_deliveries
from tests.callbacks.factories import CompletedJobFactory
from tests.servicedesk.intake.conftest import fixtures, signed
from tests.servicedesk.test_worker import _database_url
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class HoldingReceiver:
    """A receiver on loopback that keeps its first request waiting (until released) and answers the rest at once
    with 200; it records each request's headers and body."""

    def __init__(self):
        self.requests = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((dict(self.headers.items()), body))
                if not receiver.first_arrived.is_set():
                    receiver.first_arrived.set()
                    receiver.release.wait(30)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the worker that asked is dead
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def holding_receiver(settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")  # the workers' settings too
    receiver = HoldingReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def integration(manager):
    return Integration.objects.create(name="Dispatch board", created_by=manager)


def test_a_worker_killed_while_it_posts_a_webhook_loses_nothing_and_the_sweep_sends_it_under_the_same_id(
        workers, own_redis, app_sends_to, holding_receiver, integration, manager, csr):
    app_sends_to(own_redis.url)
    _, secret = subscription_add(integration=integration, label="Dispatch board", url=holding_receiver.url,
                                 event_types=["callback.logged"], by=manager)
    worker = workers.start("--concurrency", "1")
    callback_log(job=CompletedJobFactory(), problem="Leaking again", channel="phone", urgency="normal",
                 logged_by=csr)

    assert holding_receiver.first_arrived.wait(30), workers.logs()
    workers.kill(worker)  # mid-delivery: the receiver has the request, the worker never hears the answer
    delivery = Delivery.objects.get()
    assert delivery.delivered_at is None and not Attempt.objects.exists()

    # The sweep, once the dead worker's hold on the row has lapsed, hands it to the next worker.
    ids, claim = deliveries_claim_due(now=timezone.now() + CLAIM_LEASE + timedelta(seconds=1))
    assert ids == [delivery.pk]
    enqueue_on_commit(ids, claim=claim)
    workers.start("--concurrency", "1")

    assert wait_for(lambda: Delivery.objects.filter(pk=delivery.pk, delivered_at__isnull=False).exists(),
                    timeout=30), workers.logs()
    event = Event.objects.get()
    assert [headers["webhook-id"] for headers, _ in holding_receiver.requests] == [event.webhook_id] * 2
    assert {Webhook(secret).verify(body, headers)["type"] for headers, body in holding_receiver.requests} == {
        "callback.logged"}
    assert Attempt.objects.filter(delivery=delivery, delivered=True).count() == 1


def test_with_redis_stopped_while_callbacks_are_logged_every_event_is_delivered_once_it_is_back(
        workers, own_redis, app_sends_to, holding_receiver, integration, manager, csr):
    holding_receiver.release.set()  # answers everything at once
    app_sends_to(own_redis.url)
    _, secret = subscription_add(integration=integration, label="Dispatch board", url=holding_receiver.url,
                                 event_types=["callback.logged"], by=manager)
    own_redis.stop()
    for problem in ("No heat", "Leaking again"):
        callback_log(job=CompletedJobFactory(), problem=problem, channel="phone", urgency="normal", logged_by=csr)
    assert Delivery.objects.filter(delivered_at=None).count() == 2 and holding_receiver.requests == []

    own_redis.start()
    workers.start("--concurrency", "1")
    # The beat's sweep (every 30 seconds) finds the rows whose hand-over never reached the broker.
    assert sweep_webhook_deliveries() == 2

    assert wait_for(lambda: not Delivery.objects.filter(delivered_at=None).exists(), timeout=30), workers.logs()
    documents = [Webhook(secret).verify(body, headers) for headers, body in holding_receiver.requests]
    assert sorted(document["data"]["problem"] for document in documents) == ["Leaking again", "No heat"]
    assert len({headers["webhook-id"] for headers, _ in holding_receiver.requests}) == 2


def test_a_worker_killed_while_it_processes_a_dispatch_event_loses_nothing_and_the_sweep_processes_it(
        workers, own_redis, app_sends_to, client, manager):
    integration = Integration.objects.create(name="Dispatch system", created_by=manager)
    webhook_secret_set(integration=integration, by=manager)
    integration.refresh_from_db()
    payload = fixtures("generic")["customer.created"]
    external_id = payload["data"]["external_id"]
    # Another change to the same customer (an older one) holds its version row: the worker's processing waits on it.
    RecordVersion.objects.create(kind="customers", external_id=external_id,
                                 occurred_at=datetime(2026, 11, 1, tzinfo=UTC))
    holder = psycopg2.connect(_database_url())
    try:
        cursor = holder.cursor()
        cursor.execute("SELECT 1 FROM intake_recordversion WHERE external_id = %s FOR UPDATE", [external_id])
        app_sends_to(own_redis.url)
        worker = workers.start("--concurrency", "1")
        body = json.dumps(payload).encode()

        response = client.post(f"/hooks/{integration.pk}/", body, content_type="application/json",
                               headers=signed(integration, body))

        assert response.status_code == 202

        def waiting_on_the_lock():
            # Read outside the holder's transaction: inside one, PostgreSQL shows the activity as it first saw it.
            with connection.cursor() as watcher:
                watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                                "datname = current_database()")
                return watcher.fetchone()[0] == 1

        assert wait_for(waiting_on_the_lock, timeout=30), workers.logs()
        workers.kill(worker)  # mid-processing: its transaction never commits
    finally:
        holder.rollback()
        holder.close()

    # The sweep processes what still waits a minute after it arrived (once the dead worker's session is gone).
    assert wait_for(lambda: inbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 1, timeout=30)
    event = InboxEvent.objects.get()
    assert event.state == InboxEvent.State.PROCESSED and event.attempts == 1
    assert Customer.objects.filter(external_id=external_id).count() == 1
