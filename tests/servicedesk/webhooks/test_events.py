"""Every event the issue names reaches a real receiver once, signed so that the Standard Webhooks library verifies
it, with the record as the API shows it; the outbox row is written in the change's own transaction."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from callbacks import services as callbacks
from callbacks.follow_ups import services as calls
from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from customers import services as customers
from recommendations import services as recommendations
from recommendations.models import Risk
from servicedesk.api.serializers import CallbackSerializer
from servicedesk.outbox import EVENT_TYPES, emit
from servicedesk.webhooks.models import Delivery, Event
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db

ATTEMPTS = [
    {"attempted_on": timezone.localdate() - timedelta(days=30), "channel": "phone",
     "what_happened": "Manager called; customer swore and hung up."},
    {"attempted_on": timezone.localdate() - timedelta(days=20), "channel": "in_person",
     "what_happened": "Free revisit offered; customer refused entry."},
]


def every_event(*, csr, manager, sales):
    """One pass through the trade that makes each of the fourteen events happen."""
    technician = TechnicianFactory()
    job = CompletedJobFactory()
    now = timezone.now()
    callback = callbacks.callback_log(job=job, problem="No heat again.", channel="phone", urgency="normal",
                                      logged_by=csr)
    callbacks.callback_acknowledge(callback=callback, by=csr)
    callbacks.callback_schedule_revisit(callback=callback, by=csr, technician=technician,
                                        start=now + timedelta(hours=3))
    callbacks.callback_resolve(callback=callback, by=manager, root_cause=Callback.RootCause.CUSTOMER_CAUSED,
                               resolution="Thermostat set to cool.")
    callbacks.callback_close(callback=callback, by=csr, confirmed=True, note="Warm now.")
    callbacks.callback_reopen(callback=callback, by=csr, reason="Cold again overnight.")
    callbacks.callback_log(job=CompletedJobFactory(equipment=job.equipment, customer=job.customer),
                           problem="Water under the unit.", channel="phone", urgency="normal", logged_by=csr)

    def raise_one(what):
        return recommendations.recommendation_raise(site=job.site, raised_by=technician, what=what,
                                                    risk=Risk.SHOULD_BE_DONE)

    recommendations.recommendation_accept(recommendation=raise_one("New filter rack"), by=csr, job=job)
    recommendations.recommendation_decline(recommendation=raise_one("Duct cleaning"), by=csr, reason="Too dear.")
    recommendations.recommendation_mark_failed_while_open(recommendation=raise_one("Replace igniter"), by=csr)
    recommendations.recommendation_pass_to_sales(recommendation=raise_one("New furnace"), by=csr, to=sales)

    call = FollowUpCallFactory()
    calls.call_claim(call=call, by=csr)
    calls.call_record_attempt(call=call, by=csr, outcome=FollowUpCall.Outcome.REACHED, satisfaction=5)
    customers.feedback_receive(job=job, kind="praise", text="Tom was great.")
    decision = customers.do_not_service_propose(customer=job.customer, by=csr, reasons="Abusive.", attempts=ATTEMPTS)
    customers.do_not_service_approve(decision=decision, by=manager)
    return callback


def test_every_event_type_reaches_the_receiver_once_signed_with_the_record_as_the_api_shows_it(
        receiver, subscribe, csr, manager, sales, django_capture_on_commit_callbacks):
    subscription, secret = subscribe(receiver.url)

    with django_capture_on_commit_callbacks(execute=True):
        callback = every_event(csr=csr, manager=manager, sales=sales)

    documents = receiver.verified(secret)
    assert {document["type"] for document in documents} == set(EVENT_TYPES)
    assert sorted(receiver.ids()) == sorted(set(receiver.ids())) == sorted(
        event.webhook_id for event in Event.objects.all())
    assert all(request.headers["Content-Type"] == "application/json" for request in receiver.requests)
    assert all(request.headers["User-Agent"].startswith("servicedesk-webhooks/") for request in receiver.requests)
    assert all(document["id"] == request.headers["webhook-id"] and document["version"] == 1
               for document, request in zip(documents, receiver.requests, strict=True))
    # The record as it was when the event happened: the last callback event is the reopening.
    reopened = next(document for document in documents if document["type"] == "callback.reopened")
    assert reopened["data"] == {**CallbackSerializer(Callback.objects.get(pk=callback.pk)).data}
    repeat = next(document for document in documents if document["type"] == "callback.repeat_detected")
    assert repeat["data"]["repeat_of_id"] == callback.pk and repeat["data"]["is_repeat"] is True
    assert Delivery.objects.filter(delivered_at=None).count() == 0


def test_a_subscription_gets_only_the_events_it_chose(receiver, subscribe, csr, django_capture_on_commit_callbacks):
    _, secret = subscribe(receiver.url, event_types=["feedback.received"])
    job = CompletedJobFactory()

    with django_capture_on_commit_callbacks(execute=True):
        callbacks.callback_log(job=job, problem="No heat.", channel="phone", urgency="normal", logged_by=csr)
        customers.feedback_receive(job=job, kind="concern", text="Still noisy.")

    assert [document["type"] for document in receiver.verified(secret)] == ["feedback.received"]
    assert Event.objects.count() == 1


def test_a_change_rolled_back_leaves_no_event_and_sends_nothing(receiver, subscribe, csr,
                                                                 django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    job = CompletedJobFactory()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            callbacks.callback_log(job=job, problem="No heat.", channel="phone", urgency="normal", logged_by=csr)
            assert Delivery.objects.count() == 1  # written with the callback, in its transaction
            raise RuntimeError("the request failed after logging")

    assert not Callback.objects.exists()
    assert not Event.objects.exists() and not Delivery.objects.exists()
    assert receiver.requests == []


def test_with_no_subscription_an_event_costs_one_query_and_writes_nothing(csr, django_assert_num_queries):
    job = CompletedJobFactory()
    with transaction.atomic():
        callback = callbacks.callback_log(job=job, problem="No heat.", channel="phone", urgency="normal",
                                          logged_by=csr)
        with django_assert_num_queries(1):
            emit("callback.logged", callback)
    assert not Event.objects.exists()
