import pytest

from customers.models import Customer
from customers.phones import phone_digits
from tests.factories import CustomerFactory, JobFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    ["(555) 010-2233", "555-010-2233", "555.010.2233", "+1 555 010 2233", "1-555-010-2233", "5550102233 ext. 12"],
)
def test_phone_in_any_format_reduces_to_the_same_digits(typed):
    assert phone_digits(typed) == "5550102233"


def test_customer_is_found_by_phone_typed_in_another_format():
    wanted = CustomerFactory(phone="(555) 010-2233", phone_digits="5550102233")
    CustomerFactory(phone="(555) 010-9999", phone_digits="5550109999")

    assert list(Customer.objects.search("+1 555.010.2233")) == [wanted]
    assert list(Customer.objects.search("555-010-22")) == [wanted]


def test_customer_is_found_by_other_phone():
    wanted = CustomerFactory(alt_phone="555 020 1111", alt_phone_digits="5550201111")

    assert list(Customer.objects.search("(555) 020-1111")) == [wanted]


def test_customer_is_found_by_name_address_and_invoice_number():
    ada = CustomerFactory(name="Ada Lovelace")
    SiteFactory(customer=ada, street="12 Analytical Way")
    JobFactory(site__customer=ada, site__street="9 Engine Rd", invoice_number="INV-77881")
    CustomerFactory(name="Charles Babbage")

    assert list(Customer.objects.search("lovelace")) == [ada]
    assert list(Customer.objects.search("analytical")) == [ada]
    assert list(Customer.objects.search("inv-77881")) == [ada]


def test_empty_search_returns_everyone():
    CustomerFactory.create_batch(3)

    assert Customer.objects.search("  ").count() == 3


def test_name_and_address_search_ignores_accents_and_case():
    jose = CustomerFactory(name="José Núñez")
    SiteFactory(customer=jose, street="14 Calle Peña")
    CustomerFactory(name="Joseph Nunn")

    assert list(Customer.objects.search("nunez")) == [jose]
    assert list(Customer.objects.search("NÚÑEZ")) == [jose]
    assert list(Customer.objects.search("calle pena")) == [jose]
    assert list(Customer.objects.search("ÑE")) == [jose]  # too short for a trigram: the other branch, same rule
