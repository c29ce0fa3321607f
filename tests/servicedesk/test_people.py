"""People are shown by their full name wherever a person is shown: filters, the admin, escalations, exports.
Their user name is only where they log in."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from recommendations import sweeps
from servicedesk.models import Notification
from servicedesk.people import full_name_sql, name_choices
from tests.callbacks.factories import CallbackFactory
from tests.factories import JobFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def test_a_user_is_named_by_full_name_and_by_user_name_only_without_one(technician):
    nameless = UserFactory(username="service-account", first_name="", last_name="")

    assert str(technician) == "Tom Alvarez"
    assert str(nameless) == "service-account"
    names = dict(type(technician).objects.values_list("username", full_name_sql()))
    assert names["technician"] == "Tom Alvarez" and names["service-account"] == "service-account"
    assert name_choices(type(technician).objects.filter(pk=technician.pk)) == [(technician.pk, "Tom Alvarez")]


def test_the_technician_filters_offer_full_names(client_for, csr, technician):
    client = client_for(csr)

    for url in (reverse("callbacks:list"), reverse("customers:job_list")):
        body = client.get(url).content.decode()
        assert f'<option value="{technician.pk}">Tom Alvarez</option>' in body, url
        assert ">technician<" not in body, url


def test_the_recommendation_owner_filter_offers_full_names(client_for, manager, technician):
    RecommendationFactory(owner=technician, raised_by=technician)

    body = client_for(manager).get(reverse("recommendations:list")).content.decode()

    assert f'<option value="{technician.pk}">Tom Alvarez</option>' in body
    assert ">technician<" not in body


def test_the_admin_names_people_in_lists_and_choices(client_for, manager, technician):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    RecommendationFactory(owner=technician, raised_by=technician)
    job = JobFactory(lead_technician=technician)
    client = client_for(manager)

    changelist = client.get(reverse("admin:recommendations_recommendation_changelist")).content.decode()
    change = client.get(reverse("admin:customers_job_change", args=[job.pk])).content.decode()

    assert "Tom Alvarez" in changelist and ">technician<" not in changelist
    assert f'<option value="{technician.pk}" selected>Tom Alvarez</option>' in change


def test_a_stale_lead_escalation_names_the_owner_by_full_name(manager, sales, settings):
    settings.STALE_LEAD_DAYS = 7
    RecommendationFactory(owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=8))

    sweeps.escalate_stale_leads()

    text = Notification.objects.get(recipient=manager).text
    assert "owner Sam Park" in text and "owner sales" not in text


def test_the_callback_export_names_the_technicians_by_full_name(client_for, manager, technician):
    CallbackFactory(job__lead_technician=technician)

    response = client_for(manager).get(reverse("callbacks:export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0]["Caused by (lead)"] == "Tom Alvarez"
    assert rows[0]["Fixed by (lead)"] == ""
