"""Issue 19, points 3 and 4: a delivery is checked on its raw body and stored first, once per event id; what is
refused stores nothing; a failed event keeps its error for a manager to retry; the sweep processes whatever still
waits; an older event never undoes a newer state, and replaying the inbox changes nothing."""

import json
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from customers.models import Customer, Job, Site
from servicedesk.integrations.intake.models import MAX_BODY, InboxEvent
from servicedesk.integrations.intake.services import inbox_event_process, inbox_sweep
from servicedesk.integrations.models import Integration
from servicedesk.models import Notification
from tests.reliability.test_replay_every_task import _failing_at, _writes_of

from .conftest import base64_secret, fixtures, signed

pytestmark = pytest.mark.django_db

GENERIC = fixtures("generic")


@pytest.fixture
def integration(integration_of):
    return integration_of(Integration.Kind.GENERIC)


@pytest.fixture
def housecall_pro(integration_of):
    return integration_of(Integration.Kind.HOUSECALL_PRO)


def _setup_site(deliver, integration):
    for kind in ("customer.created", "site.created", "equipment.created"):
        assert deliver(integration, GENERIC[kind]).status_code == 202


def test_the_same_delivery_three_times_is_one_event_and_one_job(deliver, integration, technicians):
    _setup_site(deliver, integration)
    body = json.dumps(GENERIC["job.scheduled"]).encode()
    answers = [deliver(integration, body, event_id="msg_same").status_code for _ in range(3)]

    assert answers == [202, 200, 200]
    assert InboxEvent.objects.filter(event_id="msg_same").count() == 1
    assert Job.objects.filter(external_id="J-500").count() == 1


def test_a_housecall_pro_retry_is_known_by_its_body_and_stored_once(deliver, housecall_pro, technicians):
    body = json.dumps(fixtures("housecall_pro")["job.scheduled"]).encode()
    first = deliver(housecall_pro, body)
    again = deliver(housecall_pro, body, at=time.time() + 30)  # a retry: signed again, later, the same event

    assert (first.status_code, again.status_code) == (202, 200)
    assert InboxEvent.objects.count() == 1 and Job.objects.count() == 1


def test_deliveries_that_fail_a_check_are_refused_and_store_nothing(client, deliver, integration, housecall_pro):
    body = json.dumps(GENERIC["customer.created"]).encode()
    good = signed(integration, body)
    refused = {
        "tampered body": (deliver(integration, body.replace(b"Ada", b"Eve"), headers=good), 401),
        "wrong secret": (deliver(integration, body, secret=base64_secret()), 401),
        "no signature": (deliver(integration, body, headers={}), 401),
        "stale timestamp": (deliver(integration, body, at=time.time() - 6 * 60), 401),
        "from the future": (deliver(integration, body, at=time.time() + 6 * 60), 401),
        "housecall pro, stale": (deliver(housecall_pro, body, at=time.time() - 6 * 60), 401),
        "housecall pro, wrong secret": (deliver(housecall_pro, body, secret="not-the-secret-at-all"), 401),
        "another integration's signature": (deliver(housecall_pro, body, headers=good), 401),
        "not JSON": (deliver(integration, b"customer=C-500&name=Ada"), 400),
        "a JSON list": (deliver(integration, b"[1, 2]"), 400),
        "a date no calendar has": (deliver(integration, b'{"type": "job.completed", "timestamp": '
                                                        b'"2026-13-45T10:00:00Z"}'), 400),
        "an event id too long": (deliver(integration, body, event_id="x" * 201), 400),
        "over 1 MiB": (deliver(integration, b'{"pad": "' + b"x" * MAX_BODY + b'"}'), 413),
    }
    unknown = client.post("/hooks/987654/", body, content_type="application/json", headers=good)

    assert {name: response.status_code for name, (response, _) in refused.items()} == {
        name: status for name, (_, status) in refused.items()}
    assert unknown.status_code == 404
    assert InboxEvent.objects.count() == 0 and Customer.objects.count() == 0


def test_an_event_kind_the_adapter_does_not_know_is_stored_and_marked_ignored(deliver, integration):
    response = deliver(integration, GENERIC["invoice.paid"])

    assert response.status_code == 202 and response.json()["state"] == "ignored"
    event = InboxEvent.objects.get()
    assert event.state == InboxEvent.State.IGNORED and "invoice.paid" in event.result


def test_an_older_event_arriving_late_does_not_undo_a_newer_state(deliver, integration, technicians):
    _setup_site(deliver, integration)
    deliver(integration, GENERIC["job.completed"])
    deliver(integration, GENERIC["job.scheduled"])  # sent before the completion, delivered after it

    job = Job.objects.get(external_id="J-500")
    assert job.status == Job.Status.COMPLETED
    late = InboxEvent.objects.get(kind="job.scheduled")
    assert late.state == InboxEvent.State.PROCESSED and "a later change is applied" in late.result


