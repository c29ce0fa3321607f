"""Issue 18, point 2: importing history floods nobody. Jobs completed before the import, past the day their
follow-up call (or review request) would have been due, never get one, and the import preview says so."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.follow_ups.models import FollowUpCall
from callbacks.follow_ups.services import schedule_follow_up_calls
from customers.models import Job, ReviewRequest, ReviewRequestSettings
from customers.reviews import send_review_requests
from tests.factories import CustomerFactory, SiteFactory, TechnicianFactory

pytestmark = pytest.mark.django_db


def _jobs_file(*rows):
    lines = ["Job ID,Customer ID,Site ID,Kind,Status,Start,End,Technician,Completed at"]
    for job_id, days_ago in rows:
        done = timezone.localtime() - timedelta(days=days_ago)
        start, end = done - timedelta(hours=2), done
        lines.append(f"{job_id},C-1,S-1,service call,completed,{start:%Y-%m-%d %H:%M},{end:%Y-%m-%d %H:%M},"
                     f"technician,{done:%Y-%m-%d %H:%M}")
    upload = io.BytesIO("\n".join(lines).encode())
    upload.name = "history.csv"
    return upload


def test_imported_history_never_gets_a_follow_up_call_or_a_review_request_and_the_preview_says_so(
    client_for, manager, django_capture_on_commit_callbacks
):
    SiteFactory(customer=CustomerFactory(external_id="C-1"), external_id="S-1")
    TechnicianFactory(username="technician")
    ReviewRequestSettings.objects.create(pk=1, review_url="https://example.com/review", days_after=1)
    client = client_for(manager)

    # Ten days ago: the call (two days after a service call) was due eight days ago. An hour ago: due tomorrow.
    preview = client.post(reverse("customers:import"), {"kind": "jobs", "file": _jobs_file(("J-OLD", 10),
                                                                                           ("J-NEW", 0.04))})

    notes = preview.context["notes"]
    assert any("1 of the new jobs were completed before this import" in note and "never get a follow-up call"
               in note for note in notes)
    assert any("no review request" in note for note in notes)
    token = client.session["customers_import"]["token"]
    client.post(reverse("customers:import_confirm"), {"token": token})
    assert Job.objects.filter(external_id__in=["J-OLD", "J-NEW"]).count() == 2

    schedule_follow_up_calls()
    assert not FollowUpCall.objects.exists()  # no flood of calls due at once
    later = timezone.now() + timedelta(days=2, hours=1)
    schedule_follow_up_calls(now=later)
    assert list(FollowUpCall.objects.values_list("job__external_id", flat=True)) == ["J-NEW"]

    with django_capture_on_commit_callbacks(execute=True):
        send_review_requests(now=later)
    assert list(ReviewRequest.objects.values_list("job__external_id", flat=True)) == ["J-NEW"]
