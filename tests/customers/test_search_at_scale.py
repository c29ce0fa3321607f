"""Customer search and the long lists stay fast at a large contractor's size: what the indexes and the capped count
promise, checked on the test database (the figures themselves come from `python -m tests.bench`)."""

import pytest
from django.db import connection
from django.urls import reverse

from customers import views
from customers.models import Customer, Job
from customers.pagination import CappedPaginator
from tests.factories import CustomerFactory, JobFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_text_too_short_for_a_trigram_still_matches_name_address_and_invoice():
    ada = CustomerFactory(name="Ada Lovelace")
    street_only = CustomerFactory(name="Charles Babbage")
    SiteFactory(customer=street_only, street="7 Ov Lane")
    invoice_only = CustomerFactory(name="Mary Somerville")
    # A fixed street: a made-up one could contain "ov" (Grove, Cove) and match the search by chance.
    JobFactory(customer=invoice_only, site__customer=invoice_only, site__street="12 Elm Street", invoice_number="Q7")
    CustomerFactory(name="Grace Hopper")

    assert set(Customer.objects.search("ov")) == {ada, street_only}
    assert list(Customer.objects.search("q7")) == [invoice_only]


def test_each_way_of_matching_is_found_once_even_when_several_match():
    ada = CustomerFactory(name="Ada Lovelace", email="ada@example.com")
    SiteFactory(customer=ada, street="1 Lovelace Row")
    SiteFactory(customer=ada, street="2 Lovelace Row")

    assert list(Customer.objects.search("lovelace")) == [ada]
    assert list(Customer.objects.search("ADA@EXAMPLE.COM")) == [ada]


def test_search_is_one_query_that_the_list_can_still_filter_and_order():
    ada = CustomerFactory(name="Ada Lovelace", contact_opt_out=True)
    CustomerFactory(name="Ada Byron")
    CustomerFactory(name="Ada Adams")

    found = Customer.objects.search("ada").filter(contact_opt_out=False).order_by("name")

    assert [c.name for c in found] == ["Ada Adams", "Ada Byron"]
    assert ada not in found


def test_the_search_indexes_exist_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [[
            "customer_name_trgm", "site_street_trgm", "customer_phone_prefix", "customer_alt_phone_prefix",
            "customer_email_upper", "job_invoice_number_upper", "callback_open_urgency_due",
        ]])
        indexes = dict(cursor.fetchall())

    assert len(indexes) == 7
    assert "gin_trgm_ops" in indexes["customer_name_trgm"] and "upper" in indexes["customer_name_trgm"]
    assert "gin_trgm_ops" in indexes["site_street_trgm"]
    assert "varchar_pattern_ops" in indexes["customer_phone_prefix"]


def test_capped_count_stops_at_the_cap_and_keeps_next_on_offer():
    for _ in range(7):
        CustomerFactory()
    paginator = CappedPaginator(Customer.objects.all(), 2, cap=4)

    page = paginator.get_page(1)

    assert paginator.capped and paginator.limit == 4
    assert paginator.count == 5  # one past the limit, so there is a next page
    assert page.has_next() and len(page) == 2


def test_capped_count_counts_further_when_the_page_asked_for_lies_further_on():
    for _ in range(7):
        CustomerFactory()
    paginator = CappedPaginator(Customer.objects.all(), 2, cap=2)

    page = paginator.get_page(4)

    assert not paginator.capped and paginator.count == 7
    assert page.number == 4 and len(page) == 1 and not page.has_next()


def test_capped_count_is_exact_under_the_cap_and_bad_page_numbers_fall_back():
    for _ in range(3):
        CustomerFactory()
    paginator = CappedPaginator(Customer.objects.all(), 2)

    page = paginator.get_page("x")

    assert not paginator.capped and paginator.count == 3 and page.number == 1


def test_job_list_says_more_than_the_cap_rather_than_counting_every_job(client_for, csr, monkeypatch):
    JobFactory.create_batch(4)
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    monkeypatch.setattr(CappedPaginator.__init__, "__kwdefaults__", {"cap": 2})

    response = client_for(csr).get(reverse("customers:job_list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "2+ jobs" in body and "Page 1 of 3+" in body
    assert Job.objects.count() == 4


def test_customer_list_shows_the_exact_count_under_the_cap(client_for, csr):
    CustomerFactory.create_batch(3, name="Ada Lovelace")

    response = client_for(csr).get(reverse("customers:list"), {"q": "lovelace"})

    assert "3 customers matching" in response.content.decode()


@pytest.mark.parametrize("index, typed", [("customer_name_trgm", "nunez"), ("site_street_trgm", "calle pena")])
def test_accent_free_name_and_street_search_is_served_by_the_trigram_indexes(index, typed):
    jose = CustomerFactory(name="José Núñez")
    SiteFactory(customer=jose, street="14 Calle Peña")
    query = Customer.objects.search(typed)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: the planner would rather read them all
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert index in plan, plan
    assert list(query) == [jose]
