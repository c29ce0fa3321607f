"""The pre-visit briefing: every open recommendation at the site, with what the technician needs to raise it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from customers.models import Job
from recommendations.models import Discussion, Recommendation, Risk
from tests.callbacks.factories import CallbackFactory
from tests.factories import CustomerFactory, JobFactory

from .factories import DiscussionFactory, RecommendationFactory, completed_visit

pytestmark = pytest.mark.django_db
# Queries base.html and its context processors may add to every page (another app's unread count, say).
BASE_QUERIES = 2


@pytest.fixture
def job(technician):
    return JobFactory(lead_technician=technician, site__customer__notes="Dog in the yard; call before arriving.")


def test_briefing_shows_each_open_recommendation_with_age_visits_and_last_answer(client_for, technician, job):
    site = job.site
    furnace = RecommendationFactory(site=site, what="Replace cracked heat exchanger", risk=Risk.FAILURE_LIKELY,
                                    created_at=timezone.now() - timedelta(days=120))
    earlier = completed_visit(site, days_ago=90)
    last = completed_visit(site, days_ago=30)
    DiscussionFactory(recommendation=furnace, job=earlier, response=Discussion.Response.NOT_NOW,
                      discussed_at=timezone.now() - timedelta(days=90))
    DiscussionFactory(recommendation=furnace, job=last, response=Discussion.Response.NOT_DISCUSSED,
                      note="Customer was on a call", discussed_at=timezone.now() - timedelta(days=30))
    RecommendationFactory(site=site, what="Add a surge protector", risk=Risk.ADVISORY)
    RecommendationFactory(site=site, what="Already withdrawn", state=Recommendation.State.WITHDRAWN)
    RecommendationFactory(what="At another site")

    body = client_for(technician).get(reverse("recommendations:briefing", args=[job.pk])).content.decode()

    assert "Replace cracked heat exchanger" in body and "Add a surge protector" in body
    assert "Already withdrawn" not in body and "At another site" not in body
    assert "120 days ago" in body
    assert "Failure likely soon" in body
    card = body[body.index("Replace cracked heat exchanger"):body.index("Add a surge protector")]
    assert "Visits since raised</dt>\n      <dd class=\"col-6\">2</dd>" in card
    # The last discussion was a "not discussed"; the customer's last real answer is the earlier "not now".
    assert "Customer was on a call" in card
    assert "Not now (" in card
    assert "Dog in the yard" in body
    # Highest risk first.
    assert body.index("Replace cracked heat exchanger") < body.index("Add a surge protector")


def test_a_recommendation_never_raised_says_so(client_for, technician, job):
    RecommendationFactory(site=job.site)

    body = client_for(technician).get(reverse("recommendations:briefing", args=[job.pk])).content.decode()

    assert "Never" in body and "None yet" in body


def test_briefing_query_count_does_not_grow_with_recommendations_or_past_visits(
    client_for, technician, django_assert_num_queries
):
    small = JobFactory(lead_technician=technician)
    RecommendationFactory(site=small.site)
    completed_visit(small.site, days_ago=3)
    large = JobFactory(lead_technician=technician)
    for n in range(200):
        completed_visit(large.site, days_ago=n + 1, lead_technician=technician)
    for n in range(50):
        recommendation = RecommendationFactory(site=large.site, created_at=timezone.now() - timedelta(days=300 - n))
        DiscussionFactory(recommendation=recommendation, job=None, technician=technician)
    for n in range(20):
        CallbackFactory(job=completed_visit(large.site, days_ago=400 + n), problem=f"Still leaking, take {n}")
    CallbackFactory(job=completed_visit(large.site, days_ago=500), state=Callback.State.CLOSED,
                    closed_at=timezone.now(), root_cause=Callback.RootCause.WORKMANSHIP)
    client = client_for(technician)
    client.get(reverse("recommendations:briefing", args=[small.pk]))  # warm the session

    # session, user, roles, job, the recommendations with their figures, the last visits, the open callbacks
    # (+ what base.html reads)
    with CaptureQueriesContext(connection) as small_queries:
        small_page = client.get(reverse("recommendations:briefing", args=[small.pk]))
    with django_assert_num_queries(len(small_queries)):
        large_page = client.get(reverse("recommendations:briefing", args=[large.pk]))

    assert len(small_queries) <= BASE_QUERIES + 7

    assert small_page.status_code == large_page.status_code == 200
    assert large_page.content.decode().count('class="card mb-3') == 50
    assert "Visits since raised</dt>\n      <dd class=\"col-6\">200</dd>" in large_page.content.decode()
    assert large_page.content.decode().count('id="open-callback-') == 20


def test_recording_a_discussion_with_htmx_returns_the_card_only(client_for, technician, job):
    recommendation = RecommendationFactory(site=job.site, what="Replace the sump pump")

    response = client_for(technician).post(
        reverse("recommendations:discuss", args=[job.pk, recommendation.pk]),
        {"response": "interested", "note": "Wants a quote"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "Discussed on this visit: Interested" in body
    discussion = recommendation.discussions.get()
    assert (discussion.job, discussion.technician, discussion.note) == (job, technician, "Wants a quote")


def test_not_discussed_without_a_reason_is_shown_on_the_card_and_not_kept(client_for, technician, job):
    recommendation = RecommendationFactory(site=job.site)

    response = client_for(technician).post(
        reverse("recommendations:discuss", args=[job.pk, recommendation.pk]),
        {"response": "not_discussed", "note": ""},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200  # htmx swaps only 2xx responses
    assert "Say why it was not discussed." in response.content.decode()
    assert not recommendation.discussions.exists()


def test_recording_without_javascript_returns_to_the_briefing(client_for, technician, job):
    recommendation = RecommendationFactory(site=job.site)

    response = client_for(technician).post(
        reverse("recommendations:discuss", args=[job.pk, recommendation.pk]), {"response": "not_now"}
    )

    assert response.status_code == 302 and response.url == reverse("recommendations:briefing", args=[job.pk])
    assert recommendation.discussions.get().response == "not_now"


def test_my_day_has_a_briefing_button_and_open_counts_per_job(client_for, technician, django_assert_num_queries):
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    busy = JobFactory(lead_technician=technician, scheduled_start=today)
    quiet = JobFactory(lead_technician=technician, scheduled_start=today + timedelta(hours=3))
    for _ in range(3):
        RecommendationFactory(site=busy.site)
    RecommendationFactory(site=quiet.site, state=Recommendation.State.WITHDRAWN)
    client = client_for(technician)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as two_jobs:
        client.get(reverse("home"))
    for _ in range(5):
        RecommendationFactory(site=JobFactory(lead_technician=technician, scheduled_start=today).site)

    with django_assert_num_queries(len(two_jobs)):  # today's jobs carry their counts: one query for all
        body = client.get(reverse("home")).content.decode()

    assert reverse("recommendations:briefing", args=[busy.pk]) in body
    assert reverse("recommendations:briefing", args=[quiet.pk]) in body
    assert "3 open recommendations" in body and "0 open recommendations" in body


def test_briefing_shows_the_open_callbacks_at_the_site_and_the_callback_this_visit_fixes(
    client_for, technician, csr
):
    original = completed_visit(JobFactory().site, days_ago=10)
    site = original.site
    fixing = CallbackFactory(job=original, problem="Water under the heater again",
                             state=Callback.State.REVISIT_SCHEDULED)
    other = CallbackFactory(job=completed_visit(site, days_ago=5), problem="Thermostat blank since the visit")
    CallbackFactory(job=completed_visit(site, days_ago=50), problem="Closed long ago", state=Callback.State.CLOSED,
                    closed_at=timezone.now(), root_cause=Callback.RootCause.WORKMANSHIP)
    CallbackFactory(problem="At another site")
    revisit = JobFactory(site=site, lead_technician=technician, kind=Job.Kind.CALLBACK_REVISIT)
    fixing.revisit_job = revisit
    fixing.save()

    body = client_for(technician).get(reverse("recommendations:briefing", args=[revisit.pk])).content.decode()

    link = f'<a class="alert-link" href="{fixing.get_absolute_url()}">callback #{fixing.pk}</a>'
    assert f"This visit fixes {link}" in body
    assert "Water under the heater again" in body and "Thermostat blank since the visit" in body
    assert "Closed long ago" not in body and "At another site" not in body
    # The technician may open the callback they are fixing, not one on another technician's job.
    assert f'href="{other.get_absolute_url()}"' not in body
    assert f'href="{other.get_absolute_url()}"' in client_for(csr).get(
        reverse("recommendations:briefing", args=[revisit.pk])).content.decode()


def test_briefing_warns_that_the_customer_is_do_not_service(client_for, technician):
    customer = CustomerFactory(name="Rude Rudy", do_not_service=True, do_not_service_since=timezone.now())
    job = JobFactory(site__customer=customer, lead_technician=technician)

    body = client_for(technician).get(reverse("recommendations:briefing", args=[job.pk])).content.decode()

    assert "<strong>Do not service:</strong> Rude Rudy is marked do-not-service" in body


def test_an_upcoming_visit_links_to_its_briefing_from_my_day_the_schedule_and_the_job_page(client_for, technician):
    next_week = JobFactory(lead_technician=technician, scheduled_start=timezone.now() + timedelta(days=7),
                           scheduled_end=timezone.now() + timedelta(days=7, hours=1))
    briefing = reverse("recommendations:briefing", args=[next_week.pk])
    client = client_for(technician)

    assert briefing in client.get(reverse("home")).content.decode()
    assert briefing in client.get(reverse("customers:job_list")).content.decode()
    assert briefing in client.get(next_week.get_absolute_url()).content.decode()
    assert client.get(briefing).status_code == 200
