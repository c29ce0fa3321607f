"""Delivery against a real receiver on loopback: the same webhook-id on every retry, the retry schedule, a receiver
down and back, three days of failure, a rotated secret. Time passes by handing the services a later `now` and
running the sweep's claim (deliveries_claim_due) and the task's service (delivery_attempt) as beat and a worker
would."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from customers import services as customers
from servicedesk.models import Notification
from servicedesk.webhooks import delivery, services
from servicedesk.webhooks.models import Attempt, Delivery, Subscription
from tests.callbacks.factories import CompletedJobFactory

pytestmark = pytest.mark.django_db


def feedback(job=None, text="The new thermostat is great."):
    return customers.feedback_receive(job=job or CompletedJobFactory(), kind="praise", text=text)


def sweep(now):
    """What beat and the workers do at `now`: every due row attempted once."""
    ids, claim = delivery.deliveries_claim_due(now=now)
    return [delivery.delivery_attempt(delivery_id=pk, now=now, claim=claim) for pk in ids]


def test_a_receiver_failing_three_times_gets_the_fourth_attempt_with_the_same_webhook_id(
        receiver, subscribe, django_capture_on_commit_callbacks):
    _, secret = subscribe(receiver.url, ["feedback.received"])
    receiver.answers = [500, 503, (429, {"Retry-After": "5"}, b"slow down")]

    with django_capture_on_commit_callbacks(execute=True):
        feedback()
    row = Delivery.objects.get()
    for wait in [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)]:
        row.refresh_from_db()
        last = Attempt.objects.first().at
        assert wait * 0.9 <= row.next_attempt_at - last <= wait * 1.1  # the schedule, give or take its jitter
        now = row.next_attempt_at
        assert sweep(now - timedelta(seconds=1)) == []  # not yet
        sweep(now)

    row.refresh_from_db()
    assert row.delivered_at == now and row.retries == 3
    assert len(set(receiver.ids())) == 1 and len(receiver.requests) == 4
    assert [document["type"] for document in receiver.verified(secret)] == ["feedback.received"] * 4
    assert list(Attempt.objects.order_by("at").values_list("status_code", "delivered")) == [
        (500, False), (503, False), (429, False), (200, True)]
    assert Attempt.objects.get(status_code=429).response_excerpt == "slow down"


def test_the_retries_go_on_for_three_days_then_the_delivery_is_given_up():
    start = timezone.now()
    waits, now, retries = [], start, 0
    while True:
        retries += 1
        later = delivery.next_attempt_at(retries=retries, retry_from=start, now=now)
        if later is None:
            break
        waits.append(later - now)
        now = later
    schedule = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
                timedelta(hours=4), timedelta(hours=12), timedelta(hours=24), timedelta(hours=24)]
    assert all(0.9 * expected <= wait <= 1.1 * expected for wait, expected in zip(waits, schedule, strict=False))
    assert len(waits) == 9 and now == start + timedelta(days=3)  # the last attempt falls when three days are up


def test_a_receiver_down_for_hours_gets_every_event_once_it_is_back(
        receiver, subscribe, django_capture_on_commit_callbacks):
    _, secret = subscribe(receiver.url, ["feedback.received"])
    receiver.down()
    job = CompletedJobFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            feedback(job, text=f"Comment number {n}")
    start = timezone.now()
    for hours in (0.01, 0.05, 0.3, 2):  # the sweep runs while the receiver is down: every attempt refused
        sweep(start + timedelta(hours=hours))
    assert Delivery.objects.pending().count() == 5
    assert Attempt.objects.filter(delivered=False, status_code=None).exclude(error="").exists()

    receiver.up()
    sweep(start + timedelta(hours=8))

    assert sorted(document["data"]["text"] for document in receiver.verified(secret)) == [
        f"Comment number {n}" for n in range(5)]
    assert not Delivery.objects.pending().exists()
    assert Subscription.objects.get().failing_since is None


def test_three_days_of_failure_disables_the_subscription_tells_the_managers_and_enabling_sends_what_waited(
        receiver, subscribe, manager, other_manager, django_capture_on_commit_callbacks):
    subscription, secret = subscribe(receiver.url, ["feedback.received"])
    receiver.answers = [500] * 20
    with django_capture_on_commit_callbacks(execute=True):
        feedback(text="Before the outage.")
    start = Delivery.objects.get().retry_from
    for hours in (1, 5, 20, 48):
        sweep(start + timedelta(hours=hours))
        assert Subscription.objects.get().enabled
    with django_capture_on_commit_callbacks(execute=True):
        feedback(text="During the outage.")  # its first attempt fails too, then it waits
    with django_capture_on_commit_callbacks(execute=True):
        sweep(start + timedelta(days=3))

    subscription.refresh_from_db()
    assert not subscription.enabled and "three days" in subscription.disabled_reason
    told = Notification.objects.filter(text__contains="disabled")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["manager", "manager2"]
    assert Delivery.objects.pending().count() == 2  # nothing given up: both wait
    assert sweep(start + timedelta(days=5)) == []  # nothing is sent to a disabled subscription

    receiver.answers = []
    sent_before = len(receiver.requests)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.subscription_enable(subscription=subscription, by=manager) == 2

    texts = [document["data"]["text"] for document in receiver.verified(secret)[sent_before:]]
    assert sorted(texts) == ["Before the outage.", "During the outage."]
    assert not Delivery.objects.pending().exists()


def test_a_rotated_secret_and_the_previous_one_both_sign_for_24_hours(
        receiver, subscribe, manager, django_capture_on_commit_callbacks):
    subscription, old = subscribe(receiver.url, ["feedback.received"])
    new = services.subscription_rotate_secret(subscription=subscription, by=manager)
    assert new != old and len(Webhook(new)._whsecret) >= 32

    with django_capture_on_commit_callbacks(execute=True):
        feedback()
    assert receiver.verified(old) and receiver.verified(new)
    assert len(receiver.requests[0].headers["webhook-signature"].split(" ")) == 2

    subscription.refresh_from_db()
    assert subscription.signing_secrets(timezone.now() + timedelta(hours=25)) == [new]
