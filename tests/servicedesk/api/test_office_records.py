"""Issue 19, point 1: callbacks, recommendations and follow-up calls over the API — lists with filters and
`updated_since`, records, and a callback logged by an integration through the CSR's own service."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from servicedesk.integrations.models import ApiToken
from servicedesk.models import Notification
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.recommendations.factories import RecommendationFactory
from tests.servicedesk.api.stamps import set_updated_at

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def writer(api):
    return api(ApiToken.Scope.READ_WRITE)


def test_an_integration_logs_a_callback_into_the_triage_queue_as_the_csr_page_would(
    writer, integration, csr, django_capture_on_commit_callbacks
):
    job = CompletedJobFactory(external_id="J-1")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(writer, "/api/v1/callbacks/", {"job": "J-1", "problem": "No heat again.", "urgency": "high"})
    assert response.status_code == 201, response.content
    callback = Callback.objects.get()
    assert (callback.job, callback.problem, callback.urgency, callback.assigned_to) == (job, "No heat again.",
                                                                                        "high", None)
    assert callback.logged_by.username == f"integration-{integration.pk}" and not callback.logged_by.is_active
    assert Notification.objects.filter(recipient=csr, url=callback.get_absolute_url()).exists()
    assert response.json()["id"] == callback.pk and response.json()["job"] == "J-1"

    # The second on the same job is a repeat, caught by callback_log as on the page.
    post(writer, "/api/v1/callbacks/", {"job": "J-1", "problem": "Still cold."})
    assert Callback.objects.filter(is_repeat=True).count() == 1


def test_a_callback_needs_a_known_job_and_a_problem_and_a_read_token_cannot_log_one(api, writer):
    CompletedJobFactory(external_id="J-1")
    assert post(writer, "/api/v1/callbacks/", {"job": "J-404", "problem": "x"}).json()["errors"] == [
        {"record": 0, "field": "job", "message": "no job has id 'J-404'"}]
    assert post(writer, "/api/v1/callbacks/", {"job": "J-1", "problem": "  "}).status_code == 400
    assert post(api(ApiToken.Scope.READ), "/api/v1/callbacks/", {"job": "J-1", "problem": "x"}).status_code == 403
    assert not Callback.objects.exists()


def test_callbacks_recommendations_and_calls_list_what_changed_since_and_filter(writer):
    old, new = CallbackFactory(), CallbackFactory(urgency="high")
    long_ago = timezone.now() - timedelta(days=3)
    set_updated_at(Callback, old.pk, long_ago)
    set_updated_at(Callback, new.pk, long_ago)
    Callback.objects.filter(pk=new.pk).update(problem="Changed")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert [r["id"] for r in writer.get("/api/v1/callbacks/", {"updated_since": since}).json()["results"]] == [
        new.pk]
    assert [r["id"] for r in writer.get("/api/v1/callbacks/", {"urgency": "high"}).json()["results"]] == [new.pk]

    recommendation = RecommendationFactory()
    assert writer.get(f"/api/v1/recommendations/{recommendation.pk}").json()["what"] == recommendation.what
    assert [r["id"] for r in writer.get("/api/v1/recommendations/", {"state": "open"}).json()["results"]] == [
        recommendation.pk]

    call = FollowUpCallFactory()
    set_updated_at(FollowUpCall, call.pk, long_ago)
    assert writer.get("/api/v1/follow-up-calls/", {"updated_since": since}).json()["results"] == []
    assert writer.get(f"/api/v1/follow-up-calls/{call.pk}").json()["state"] == call.state


@pytest.mark.parametrize(("path", "make"), [
    ("/api/v1/callbacks/", CallbackFactory),
    ("/api/v1/recommendations/", RecommendationFactory),
    ("/api/v1/follow-up-calls/", FollowUpCallFactory),
])
def test_each_office_list_answers_in_two_queries_for_two_rows_or_twenty(path, make, writer,
                                                                        django_assert_num_queries):
    make.create_batch(2)
    writer.get(path)
    with django_assert_num_queries(2):  # the token, the page
        assert writer.get(path).status_code == 200
    make.create_batch(18)
    with django_assert_num_queries(2):
        assert len(writer.get(path).json()["results"]) == 20
