"""Redis down never loses what a customer wrote: the public posts fall back to a database count or go through."""

import logging
import socket

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Feedback
from servicedesk import tokens
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port nothing listens on, as when the Redis container has stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }


def post_feedback(job, text="The furnace is blowing cold air again."):
    return Client().post(
        reverse("public:feedback", args=[tokens.make_feedback_token(job)]),
        {"kind": "complaint", "text": text, "rating": "2"},
        REMOTE_ADDR="198.51.100.7",
    )


def test_a_complaint_posted_while_redis_is_down_is_kept_and_thanked_for(redis_down, caplog):
    job = CompletedJobFactory()

    with caplog.at_level(logging.WARNING, logger="servicedesk.public.throttle"):
        response = post_feedback(job)

    assert response.status_code == 302 and "/thanks/" in response.url
    assert Feedback.objects.get().text == "The furnace is blowing cold air again."
    assert "the cache is unavailable" in caplog.text and "counting from the database" in caplog.text


def test_while_redis_is_down_the_hourly_limits_are_counted_from_the_database(redis_down, settings):
    settings.FEEDBACK_PER_ADDRESS_PER_HOUR = 2
    jobs = CompletedJobFactory.create_batch(3)

    statuses = [post_feedback(job).status_code for job in jobs]

    assert statuses == [302, 302, 429]
    assert Feedback.objects.count() == 2


def test_an_unsubscribe_posted_while_redis_is_down_goes_through(redis_down):
    customer = CustomerFactory(reminders_opt_in=True)

    response = Client().post(reverse("public:unsubscribe", args=[tokens.make_unsubscribe_token(customer)]))

    assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    customer.refresh_from_db()
    assert not customer.reminders_opt_in
