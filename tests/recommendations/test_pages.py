"""The technician's completion and raise pages, the detail page's actions, my follow-ups, the office list."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.history import customer_history
from customers.models import Job
from recommendations.history import recommendation_entries
from recommendations.models import FollowUpInterval, Recommendation, Risk
from tests.factories import EquipmentFactory, JobFactory, TechnicianFactory

from .factories import DiscussionFactory, RecommendationEventFactory, RecommendationFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def job(technician):
    return JobFactory(lead_technician=technician)


def _complete_data(recommendations=(), **extra):
    data = {"summary": "Cleaned burners", "new-TOTAL_FORMS": "1", "new-INITIAL_FORMS": "0",
            "new-MIN_NUM_FORMS": "0", "new-MAX_NUM_FORMS": "10"}
    for recommendation, response, note in recommendations:
        data[f"d{recommendation.pk}-response"] = response
        data[f"d{recommendation.pk}-note"] = note
    return {**data, **extra}


def test_completion_page_lists_each_open_recommendation_for_an_answer(client_for, technician, job):
    RecommendationFactory(site=job.site, what="Replace the sump pump")

    body = client_for(technician).get(reverse("recommendations:complete_job", args=[job.pk])).content.decode()

    assert "Replace the sump pump" in body and "Work summary" in body


def test_completing_records_answers_and_new_recommendations(client_for, technician, job):
    pump = RecommendationFactory(site=job.site)
    data = _complete_data(
        [(pump, "declined", "Too expensive this year")],
        **{"new-0-what": "Replace the expansion tank", "new-0-risk": Risk.SHOULD_BE_DONE, "new-0-why": "Waterlogged",
           "customer_acknowledged": "on"},
    )

    response = client_for(technician).post(reverse("recommendations:complete_job", args=[job.pk]), data)

    assert response.status_code == 302 and response.url == reverse("home")
    job.refresh_from_db()
    assert job.is_completed and job.summary == "Cleaned burners"
    assert pump.discussions.get().note == "Too expensive this year"
    new = Recommendation.objects.get(what="Replace the expansion tank")
    assert new.raised_on_job == job and new.customer_acknowledged


def test_completing_without_an_answer_shows_an_error_and_changes_nothing(client_for, technician, job):
    pump = RecommendationFactory(site=job.site)

    response = client_for(technician).post(
        reverse("recommendations:complete_job", args=[job.pk]),
        _complete_data([(pump, "not_discussed", "")], **{"new-0-what": "Something new", "new-0-risk": "advisory"}),
    )

    assert response.status_code == 200
    assert "Say why it was not discussed." in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == Job.Status.SCHEDULED
    assert Recommendation.objects.count() == 1 and not pump.discussions.exists()


def test_a_post_claiming_a_thousand_new_recommendations_is_refused_before_their_forms_are_built(
    client_for, technician, job, django_assert_max_num_queries
):
    client = client_for(technician)
    url = reverse("recommendations:complete_job", args=[job.pk])
    client.get(url)

    # As many queries as a page with one new-recommendation row: the thousand forms are never built.
    with django_assert_max_num_queries(20):
        response = client.post(url, _complete_data(**{"new-TOTAL_FORMS": "1000"}))

    assert response.status_code == 200
    assert "Please submit at most 10 forms." in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == Job.Status.SCHEDULED


def test_an_answer_recorded_from_the_briefing_need_not_be_repeated(client_for, technician, job):
    pump = RecommendationFactory(site=job.site)
    DiscussionFactory(recommendation=pump, job=job, technician=technician)

    response = client_for(technician).post(reverse("recommendations:complete_job", args=[job.pk]), _complete_data())

    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).is_completed and pump.discussions.count() == 1


def test_raise_page_with_a_photo(client_for, technician, job):
    equipment = EquipmentFactory(site=job.site)
    photo = SimpleUploadedFile("tank.png", PNG, content_type="image/png")
    client = client_for(technician)

    response = client.post(reverse("recommendations:raise", args=[job.pk]), {
        "what": "Replace the water heater", "why": "Rust at the base", "risk": Risk.FAILURE_LIKELY,
        "equipment": equipment.pk, "price_low": "1400", "price_high": "2100", "photo": photo,
    })

    assert response.status_code == 302
    recommendation = Recommendation.objects.get()
    assert (recommendation.equipment, recommendation.raised_on_job, recommendation.owner) == (
        equipment, job, technician,
    )
    assert client.get(reverse("recommendations:photo", args=[recommendation.pk])).status_code == 200


def test_raise_page_refuses_a_file_that_is_not_a_photo(client_for, technician, job, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("tank.png", b"MZ not really a picture", content_type="image/png")

    response = client_for(technician).post(reverse("recommendations:raise", args=[job.pk]), {
        "what": "Replace the water heater", "risk": Risk.ADVISORY, "photo": fake,
    })

    assert response.status_code == 200 and "not a photo" in response.content.decode()
    assert not Recommendation.objects.exists()


def test_raise_page_refuses_an_inverted_price_range(client_for, technician, job):
    response = client_for(technician).post(reverse("recommendations:raise", args=[job.pk]), {
        "what": "Replace the water heater", "risk": Risk.ADVISORY, "price_low": "900", "price_high": "100",
    })

    assert "The high estimate is below the low one." in response.content.decode()
    assert not Recommendation.objects.exists()


def test_owner_declines_from_the_detail_page(client_for, technician):
    recommendation = RecommendationFactory(owner=technician, raised_by=technician)
    client = client_for(technician)

    refused = client.post(reverse("recommendations:action", args=[recommendation.pk, "decline"]),
                          {"decline-reason": ""})
    done = client.post(reverse("recommendations:action", args=[recommendation.pk, "decline"]),
                       {"decline-reason": "Replacing the whole system next year"})

    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
    assert done.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.state == "declined"
    assert recommendation.events.get().by == technician


def test_accept_from_the_detail_page_schedules_the_work(client_for, csr):
    recommendation = RecommendationFactory()
    start = (timezone.localtime() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)

    response = client_for(csr).post(reverse("recommendations:action", args=[recommendation.pk, "accept"]), {
        "accept-scheduled_start": start.strftime("%Y-%m-%dT%H:%M"), "accept-hours": "3",
    })

    assert response.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.state == "accepted"
    assert recommendation.accepted_job.scheduled_end - recommendation.accepted_job.scheduled_start == timedelta(hours=3)


def test_an_unknown_action_is_not_found(client_for, csr):
    recommendation = RecommendationFactory()

    response = client_for(csr).post(reverse("recommendations:action", args=[recommendation.pk, "delete"]))

    assert response.status_code == 404


def test_detail_shows_events_and_discussions(client_for, csr):
    recommendation = RecommendationFactory(what="Replace the sump pump")
    RecommendationEventFactory(recommendation=recommendation)
    DiscussionFactory(recommendation=recommendation, note="Asked for a quote")

    body = client_for(csr).get(reverse("recommendations:detail", args=[recommendation.pk])).content.decode()

    assert "Replace the sump pump" in body and "Asked for a quote" in body and "Raised" in body


def test_my_follow_ups_lists_what_the_owner_owes_overdue_first(client_for, sales, django_assert_num_queries):
    today = timezone.localdate()
    RecommendationFactory(owner=sales, what="Due next week", next_follow_up_on=today + timedelta(days=7))
    RecommendationFactory(owner=sales, what="Overdue lead", next_follow_up_on=today - timedelta(days=4))
    RecommendationFactory(what="Someone else's")
    client = client_for(sales)
    client.get(reverse("recommendations:mine"))
    with CaptureQueriesContext(connection) as two_rows:
        client.get(reverse("recommendations:mine"))
    for n in range(20):
        RecommendationFactory(owner=sales, what=f"More {n}")

    with django_assert_num_queries(len(two_rows)):
        body = client.get(reverse("recommendations:mine")).content.decode()

    assert body.index("Overdue lead") < body.index("Due next week")
    assert "Someone else&#x27;s" not in body and "Someone else's" not in body
    assert "Overdue" in body


def test_recording_a_follow_up_call_moves_the_date(client_for, sales):
    recommendation = RecommendationFactory(owner=sales, risk=Risk.SHOULD_BE_DONE,
                                           next_follow_up_on=timezone.localdate() - timedelta(days=2))

    response = client_for(sales).post(reverse("recommendations:action", args=[recommendation.pk, "follow-up"]),
                                      {"follow-up-response": "interested", "follow-up-note": "Send a quote"})

    assert response.status_code == 302
    recommendation.refresh_from_db()
    assert recommendation.next_follow_up_on == timezone.localdate() + timedelta(days=30)
    assert recommendation.discussions.get().job is None


def test_office_list_filters_and_keeps_a_constant_query_count(client_for, csr, django_assert_num_queries):
    RecommendationFactory(what="Failing compressor", risk=Risk.FAILURE_LIKELY)
    RecommendationFactory(what="Advisory thing", risk=Risk.ADVISORY)
    RecommendationFactory(what="Withdrawn thing", state=Recommendation.State.WITHDRAWN)
    client = client_for(csr)
    client.get(reverse("recommendations:list"))
    with CaptureQueriesContext(connection) as few:
        body = client.get(reverse("recommendations:list")).content.decode()
    assert "Failing compressor" in body and "Advisory thing" in body and "Withdrawn thing" not in body

    for _ in range(30):
        RecommendationFactory()
    with django_assert_num_queries(len(few)):
        client.get(reverse("recommendations:list"))

    filtered = client.get(reverse("recommendations:list"), {"risk": "failure_likely"}).content.decode()
    assert "Failing compressor" in filtered and "Advisory thing" not in filtered
    withdrawn = client.get(reverse("recommendations:list"), {"state": "withdrawn"}).content.decode()
    assert "Withdrawn thing" in withdrawn and "Failing compressor" not in withdrawn


def test_manager_changes_the_follow_up_intervals(client_for, manager):
    client = client_for(manager)
    intervals = list(FollowUpInterval.objects.order_by("days"))
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "3"}
    for index, interval in enumerate(intervals):
        data[f"form-{index}-id"] = interval.pk
        data[f"form-{index}-days"] = interval.days + 1

    bad = client.post(reverse("recommendations:intervals"), {**data, "form-0-days": "0"})
    assert bad.status_code == 200 and FollowUpInterval.objects.get(risk="failure_likely").days == 7

    good = client.post(reverse("recommendations:intervals"), data)
    assert good.status_code == 302
    assert dict(FollowUpInterval.objects.values_list("risk", "days")) == {
        "failure_likely": 8, "should_be_done": 31, "advisory": 91,
    }


def test_customer_history_shows_recommendations_and_discussions(django_assert_num_queries):
    recommendation = RecommendationFactory(what="Replace the sump pump")
    RecommendationEventFactory(recommendation=recommendation)
    for _ in range(5):
        DiscussionFactory(recommendation=recommendation, job=None, technician=TechnicianFactory(), note="Called")
    customer = recommendation.customer

    with django_assert_num_queries(2):  # events, discussions: not one per entry
        assert len(list(recommendation_entries(customer, limit=100))) == 6

    titles = [entry.title for entry in customer_history(customer) if entry.kind == "recommendation"]
    assert "Recommendation raised: Replace the sump pump" in titles
    assert titles.count("Recommendation discussed by phone: Replace the sump pump") == 5
