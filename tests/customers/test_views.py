import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, EquipmentFactory, JobFactory

pytestmark = pytest.mark.django_db


def test_pages_require_login(client):
    response = client.get(reverse("customers:list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", ["csr", "manager", "sales"])
def test_office_and_sales_see_every_customer(request, client_for, role):
    customer = CustomerFactory(name="Grace Hopper")
    client = client_for(request.getfixturevalue(role))

    assert "Grace Hopper" in client.get(reverse("customers:list")).content.decode()
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200


def test_user_without_a_role_is_refused(client_for, outsider):
    customer = CustomerFactory()
    client = client_for(outsider)

    assert client.get(reverse("customers:list")).status_code == 403
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 403


def test_technician_sees_only_the_customers_on_their_schedule(client_for, technician):
    mine = JobFactory(lead_technician=technician, site__customer__name="On My Route")
    helping = JobFactory(site__customer__name="Helping Out")
    helping.helpers.add(technician)
    other = JobFactory(site__customer__name="Someone Else")
    client = client_for(technician)

    listing = client.get(reverse("customers:list")).content.decode()

    assert "On My Route" in listing and "Helping Out" in listing
    assert "Someone Else" not in listing
    assert client.get(reverse("customers:detail", args=[mine.customer.pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[other.customer.pk])).status_code == 404
    assert client.get(reverse("customers:job_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("customers:job_detail", args=[helping.pk])).status_code == 200


def test_customer_search_answers_htmx_with_the_results_only(client_for, csr):
    CustomerFactory(name="Ada Lovelace")
    client = client_for(csr)

    response = client.get(
        reverse("customers:list"), {"q": "ada"}, headers={"HX-Request": "true", "HX-Target": "customer-results"}
    )

    body = response.content.decode()
    assert "Ada Lovelace" in body
    assert "<html" not in body


def test_customer_list_query_count_does_not_grow_with_rows(client_for, csr, django_assert_num_queries):
    for _ in range(30):
        JobFactory()
    client = client_for(csr)
    client.get(reverse("customers:list"))  # warm the session and the user's roles

    # session, user, roles, unread notifications, count, page of customers
    with django_assert_num_queries(6):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 200


def test_customer_detail_shows_history_with_constant_queries(client_for, csr, django_assert_num_queries):
    equipment = EquipmentFactory()
    customer = equipment.site.customer
    for n in range(12):
        JobFactory(site=equipment.site, completed=True, summary=f"Visit number {n}")
    client = client_for(csr)

    # session, user, roles, unread notifications, customer, sites, equipment, upcoming jobs,
    # the history: jobs, callbacks, recommendation events, discussions, feedback, the do-not-service decisions
    # (read once for the history and the relationship card), and the trail in one query (job events, consent
    # changes, follow-up call events, calls ended for abuse, texts)
    with django_assert_num_queries(15):
        response = client.get(reverse("customers:detail", args=[customer.pk]))

    body = response.content.decode()
    assert "Visit number 11" in body and "Visit number 0" in body
    assert str(equipment) in body


def test_job_list_filters_by_technician(client_for, manager, technician):
    JobFactory(lead_technician=technician, invoice_number="INV-MINE")
    JobFactory(invoice_number="INV-OTHER")
    client = client_for(manager)

    body = client.get(reverse("customers:job_list"), {"technician": technician.pk}).content.decode()

    assert "INV-MINE" in body and "INV-OTHER" not in body
