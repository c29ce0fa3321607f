"""A potential callback left unclassified after its revisit reminds its owner, then the managers, each once however
often the sweep runs; and the callback page's classification panel, for whom it is meant."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import Classification
from callbacks.recalls.reminders import remind_unclassified_callbacks
from callbacks.recalls.services import callback_classify
from servicedesk.celery import BEAT_SCHEDULE
from servicedesk.models import Notification
from tests.servicedesk.dashboards.data import completed_job

pytestmark = pytest.mark.django_db


def _revisited(csr, technician, *, potential=True):
    logged = services.callback_log(job=completed_job(technician), problem="Dripping again.", channel="phone",
                                   urgency="normal", logged_by=csr, potential=potential)
    services.callback_acknowledge(callback=logged, by=csr)
    logged = services.callback_schedule_revisit(callback=logged, by=csr, technician=technician,
                                                start=timezone.now())
    services.callback_revisits_done(job_ids=[logged.revisit_job_id], completed_by=technician)
    logged.refresh_from_db()
    return logged


def test_unclassified_reminds_the_owner_then_the_managers_once_each(settings, csr, technician, manager):
    settings.CALLBACK_CLASSIFY_DAYS = 2
    waiting = _revisited(csr, technician)
    _revisited(csr, technician, potential=False)  # confirmed: nothing to classify
    done = waiting.revisit_done_at

    assert remind_unclassified_callbacks(now=done + timedelta(days=1)) == 0
    assert remind_unclassified_callbacks(now=done + timedelta(days=2, minutes=1)) == 1
    assert remind_unclassified_callbacks(now=done + timedelta(days=3)) == 0
    assert remind_unclassified_callbacks(now=done + timedelta(days=4, minutes=1)) == 1
    assert remind_unclassified_callbacks(now=done + timedelta(days=5)) == 0
    sent = Notification.objects.filter(key__startswith="classify:").order_by("pk")
    assert [(n.recipient, n.kind) for n in sent] == [(csr, "reminder"), (manager, "escalation")]
    assert f"callback #{waiting.pk}" in sent[0].text and sent[0].url == waiting.get_absolute_url()

    # Once classified, no more.
    callback_classify(callback=waiting, by=technician, classification=Classification.OUR_WORK)
    Notification.objects.all().delete()
    assert remind_unclassified_callbacks(now=done + timedelta(days=9)) == 0
    assert "remind-unclassified-callbacks" in {entry.get("sweep") for entry in BEAT_SCHEDULE.values()}


def test_the_technician_classifies_from_the_page_and_a_manager_must_give_a_reason(client_for, csr, technician,
                                                                                  manager):
    waiting = _revisited(csr, technician)
    page = client_for(technician).get(waiting.get_absolute_url())
    assert "Classify after diagnosis" in page.content.decode()

    url = reverse("callbacks:classify", args=[waiting.pk])
    refused = client_for(technician).post(url, {"classification": "new_problem"})
    assert refused.status_code == 200 and "Say what was found" in refused.content.decode()
    done = client_for(technician).post(url, {"classification": "new_problem", "reason": "A new leak at the tap."})
    assert done.status_code == 302
    waiting.refresh_from_db()
    assert waiting.classification == Classification.NEW_PROBLEM

    assert client_for(technician).post(url, {"classification": "our_work", "reason": "x"}).status_code == 403
    page = client_for(manager).get(waiting.get_absolute_url()).content.decode()
    assert "Reclassify (managers, with a reason)" in page
    refused = client_for(manager).post(url, {"classification": "our_work"})
    assert "Say why the callback is reclassified." in refused.content.decode()
