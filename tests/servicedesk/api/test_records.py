"""Issue 19, point 1: customers, sites, equipment and jobs over /api/v1/ — lists in order of change with
`updated_since` and filters at a constant query count, records by the dispatch system's id, and upserts that take
exactly what the CSV import takes (the same code path), a job completed there going through the completion rules."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from customers import completion
from customers.importing import apply_import
from customers.models import Customer, Job, Site
from servicedesk.integrations.models import ApiToken
from tests.factories import CustomerFactory, EquipmentFactory, JobFactory, SiteFactory, TechnicianFactory
from tests.recommendations.factories import RecommendationFactory
from tests.servicedesk.api.stamps import set_updated_at

pytestmark = pytest.mark.django_db


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def writer(api):
    return api(ApiToken.Scope.READ_WRITE)


@pytest.fixture
def dispatch_site(db):
    customer = CustomerFactory(external_id="C-1")
    return SiteFactory(customer=customer, external_id="S-1")


def test_a_customer_is_created_then_updated_by_its_dispatch_id(writer):
    response = put(writer, "/api/v1/customers/C-7", {"name": "Grace Hopper", "phone": "(555) 010-2233",
                                                     "preferred_contact": "SMS", "contact_opt_out": False})
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(external_id="C-7")
    # The import's alias ("SMS" is text) and its derived columns (the phone's digits for search).
    assert customer.preferred_contact == "text" and customer.phone_digits == "5550102233"
    assert response.json()["id"] == customer.pk

    response = put(writer, "/api/v1/customers/C-7", {"name": "Grace B. Hopper"})
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "Grace B. Hopper" and customer.phone == "(555) 010-2233"  # left out, left alone
    assert writer.get("/api/v1/customers/C-7").json()["name"] == "Grace B. Hopper"


def test_a_bad_value_is_refused_with_the_field_and_the_imports_message_and_nothing_is_written(writer, dispatch_site):
    response = put(writer, "/api/v1/jobs/J-1", {"site": "S-1", "kind": "teleportation", "status": "done",
                                                "scheduled_start": "2025-03-05T08:00:00-06:00"})
    assert response.status_code == 400
    assert response.json() == {"errors": [
        {"record": 0, "field": "kind", "message": "'teleportation' is not one of: service call, maintenance, "
                                                  "install, estimate, callback revisit"},
        {"record": 0, "field": "completed_at", "message": "a completed job needs its completion time"},
    ]}
    assert not Job.objects.exists()


def test_unknown_fields_references_and_an_id_other_than_the_urls_are_refused(writer, dispatch_site):
    assert put(writer, "/api/v1/sites/S-2", {"customer": "C-404", "street": "1 Elm", "city": "X"}).json() == {
        "errors": [{"record": 0, "field": "customer",
                    "message": "no customer has id 'C-404' (import the customers file first)"}]}
    assert put(writer, "/api/v1/sites/S-2", {"customer": "C-1", "street": "1 Elm", "city": "X",
                                             "colour": "red"}).json()["errors"] == [
        {"record": 0, "field": "colour", "message": "is not a field of sites"}]
    assert put(writer, "/api/v1/sites/S-2", {"external_id": "S-3", "customer": "C-1", "street": "1 Elm",
                                             "city": "X"}).status_code == 400
    assert not Site.objects.filter(external_id__in=["S-2", "S-3"]).exists()


def test_a_job_is_booked_with_its_technicians_and_aliases_as_the_import_reads_them(writer, dispatch_site):
    lead, helper = TechnicianFactory(username="ana"), TechnicianFactory(username="ben", first_name="Ben",
                                                                       last_name="Okafor")
    response = put(writer, "/api/v1/jobs/J-1", {
        "site": "S-1", "kind": "tune up", "status": "dispatched", "scheduled_start": "2025-03-05T08:00:00-06:00",
        "lead_technician": "ana", "helpers": ["Ben Okafor"], "no_charge": False,
    })
    assert response.status_code == 201, response.content
    job = Job.objects.get(external_id="J-1")
    assert (job.kind, job.status, job.customer_id, job.lead_technician) == (
        "maintenance", "scheduled", dispatch_site.customer_id, lead)
    assert list(job.helpers.all()) == [helper]
    assert job.scheduled_end == job.scheduled_start  # the import's rule: no end, the window ends when it starts
    body = response.json()
    assert body["site"] == "S-1" and body["customer"] == "C-1" and body["helpers"] == ["ben"]


def test_a_job_completed_in_the_dispatch_system_is_completed_elsewhere_without_the_discussions(
    writer, dispatch_site
):
    job = JobFactory(site=dispatch_site, external_id="J-9")
    open_one = RecommendationFactory(site=dispatch_site)
    response = put(writer, "/api/v1/jobs/J-9", {
        "site": "S-1", "status": "completed", "scheduled_start": job.scheduled_start.isoformat(),
        "completed_at": timezone.now().isoformat(), "summary": "Replaced the igniter.",
    })
    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert job.status == "completed" and job.completed_elsewhere
    # On our page this completion would be refused until the recommendation was discussed; here it is left open,
    # undiscussed on this visit.
    open_one.refresh_from_db()
    assert open_one.is_outstanding and not open_one.discussions.exists()
    assert response.json()["completed_elsewhere"] is True


def test_a_completion_rule_that_refuses_undoes_the_whole_write(writer, dispatch_site, monkeypatch):
    def refuse(*, job, completed_by, completed_elsewhere=False, **details):
        raise ValidationError("The warranty claim must be closed first.")

    monkeypatch.setattr(completion, "_rules", [*completion._rules, refuse])
    job = JobFactory(site=dispatch_site, external_id="J-9")
    response = put(writer, "/api/v1/jobs/J-9", {
        "site": "S-1", "status": "completed", "scheduled_start": job.scheduled_start.isoformat(),
        "completed_at": timezone.now().isoformat(), "summary": "Done.",
    })
    assert response.status_code == 400
    assert response.json()["errors"] == [{"record": 0, "field": "", "message": "The warranty claim must be "
                                                                              "closed first."}]
    job.refresh_from_db()
    assert job.status == "scheduled" and not job.completed_elsewhere and job.summary != "Done."


def test_a_job_completed_by_a_csv_import_is_completed_elsewhere_too(dispatch_site, technician):
    data = (b"Job ID,Site ID,Status,Start,Completed at\n"
            b"J-5,S-1,completed,2025-03-05 08:00,2025-03-05 09:30\n")
    apply_import(kind="jobs", data=data)
    assert Job.objects.get(external_id="J-5").completed_elsewhere


def test_a_read_token_cannot_write_and_writes_nothing(api, dispatch_site):
    reader = api(ApiToken.Scope.READ)
    response = put(reader, "/api/v1/customers/C-8", {"name": "Nobody"})
    assert response.status_code == 403
    assert not Customer.objects.filter(external_id="C-8").exists()
    assert reader.get("/api/v1/customers/C-1").status_code == 200


def test_a_revoked_token_cannot_write(issue, dispatch_site):
    secret = issue(ApiToken.Scope.READ_WRITE)
    ApiToken.objects.update(revoked_at=timezone.now())
    response = put(Client(HTTP_AUTHORIZATION=f"Bearer {secret}"), "/api/v1/customers/C-8", {"name": "Nobody"})
    assert response.status_code == 401
    assert not Customer.objects.filter(external_id="C-8").exists()


@pytest.mark.parametrize("role", ["csr", "technician", "sales"])
def test_staff_other_than_managers_cannot_use_the_api_by_session(request, client_for, role, dispatch_site):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/customers/").status_code == 403
    assert put(client, "/api/v1/customers/C-8", {"name": "Nobody"}).status_code == 403
    assert not Customer.objects.filter(external_id="C-8").exists()


def test_a_manager_writes_through_the_browsable_api_session(client_for, manager):
    response = put(client_for(manager), "/api/v1/customers/C-8", {"name": "Somebody"})
    assert response.status_code == 201


def test_a_record_unknown_to_the_dispatch_system_is_404(writer):
    assert writer.get("/api/v1/jobs/J-404").status_code == 404


def test_any_change_moves_a_record_up_the_list_and_updated_since_returns_what_changed(writer):
    old, changed = CustomerFactory(name="Old"), CustomerFactory(name="Changed")
    long_ago = timezone.now() - timedelta(days=3)
    set_updated_at(Customer, old.pk, long_ago)
    set_updated_at(Customer, changed.pk, long_ago)
    since = timezone.now() - timedelta(days=1)
    # A queryset update that does not name updated_at (as many services write) still stamps it.
    Customer.objects.filter(pk=changed.pk).update(notes="Called about the bill.")

    names = [row["name"] for row in writer.get("/api/v1/customers/", {"updated_since": since.isoformat()})
             .json()["results"]]
    assert names == ["Changed"]
    assert [row["name"] for row in writer.get("/api/v1/customers/").json()["results"]] == ["Old", "Changed"]


def test_the_cursor_walks_every_record_once_even_when_they_changed_at_the_same_moment(writer):
    CustomerFactory.create_batch(7)
    moment = timezone.now() - timedelta(hours=1)
    for customer in Customer.objects.all():
        set_updated_at(Customer, customer.pk, moment)
    seen, url, pages = [], "/api/v1/customers/?page_size=3", 0
    while url:
        body = writer.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert sorted(seen) == sorted(Customer.objects.values_list("pk", flat=True)) and len(seen) == 7
    assert pages == 3
    assert writer.get("/api/v1/customers/?cursor=garbage").status_code == 404


def test_lists_filter_by_the_usual_fields(writer, dispatch_site):
    other = SiteFactory(external_id="S-2")
    JobFactory(site=dispatch_site, external_id="J-1", status="scheduled")
    JobFactory(site=other, external_id="J-2", status="completed", completed_at=timezone.now())
    assert [r["external_id"] for r in writer.get("/api/v1/jobs/", {"site": "S-1"}).json()["results"]] == ["J-1"]
    assert [r["external_id"] for r in writer.get("/api/v1/jobs/", {"status": "completed"}).json()["results"]] == [
        "J-2"]
    assert [r["external_id"] for r in writer.get("/api/v1/sites/", {"customer": "C-1"}).json()["results"]] == [
        "S-1"]


# The token, the page; for jobs their helpers too.
@pytest.mark.parametrize(("path", "queries"), [("/api/v1/customers/", 2), ("/api/v1/sites/", 2),
                                               ("/api/v1/equipment/", 2), ("/api/v1/jobs/", 3)])
def test_each_list_answers_in_the_same_number_of_queries_for_two_rows_or_twenty(
    path, queries, writer, django_assert_num_queries
):
    def grow(count):
        for _ in range(count):
            job = JobFactory(equipment=EquipmentFactory())
            job.helpers.set([TechnicianFactory()])

    grow(2)
    writer.get(path)  # the token's first use is recorded; later requests within the minute do not write
    with django_assert_num_queries(queries):
        assert writer.get(path).status_code == 200
    grow(18)
    with django_assert_num_queries(queries):
        assert len(writer.get(path).json()["results"]) >= 20
