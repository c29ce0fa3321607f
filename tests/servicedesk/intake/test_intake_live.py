"""Issue 19, "done when": the signed fixtures of a day, delivered over real HTTP to a running server and processed
by the real worker, create and update the right rows; twenty concurrent copies of one delivery give one event and
one job; with the broker down a delivery is still stored and answered, and the sweep processes it later."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Job
from servicedesk.celery import app
from servicedesk.integrations.intake.models import InboxEvent
from servicedesk.integrations.intake.services import inbox_sweep
from servicedesk.integrations.models import Integration
from tests.servicedesk.test_worker import worker  # noqa: F401 (the suite's real worker, as a fixture)
from tests.waiting import wait_for

from .conftest import fixtures, signed

GENERIC = fixtures("generic")
DAY = ["customer.created", "site.created", "equipment.created", "job.scheduled", "job.rescheduled",
       "job.technicians_assigned", "job.started", "job.completed"]


def _post(url, body, headers):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_day_of_signed_events_over_http_is_processed_by_the_worker_and_duplicates_are_one(
    live_server, worker, integration_of, technicians,  # noqa: F811
):
    integration = integration_of(Integration.Kind.GENERIC)
    url = f"{live_server.url}/hooks/{integration.pk}/"

    for kind in DAY:
        body = json.dumps(GENERIC[kind]).encode()
        assert _post(url, body, signed(integration, body)) == 202, kind
    assert wait_for(lambda: not InboxEvent.objects.waiting().exists(), timeout=30)
    assert list(InboxEvent.objects.exclude(state=InboxEvent.State.PROCESSED).values_list("kind", "result")) == []
    job = Job.objects.get(external_id="J-500")
    assert job.status == Job.Status.COMPLETED and job.completed_elsewhere and job.helpers.count() == 1

    body = json.dumps(GENERIC["job.cancelled"]).encode()
    headers = signed(integration, body, event_id="msg_twenty_times")
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: _post(url, body, headers), range(20)))

    assert sorted(set(answers)) == [200, 202] and answers.count(202) == 1
    assert wait_for(lambda: Job.objects.filter(external_id="J-501").exists(), timeout=30)
    assert InboxEvent.objects.filter(event_id="msg_twenty_times").count() == 1
    assert Job.objects.filter(external_id="J-501").count() == 1


@pytest.fixture
def broker_down(monkeypatch):
    """The app's broker is one that is not there (nothing listens on port 9 of the loopback), then back."""
    before = app.conf.broker_url

    def point_at(url):
        # Drop the app's handles on its connection pools (kombu keeps a pool per broker URL, left open).
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    point_at("redis://127.0.0.1:9/0")
    yield
    for thread in threading.enumerate():  # the hand-over still trying the dead broker: let it give up first
        if thread.name == "inbox-hand-over":
            thread.join(timeout=30)
    monkeypatch.undo()
    point_at(before)


@pytest.mark.worker  # no eager tasks: the hand-over really goes to the (dead) broker
@pytest.mark.django_db
def test_with_the_broker_down_a_delivery_is_stored_and_answered_and_the_sweep_processes_it(
    client, integration_of, broker_down, django_capture_on_commit_callbacks,
):
    integration = integration_of(Integration.Kind.GENERIC)
    body = json.dumps(GENERIC["customer.created"]).encode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/hooks/{integration.pk}/", body, content_type="application/json",
                               headers=signed(integration, body))

    assert response.status_code == 202
    event = InboxEvent.objects.get()
    assert event.state == InboxEvent.State.WAITING
    assert inbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    event.refresh_from_db()
    assert event.state == InboxEvent.State.PROCESSED
