"""A subscription cannot be pointed at the server's own network: refused at save, and again at send (the name is
resolved and checked each time, and the connection goes to the address checked); no redirect is followed; at
most 64 KiB of an answer is read."""

import logging

import pytest
from django.core.exceptions import ValidationError

from customers import services as customers
from servicedesk.webhooks import delivery, sending
from servicedesk.webhooks.models import Attempt, Delivery, Subscription
from tests.callbacks.factories import CompletedJobFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url, why", [
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://10.0.0.1/hooks", "private"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://[::1]/hooks", "loopback"),
    ("https://[::ffff:10.0.0.1]/hooks", "private"),
    ("https://localhost/hooks", "loopback"),  # a name resolving to loopback
    ("http://203.0.113.9/hooks", "https://"),
    ("https://user:pw@203.0.113.9/hooks", "password"),
    ("ftp://203.0.113.9/hooks", "https://"),
])
def test_a_url_to_our_own_network_or_not_https_is_refused_at_save(subscribe, settings, url, why):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        subscribe(url)
    assert why in " ".join(refused.value.message_dict["url"])
    assert not Subscription.objects.exists()


def test_only_the_hosts_the_setting_lists_may_be_private_or_plain_http(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    assert sending.check_url("http://127.0.0.1:8080/in").address == "127.0.0.1"
    with pytest.raises(sending.Refused, match="loopback"):
        sending.check_url("https://localhost:8080/in")  # the same address, by a name not listed


def test_an_address_that_turned_private_after_the_save_is_refused_at_send_and_logged(
        receiver, subscribe, settings, caplog, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["feedback.received"])
    # As if the receiver's name now answered a loopback address (DNS rebinding): an https URL, no host allowed.
    Subscription.objects.update(url=receiver.url.replace("http://", "https://"))
    settings.WEBHOOK_ALLOWED_HOSTS = []

    with caplog.at_level(logging.WARNING, logger="servicedesk.webhooks.sending"):
        with django_capture_on_commit_callbacks(execute=True):
            customers.feedback_receive(job=CompletedJobFactory(), kind="praise", text="Great work.")

    assert receiver.requests == []
    attempt = Attempt.objects.get()
    assert not attempt.delivered and "loopback" in attempt.error
    assert "refused" in caplog.text
    assert Delivery.objects.pending().count() == 1  # retried on schedule, in case the setting was the mistake


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["feedback.received"])
    receiver.answers = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")]

    with django_capture_on_commit_callbacks(execute=True):
        customers.feedback_receive(job=CompletedJobFactory(), kind="praise", text="Great work.")

    assert len(receiver.requests) == 1
    assert Attempt.objects.get().status_code == 302 and Delivery.objects.pending().count() == 1


def test_at_most_64_kib_of_an_answer_is_read_and_1_kib_kept(receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["feedback.received"])
    receiver.answers = [(200, {}, b"x" * 200_000)]

    with django_capture_on_commit_callbacks(execute=True):
        customers.feedback_receive(job=CompletedJobFactory(), kind="praise", text="Great work.")

    attempt = Attempt.objects.get()
    assert attempt.delivered and len(attempt.response_excerpt) == 1024
    assert sending.MAX_RESPONSE == 64 * 1024 and sending.TIMEOUT == 10


def test_a_delivery_held_by_a_killed_worker_is_sent_again_once_its_hold_lapses_and_only_once(
        receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["feedback.received"])
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        customers.feedback_receive(job=CompletedJobFactory(), kind="praise", text="Great work.")
    row = Delivery.objects.get()
    due = row.next_attempt_at

    assert delivery._claim(row.pk, due) == 1  # a worker takes it, and is killed before it records anything
    assert delivery.delivery_attempt(delivery_id=row.pk, now=due) is None  # held by the first claim
    assert delivery.deliveries_claim_due(now=due)[0] == []  # the sweep leaves it to its holder too
    later = due + delivery.CLAIM_LEASE * 2
    ids, claim = delivery.deliveries_claim_due(now=later)  # the hold lapsed: the sweep hands it on
    assert ids == [row.pk]
    assert delivery.delivery_attempt(delivery_id=row.pk, now=later) is None  # another worker: held by the sweep
    assert delivery.delivery_attempt(delivery_id=row.pk, now=later, claim=claim) is not None  # the sweep's task
    assert len(receiver.requests) == 2 and len(set(receiver.ids())) == 1
