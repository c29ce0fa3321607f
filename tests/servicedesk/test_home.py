from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import WorkerHeartbeat
from servicedesk.tasks import record_heartbeat
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def test_technician_day_lists_only_their_jobs_today(client_for, technician):
    JobFactory(lead_technician=technician, site__customer__name="My Customer Today")
    JobFactory(site__customer__name="Another Technicians Customer")
    JobFactory(
        lead_technician=technician,
        site__customer__name="Next Week Customer",
        scheduled_start=timezone.now() + timedelta(days=7),
    )

    body = client_for(technician).get(reverse("home")).content.decode()

    assert "My day" in body
    assert "My Customer Today" in body
    assert "Another Technicians Customer" not in body
    assert "Next Week Customer" in body  # under "Coming up"


def test_office_today_shows_the_whole_schedule(client_for, csr):
    JobFactory(site__customer__name="First Customer")
    JobFactory(site__customer__name="Second Customer")

    body = client_for(csr).get(reverse("home")).content.decode()

    assert "First Customer" in body and "Second Customer" in body


def test_sales_start_on_the_customer_search(client_for, sales):
    response = client_for(sales).get(reverse("home"))

    assert response.status_code == 302
    assert response.url == reverse("customers:list")


def test_user_without_a_role_gets_no_start_page(client_for, outsider):
    assert client_for(outsider).get(reverse("home")).status_code == 403


def test_manager_is_warned_when_the_worker_has_not_been_seen(client_for, manager):
    WorkerHeartbeat.objects.create(name="worker", last_seen=timezone.now() - timedelta(hours=1))

    body = client_for(manager).get(reverse("home")).content.decode()

    assert "are not being queued" in body


def test_heartbeat_task_keeps_one_row_per_worker(client_for, manager):
    record_heartbeat("worker")
    record_heartbeat("worker")

    assert WorkerHeartbeat.objects.filter(name="worker").count() == 1
    assert "are not being queued" not in client_for(manager).get(reverse("home")).content.decode()


def test_home_query_count_does_not_grow_with_jobs(client_for, csr, django_assert_max_num_queries):
    for _ in range(20):
        JobFactory()
    client = client_for(csr)

    with django_assert_max_num_queries(8):
        client.get(reverse("home"))


def test_health_check_answers_without_login(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.content == b"ok"
