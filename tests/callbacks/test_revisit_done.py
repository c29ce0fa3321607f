"""A callback's revisit job completed, through whichever door, moves the callback on: "revisit done, awaiting
resolution", the revisit clock stopped, on its timeline; and the revisit's briefing says which callback it fixes."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, CallbackEvent
from callbacks.reminders import remind_callback_owners
from customers.importing import apply_import
from customers.models import Job
from customers.services import job_complete
from recommendations.models import Recommendation
from servicedesk.models import Notification
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import TechnicianFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db

State = Callback.State
BASE_QUERIES = 2  # what base.html and its context processors may add to every page


def revisit_booked(csr, *, technician=None, problem="The furnace blows cold air again.", start=None,
                   urgency="high"):
    """A callback with its revisit booked for an hour from now, as the CSR leaves it."""
    callback = services.callback_log(job=CompletedJobFactory(), problem=problem, channel="phone", urgency=urgency,
                                     logged_by=csr)
    callback = services.callback_acknowledge(callback=callback, by=csr)
    return services.callback_schedule_revisit(
        callback=callback, by=csr, technician=technician or TechnicianFactory(),
        start=start or timezone.now() + timedelta(hours=1),
    )


def test_completing_the_revisit_job_moves_the_callback_to_revisit_done_on_its_timeline(csr):
    callback = revisit_booked(csr)
    revisit = callback.revisit_job

    job_complete(job=revisit, completed_by=revisit.lead_technician, summary="Replaced the cracked igniter.")

    callback.refresh_from_db()
    assert callback.state == State.REVISIT_DONE
    assert callback.get_state_display() == "Revisit done, awaiting resolution"
    assert callback.revisit_done_at == Job.objects.get(pk=revisit.pk).completed_at
    event = callback.events.get(action=CallbackEvent.Action.REVISIT_DONE)
    assert (event.by, event.job, event.from_state, event.to_state) == (
        revisit.lead_technician, revisit, State.REVISIT_SCHEDULED, State.REVISIT_DONE)
    assert "Replaced the cracked igniter." in event.note


def test_a_done_revisit_stops_the_revisit_clock_on_the_callback_page(client_for, csr):
    callback = revisit_booked(csr)
    page = client_for(csr).get(callback.get_absolute_url()).content.decode()
    assert "Revisit</strong>" in page  # "Revisit due in ..." before the visit

    job_complete(job=callback.revisit_job, completed_by=callback.revisit_job.lead_technician, summary="Fixed.")

    page = client_for(csr).get(callback.get_absolute_url()).content.decode()
    assert "Revisit</strong>" not in page
    assert "Resolution</strong>" in page and "due in 23" in page
    assert "Revisit done, awaiting resolution" in page
    timeline = page[page.index('id="callback-timeline"'):]
    assert "Revisit done" in timeline and "Fixed." in timeline
    assert 'action="' + reverse("callbacks:resolve", args=[callback.pk]) in page


def test_a_done_revisit_gets_no_overdue_revisit_reminder_and_a_resolution_one_a_day_later(csr):
    callback = revisit_booked(csr, urgency="emergency")  # the revisit due within 4 hours
    job_complete(job=callback.revisit_job, completed_by=callback.revisit_job.lead_technician, summary="Fixed.")
    callback.refresh_from_db()

    past_the_revisit_target = callback.revisit_due_at + timedelta(hours=1)
    assert callback.revisit_done_at + timedelta(days=1) > past_the_revisit_target
    assert remind_callback_owners(now=past_the_revisit_target) == 0

    assert remind_callback_owners(now=callback.revisit_done_at + timedelta(days=1, minutes=1)) == 1
    reminder = Notification.objects.get(recipient=csr, kind=Notification.Kind.REMINDER)
    assert "resolution overdue" in reminder.text and "revisit" not in reminder.text


def test_the_owner_hears_the_revisit_is_done_and_resolves_from_there(csr, django_capture_on_commit_callbacks):
    callback = revisit_booked(csr)
    with django_capture_on_commit_callbacks(execute=True):
        job_complete(job=callback.revisit_job, completed_by=callback.revisit_job.lead_technician, summary="Fixed.")
    assert Notification.objects.filter(recipient=csr, text__contains="Revisit done for callback").exists()

    callback = services.callback_resolve(callback=callback, by=csr, root_cause="workmanship", resolution="Igniter")

    assert callback.state == State.RESOLVED
    assert list(callback.events.values_list("to_state", flat=True))[-3:] == [
        State.REVISIT_DONE, State.RESOLVED, ""]  # the last: the training item


def test_reopening_a_callback_clears_its_revisit_done(csr):
    callback = revisit_booked(csr)
    job_complete(job=callback.revisit_job, completed_by=callback.revisit_job.lead_technician, summary="Fixed.")
    callback = services.callback_resolve(callback=callback, by=csr, root_cause="customer_caused")

    callback = services.callback_reopen(callback=callback, by=csr, reason="Cold again")

    assert callback.state == State.ACKNOWLEDGED and callback.revisit_done_at is None
    assert callback.clock().label == "Revisit"


def test_a_revisit_completed_in_the_admin_moves_its_callback_on(csr):
    callback = revisit_booked(csr)
    revisit = callback.revisit_job
    manager = UserFactory(username="admin-manager", is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/customers/job/")
    request.user = manager
    job_admin = admin.site._registry[Job]
    form = job_admin.get_form(request, revisit)(instance=revisit)

    revisit.status, revisit.completed_at = Job.Status.COMPLETED, timezone.now()
    job_admin.save_model(request, revisit, form, change=True)

    callback.refresh_from_db()
    assert callback.state == State.REVISIT_DONE
    assert callback.events.get(action=CallbackEvent.Action.REVISIT_DONE).by == manager


def test_a_revisit_completed_by_an_import_moves_its_callback_on(csr, settings):
    settings.TIME_ZONE = "UTC"
    callback = revisit_booked(csr, start=timezone.now().replace(microsecond=0) - timedelta(hours=3))
    revisit = callback.revisit_job
    callback.site.__class__.objects.filter(pk=callback.site_id).update(external_id="L-77")
    Job.objects.filter(pk=revisit.pk).update(external_id="R-77")
    start = revisit.scheduled_start.strftime("%Y-%m-%d %H:%M")
    done = (revisit.scheduled_start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    data = (
        "Job #,Location ID,Job Type,Job Status,Start,End,Completed On,Description\n"
        f"R-77,L-77,callback,Completed,{start},{done},{done},Reseated the flame sensor\n"
    ).encode()

    apply_import(kind="jobs", data=data)
    apply_import(kind="jobs", data=data)  # the same file again completes nothing twice

    callback.refresh_from_db()
    assert callback.state == State.REVISIT_DONE
    assert callback.events.filter(action=CallbackEvent.Action.REVISIT_DONE).count() == 1


def test_completing_an_ordinary_job_moves_no_callback(csr):
    callback = revisit_booked(csr)
    other = CompletedJobFactory(status=Job.Status.SCHEDULED, completed_at=None, site=callback.site)

    job_complete(job=other, completed_by=other.lead_technician, summary="Tune-up.")

    callback.refresh_from_db()
    assert callback.state == State.REVISIT_SCHEDULED


# --- the revisit's briefing ---------------------------------------------------------------------------------------


def test_the_revisit_briefing_says_which_callback_it_fixes_and_what_the_customer_reported(client_for, csr):
    technician = TechnicianFactory()
    callback = revisit_booked(csr, technician=technician, problem="Water under the furnace since Tuesday.")

    page = client_for(technician).get(reverse("recommendations:briefing", args=[callback.revisit_job_id]))

    body = page.content.decode()
    block = body[body.index(f'id="revisit-fixes-callback-{callback.pk}"'):]
    link = f'<a class="alert-link" href="{callback.get_absolute_url()}">callback #{callback.pk}</a>'
    assert f"This visit fixes {link}" in block
    assert "Water under the furnace since Tuesday." in block
    assert f"#{callback.job.invoice_number}" in block


def test_an_ordinary_visits_briefing_names_no_callback(client_for, csr):
    callback = revisit_booked(csr)
    page = client_for(callback.job.lead_technician).get(reverse("recommendations:briefing", args=[callback.job_id]))

    assert "This visit fixes" not in page.content.decode()


def test_the_revisit_briefing_query_count_does_not_grow(client_for, csr, django_assert_num_queries):
    technician = TechnicianFactory()
    small = revisit_booked(csr, technician=technician).revisit_job
    large = revisit_booked(csr, technician=technician).revisit_job
    for _ in range(30):
        RecommendationFactory(site=large.site)
    # A second callback on the same revisit (two problems, one visit) still costs the one query.
    second = Callback.objects.get(revisit_job=large)
    second.pk = None
    second.save()
    client = client_for(technician)
    client.get(reverse("recommendations:briefing", args=[small.pk]))  # warm the session

    with CaptureQueriesContext(connection) as small_queries:
        client.get(reverse("recommendations:briefing", args=[small.pk]))
    with django_assert_num_queries(len(small_queries)):
        page = client.get(reverse("recommendations:briefing", args=[large.pk]))

    # session, user, roles, job, recommendations, last visits, the callback it fixes (+ what base.html reads)
    assert len(small_queries) <= BASE_QUERIES + 7
    assert page.content.decode().count("This visit fixes") == 2
    assert Recommendation.objects.filter(site=large.site).count() == 30


@pytest.mark.parametrize("done", [1, 6])
def test_the_callback_list_shows_the_resolution_clock_in_a_fixed_number_of_queries(
    client_for, csr, done, django_assert_num_queries
):
    for _ in range(done):
        callback = revisit_booked(csr)
        job_complete(job=callback.revisit_job, completed_by=callback.revisit_job.lead_technician, summary="Fixed.")
    client = client_for(csr)
    client.get(reverse("callbacks:list"))

    # session, user, roles, count, page, its jobs, their people, unread notifications, technicians for the filter
    with django_assert_num_queries(9):
        body = client.get(reverse("callbacks:list")).content.decode()
    assert body.count("Resolution: in 23") == done
