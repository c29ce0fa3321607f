"""The API's writes take the import's behaviour beyond its rows (issue 19 with issue 17): what they change is on the
trail as through the API, a job they complete runs the after-completion hooks, and a new booking for a
do-not-service customer is refused as our own booking is (issue 17 point 7), where a file's is imported and
flagged."""

import json

import pytest
from django.utils import timezone

from customers import completion
from customers.events import JobEvent
from customers.models import Customer, Job
from servicedesk.audit import Via
from servicedesk.integrations.models import ApiToken
from tests.factories import CustomerFactory, JobFactory, SiteFactory

pytestmark = pytest.mark.django_db

START = "2025-03-05T08:00:00-06:00"


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def writer(api):
    return api(ApiToken.Scope.READ_WRITE)


@pytest.fixture
def let_go(db):
    """A do-not-service customer with a site, both known to the dispatch system."""
    customer = CustomerFactory(external_id="C-9", name="Mallory Byrne", do_not_service=True,
                               do_not_service_since=timezone.now())
    SiteFactory(customer=customer, external_id="S-9")
    return customer


def test_a_new_booking_for_a_do_not_service_customer_is_refused_naming_the_job_and_the_customer(writer, let_go):
    response = put(writer, "/api/v1/jobs/J-1", {"site": "S-9", "status": "scheduled", "scheduled_start": START})
    assert response.status_code == 400, response.content
    assert response.json() == {"errors": [{
        "record": 0, "field": "site",
        "message": "job 'J-1' cannot be booked: Mallory Byrne (customer 'C-9') is marked do-not-service, so new "
                   "work cannot be booked for them",
    }]}
    assert not Job.objects.exists()


def test_one_refused_booking_refuses_the_whole_bulk_by_its_index(writer, let_go):
    SiteFactory(customer=CustomerFactory(external_id="C-1"), external_id="S-1")
    response = post(writer, "/api/v1/jobs/bulk", [
        {"external_id": "J-1", "site": "S-1", "customer": "C-1", "scheduled_start": START},
        {"external_id": "J-2", "site": "S-9", "customer": "C-9", "scheduled_start": START},
    ])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["record"], error["field"]) == (1, "customer") and "'J-2'" in error["message"]
    assert not Job.objects.exists()


def test_reopening_a_job_of_a_do_not_service_customer_is_a_new_booking_and_refused(writer, let_go):
    job = JobFactory(site=let_go.sites.get(), customer=let_go, external_id="J-3", status=Job.Status.COMPLETED,
                     completed_at=timezone.now())
    response = put(writer, "/api/v1/jobs/J-3", {"site": "S-9", "scheduled_start": START, "status": "scheduled",
                                                "completed_at": None})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "site" and "'J-3' cannot be booked" in error["message"]
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED


def test_a_job_already_booked_for_a_do_not_service_customer_is_still_updated(writer, let_go):
    # Booked before the decision: a manager keeps or cancels it on the customer's page; the API is not refused.
    JobFactory(site=let_go.sites.get(), customer=let_go, external_id="J-4", status=Job.Status.SCHEDULED)
    response = put(writer, "/api/v1/jobs/J-4", {"site": "S-9", "scheduled_start": START, "summary": "Gate code 4411"})
    assert response.status_code == 200, response.content
    assert Job.objects.get(external_id="J-4").summary == "Gate code 4411"


def test_the_apis_changes_are_on_the_trail_as_through_the_api(writer, manager, client_for):
    SiteFactory(customer=CustomerFactory(external_id="C-1"), external_id="S-1")
    assert put(writer, "/api/v1/jobs/J-1", {"site": "S-1", "scheduled_start": START}).status_code == 201
    assert put(writer, "/api/v1/customers/C-1", {"name": "Ada", "contact_opt_out": True}).status_code == 200
    session = client_for(manager)
    response = put(session, "/api/v1/jobs/J-1", {"site": "S-1", "scheduled_start": START, "status": "in progress"})
    assert response.status_code == 200, response.content

    job = Job.objects.get(external_id="J-1")
    trail = list(JobEvent.objects.filter(job=job).order_by("pk").values_list("action", "to_status", "via", "by"))
    # An integration's token is nobody; a manager's session is the manager.
    assert trail == [("booked", "scheduled", Via.API, None), ("status_changed", "in_progress", Via.API, manager.pk)]
    customer = Customer.objects.get(external_id="C-1")
    assert list(customer.consent_events.values_list("action", "via")) == [("contact_opt_out", Via.API)]


def test_a_job_the_api_completes_runs_the_after_completion_hooks_once(writer, monkeypatch):
    SiteFactory(customer=CustomerFactory(external_id="C-1"), external_id="S-1")
    JobFactory(site=Customer.objects.get().sites.get(), external_id="J-1", status=Job.Status.SCHEDULED)
    seen = []
    monkeypatch.setattr(completion, "_after", [*completion._after, lambda **kwargs: seen.append(kwargs)])
    completed = {"site": "S-1", "scheduled_start": START, "status": "completed",
                 "completed_at": timezone.now().isoformat()}

    assert put(writer, "/api/v1/jobs/J-1", completed).status_code == 200
    assert put(writer, "/api/v1/jobs/J-1", completed).status_code == 200  # already completed: nothing follows

    job = Job.objects.get(external_id="J-1")
    assert [(call["job_ids"], call["completed_by"]) for call in seen] == [([job.pk], None)]
