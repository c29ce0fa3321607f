"""The same callback posted twice at once (a double click, a retry on a slow line) is logged once."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, CallbackEvent, Urgency
from servicedesk.models import Notification
from tests.callbacks.factories import CompletedJobFactory


def log_form(job, problem="Water heater leaking again"):
    return {"customer": job.customer.pk, "job": job.pk, "problem": problem, "channel": "phone", "urgency": "high"}


@pytest.mark.django_db(transaction=True)
def test_the_same_callback_posted_twice_at_once_makes_one_callback_and_no_escalation(postgres, csr, manager):
    job = CompletedJobFactory()
    barrier = threading.Barrier(2)

    def post(_):
        client = Client()
        client.force_login(csr)
        try:
            barrier.wait()
            return client.post(reverse("callbacks:new"), log_form(job))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(post, range(2)))

    callback = Callback.objects.get()
    assert [response.status_code for response in responses] == [302, 302]
    assert {response.url for response in responses} == {callback.get_absolute_url()}
    assert not callback.is_repeat
    assert not CallbackEvent.objects.filter(action=CallbackEvent.Action.ESCALATED).exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_second_post_of_the_same_callback_seconds_later_returns_the_first(csr):
    job = CompletedJobFactory()
    now = timezone.now()
    first = services.callback_log(job=job, problem="Leaking", channel="phone", urgency=Urgency.NORMAL,
                                  logged_by=csr, now=now)

    again = services.callback_log(job=job, problem=" Leaking ", channel="phone", urgency=Urgency.NORMAL,
                                  logged_by=csr, now=now + timedelta(seconds=5))

    assert again == first and Callback.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["other words", "other person", "minutes later"])
def test_another_problem_person_or_time_is_another_callback(csr, manager, change):
    job = CompletedJobFactory()
    now = timezone.now()
    services.callback_log(job=job, problem="Leaking", channel="phone", urgency=Urgency.NORMAL, logged_by=csr, now=now)

    services.callback_log(
        job=job,
        problem="Still no hot water" if change == "other words" else "Leaking",
        channel="phone",
        urgency=Urgency.NORMAL,
        logged_by=manager if change == "other person" else csr,
        now=now + (services.DOUBLE_SUBMIT_WITHIN + timedelta(seconds=1) if change == "minutes later" else timedelta()),
    )

    assert Callback.objects.count() == 2
    assert Callback.objects.filter(is_repeat=True).count() == 1  # a real second callback on the job is a repeat
