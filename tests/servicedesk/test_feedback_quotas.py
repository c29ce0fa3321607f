"""A job's feedback quotas count only what was accepted, and belong to the job, not to one print of its link."""

from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from customers.models import Feedback
from servicedesk import tokens
from tests.callbacks.factories import CompletedJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def feedback_url(job):
    return reverse("public:feedback", args=[tokens.make_feedback_token(job)])


def complaint(**extra):
    return {"kind": "complaint", "text": "The furnace is blowing cold air again.", "rating": "2", **extra}


def test_empty_or_invalid_posts_do_not_use_up_the_hour(client, settings):
    settings.FEEDBACK_PER_LINK_PER_HOUR = 3
    settings.FEEDBACK_PER_ADDRESS_PER_HOUR = 3
    url = feedback_url(CompletedJobFactory())

    mistakes = [client.post(url, data).status_code for data in ({}, complaint(text=""), complaint(rating="9"))]
    mistakes += [client.post(url, complaint(kind="nonsense")).status_code]

    assert mistakes == [200, 200, 200, 200]
    assert client.post(url, complaint()).status_code == 302
    assert Feedback.objects.count() == 1


def test_every_print_of_the_leave_behind_shares_the_jobs_hourly_quota(client, settings):
    settings.FEEDBACK_PER_LINK_PER_HOUR = 2
    job = CompletedJobFactory()
    prints = []
    for minutes in range(3):  # three prints, each a new token
        with mock.patch("django.core.signing.time.time", return_value=signing.time.time() + 60 * minutes):
            prints.append(feedback_url(job))
    assert len(set(prints)) == 3

    statuses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(url, complaint()).status_code for n, url in enumerate(prints)
    ]

    assert statuses == [302, 302, 429]


def test_every_print_of_the_leave_behind_shares_the_jobs_cap(client, settings):
    settings.FEEDBACK_PER_LINK = 2
    job = CompletedJobFactory()
    for _ in range(2):
        assert client.post(feedback_url(job), complaint()).status_code == 302
        cache.clear()  # an hour later

    with mock.patch("django.core.signing.time.time", return_value=signing.time.time() + 86400):
        reprinted = feedback_url(job)

    assert client.get(reprinted).status_code == 429
    assert Feedback.objects.count() == 2
