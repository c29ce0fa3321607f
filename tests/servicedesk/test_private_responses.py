"""Staff pages and CSV exports are private and never stored by a browser or proxy cache."""

import pytest
from django.urls import reverse

from servicedesk import tokens
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory

pytestmark = pytest.mark.django_db


def cache_directives(response):
    return {directive.strip() for directive in response["Cache-Control"].split(",")}


@pytest.mark.parametrize(
    "name, query",
    [
        ("home", {}),
        ("customers:list", {}),
        ("callbacks:list", {}),
        ("callbacks:export", {}),
        ("dashboards:follow_ups", {"format": "csv", "table": "per_csr"}),
        ("customers:import_example", None),
    ],
)
def test_staff_pages_and_csv_exports_are_private_and_not_stored(client_for, manager, name, query):
    CallbackFactory()
    url = reverse(name, kwargs={"kind": "customers"}) if query is None else reverse(name)

    response = client_for(manager).get(url, query or {})

    assert response.status_code == 200
    assert {"private", "no-store"} <= cache_directives(response)


def test_a_customer_page_opened_by_staff_stays_no_store(client_for, technician):
    job = CompletedJobFactory()

    response = client_for(technician).get(reverse("public:feedback", args=[tokens.make_feedback_token(job)]))

    assert "no-store" in cache_directives(response)
    assert "public" not in cache_directives(response)
