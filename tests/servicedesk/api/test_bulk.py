"""Issue 19, point 1: POST /api/v1/<kind>/bulk writes up to 1,000 records in one all-or-nothing transaction; a bad
record writes nothing and is named by its index and field."""

import json

import pytest

from customers.models import Customer, Job
from servicedesk.api.views import BULK_MAX
from servicedesk.integrations.models import ApiToken
from tests.factories import CustomerFactory, SiteFactory

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def writer(api):
    return api(ApiToken.Scope.READ_WRITE)


def test_a_thousand_customers_are_written_in_one_request_and_again_change_nothing(writer):
    records = [{"external_id": f"C-{n}", "name": f"Customer {n}", "phone": f"555-01{n:04d}"} for n in range(BULK_MAX)]
    response = post(writer, "/api/v1/customers/bulk", records)
    assert response.status_code == 200, response.content
    assert response.json() == {"counts": {"new": BULK_MAX, "updated": 0, "unchanged": 0}}
    assert Customer.objects.count() == BULK_MAX

    records[5]["name"] = "Renamed"
    assert post(writer, "/api/v1/customers/bulk", records).json() == {
        "counts": {"new": 0, "updated": 1, "unchanged": BULK_MAX - 1}}


def test_one_bad_record_writes_nothing_and_is_named_by_index_and_field(writer):
    site = SiteFactory(external_id="S-1")
    records = [
        {"external_id": f"J-{n}", "site": "S-1", "status": "scheduled", "scheduled_start": "2025-03-05 08:00"}
        for n in range(5)
    ]
    records[3]["status"] = "someday"
    records[4]["site"] = "S-404"
    response = post(writer, "/api/v1/jobs/bulk", records)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"record": 3, "field": "status", "message": "'someday' is not one of: scheduled, in progress, completed, "
                                                    "cancelled"},
        {"record": 4, "field": "site", "message": "no site has id 'S-404' (import the sites file first)"},
    ]
    assert not Job.objects.filter(site=site).exists()


def test_records_that_give_other_fields_than_the_first_are_refused(writer):
    CustomerFactory(external_id="C-1", phone="555-0100")
    response = post(writer, "/api/v1/customers/bulk", [{"external_id": "C-1", "name": "A"},
                                                        {"external_id": "C-2", "name": "B", "phone": "555-0101"}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["record"] == 1
    assert Customer.objects.get(external_id="C-1").name != "A"


def test_the_same_id_twice_in_one_request_is_refused(writer):
    response = post(writer, "/api/v1/customers/bulk", [{"external_id": "C-1", "name": "A"},
                                                        {"external_id": "C-1", "name": "B"}])
    assert response.json()["errors"] == [
        {"record": 1, "field": "external_id", "message": "'C-1' already appears in record 0"}]
    assert not Customer.objects.exists()


def test_more_than_a_thousand_records_or_not_an_array_is_refused(writer):
    records = [{"external_id": f"C-{n}", "name": "x"} for n in range(BULK_MAX + 1)]
    assert post(writer, "/api/v1/customers/bulk", records).status_code == 400
    assert post(writer, "/api/v1/customers/bulk", {"external_id": "C-1", "name": "x"}).status_code == 400
    assert not Customer.objects.exists()


def test_a_read_token_cannot_bulk_write(api):
    response = post(api(ApiToken.Scope.READ), "/api/v1/customers/bulk", [{"external_id": "C-1", "name": "x"}])
    assert response.status_code == 403
    assert not Customer.objects.exists()