def test_replaying_the_whole_inbox_in_any_order_changes_nothing(deliver, integration, technicians):
    _setup_site(deliver, integration)
    for kind in ("job.scheduled", "job.rescheduled", "job.technicians_assigned", "job.completed", "job.cancelled",
                 "customer.updated", "site.updated"):
        deliver(integration, GENERIC[kind])

    def state():
        return (list(Job.objects.order_by("pk").values()), list(Customer.objects.values()),
                list(Site.objects.values()), sorted(Job.helpers.through.objects.values_list("job_id", "user_id")))

    before = state()
    InboxEvent.objects.update(state=InboxEvent.State.WAITING)
    for event in InboxEvent.objects.order_by("-pk"):  # newest first: the worst order
        inbox_event_process(event_pk=event.pk)

    assert state() == before
    assert not InboxEvent.objects.exclude(state=InboxEvent.State.PROCESSED).exists()


def test_a_failed_event_keeps_its_error_and_a_manager_retries_one_or_all(
    deliver, integration, client_for, manager, technicians, django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    deliver(integration, GENERIC["site.created"])  # its customer has not arrived yet
    deliver(integration, GENERIC["equipment.created"])
    failed = InboxEvent.objects.get(kind="site.created")
    assert failed.state == InboxEvent.State.FAILED and "C-500" in failed.result

    page = client_for(manager)
    # with the outbound webhook subscriptions the page lists (servicedesk/webhooks): one query more than before
    with django_assert_num_queries(9):
        response = page.get(reverse("integrations:detail", args=[integration.pk]))
    assert response.status_code == 200
    assert "Failed" in response.content.decode() and escape(failed.result) in response.content.decode()

    deliver(integration, GENERIC["customer.created"])
    with django_capture_on_commit_callbacks(execute=True):
        page.post(reverse("integrations:event_retry", args=[integration.pk, failed.pk]))
    failed.refresh_from_db()
    assert failed.state == InboxEvent.State.PROCESSED and failed.retried_by == manager
    assert Site.objects.filter(external_id="S-500").exists()

    with django_capture_on_commit_callbacks(execute=True):
        page.post(reverse("integrations:events_retry", args=[integration.pk]))
    assert InboxEvent.objects.get(kind="equipment.created").state == InboxEvent.State.PROCESSED
    assert "None: every event received" in page.get(reverse("integrations:detail", args=[integration.pk])
                                                    ).content.decode()


def test_the_sweep_processes_events_still_waiting_after_a_minute_and_only_those(deliver, integration, client,
                                                                                 technicians):
    body = json.dumps(GENERIC["customer.created"]).encode()
    # Stored, but the worker never told (the response answered before any task ran).
    client.post(f"/hooks/{integration.pk}/", body, content_type="application/json", headers=signed(integration, body))
    event = InboxEvent.objects.get()
    assert event.state == InboxEvent.State.WAITING

    assert inbox_sweep() == 0  # too young: its task may still come
    assert inbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 1
    assert inbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 0
    event.refresh_from_db()
    assert event.state == InboxEvent.State.PROCESSED and Customer.objects.filter(external_id="C-500").exists()


def test_processing_that_dies_at_any_write_leaves_the_event_waiting_and_a_later_run_applies_it_once(
    client, integration,
):
    """As a worker killed mid-event: its transaction never commits, the event still waits (the message comes back,
    acks_late, or the sweep finds it) and the next run applies it once."""
    body = json.dumps(GENERIC["customer.created"]).encode()
    client.post(f"/hooks/{integration.pk}/", body, content_type="application/json", headers=signed(integration, body))
    event = InboxEvent.objects.get()
    writes = _writes_of(lambda: inbox_event_process(event_pk=event.pk))
    assert writes >= 3  # the customer, its trail, the event

    for k in range(1, writes + 1):
        with pytest.raises(DatabaseError), _failing_at(k), transaction.atomic():
            inbox_event_process(event_pk=event.pk)
        event.refresh_from_db()
        assert (event.state, Customer.objects.count()) == (InboxEvent.State.WAITING, 0), f"write {k} of {writes}"
    inbox_event_process(event_pk=event.pk)
    inbox_event_process(event_pk=event.pk)

    event.refresh_from_db()
    assert event.state == InboxEvent.State.PROCESSED and event.attempts == 1
    assert Customer.objects.filter(external_id="C-500").count() == 1


def test_a_booking_reported_for_a_do_not_service_customer_is_imported_flagged_and_told_not_refused(
    deliver, integration, technicians, manager,
):
    _setup_site(deliver, integration)
    Customer.objects.filter(external_id="C-500").update(do_not_service=True)

    deliver(integration, GENERIC["job.scheduled"])

    event = InboxEvent.objects.get(kind="job.scheduled")
    assert event.state == InboxEvent.State.PROCESSED, event.result
    assert Job.objects.get(external_id="J-500").booked_in_dispatch_for_do_not_service is True
    assert Notification.objects.filter(recipient=manager, text__contains="do-not-service").exists()
