"""Issue 19, point 3: each kind of integration's fixture payloads (shaped as the vendor's records), signed and
delivered to /hooks/<id>/, create and update the right rows through the API's own upsert path, and an approved
estimate accepts the matching recommendation. Unknown event kinds are stored and ignored."""

import pytest
from django.utils.dateparse import parse_datetime

from customers.models import Customer, Job, Site
from recommendations.models import Recommendation
from servicedesk.integrations.intake.models import InboxEvent
from servicedesk.integrations.models import Integration
from tests.recommendations.factories import RecommendationFactory

from .conftest import fixtures

pytestmark = pytest.mark.django_db


def _deliver_all(deliver, integration, events, until=None):
    for kind, payload in events.items():
        response = deliver(integration, payload)
        assert response.status_code == 202, (kind, response.content)
        if kind == until:
            return


def _assert_processed(integration):
    failed = list(InboxEvent.objects.filter(integration=integration).exclude(
        state__in=[InboxEvent.State.PROCESSED, InboxEvent.State.IGNORED]).values_list("kind", "result"))
    assert failed == []


def test_generic_events_in_the_apis_record_shape_create_and_update_every_kind(deliver, integration_of, technicians):
    integration = integration_of(Integration.Kind.GENERIC)
    events = fixtures("generic")
    tom, hana = technicians

    _deliver_all(deliver, integration, events, until="job.technicians_assigned")
    _assert_processed(integration)
    job = Job.objects.get(external_id="J-500")
    assert job.status == Job.Status.SCHEDULED and job.kind == Job.Kind.SERVICE_CALL
    assert job.scheduled_start == parse_datetime("2026-12-03T09:00:00-06:00")  # rescheduled
    assert job.lead_technician == tom and list(job.helpers.all()) == [hana]
    assert job.equipment.external_id == "E-500"
    customer = Customer.objects.get(external_id="C-500")
    assert customer.email == "ada.l@example.com" and customer.preferred_contact == "text"
    assert Site.objects.get(external_id="S-500").access_notes == "Gate code 4412"

    recommendation = RecommendationFactory(site=job.site, what="Replace the cracked heat exchanger")
    _deliver_all(deliver, integration, {kind: payload for kind, payload in events.items()
                                        if kind in ("job.started", "job.completed", "job.cancelled",
                                                    "estimate.approved", "invoice.paid")})
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.completed_elsewhere
    assert job.completed_at == parse_datetime("2026-12-03T10:20:00-06:00")
    assert job.summary == "Replaced the igniter; ran two full cycles."
    assert Job.objects.get(external_id="J-501").status == Job.Status.CANCELLED
    recommendation.refresh_from_db()
    assert recommendation.state == Recommendation.State.ACCEPTED and recommendation.accepted_job == job
    assert InboxEvent.objects.get(kind="invoice.paid").state == InboxEvent.State.IGNORED
    _assert_processed(integration)


def test_housecall_pro_events_create_and_update_customer_address_and_job(deliver, integration_of, technicians):
    integration = integration_of(Integration.Kind.HOUSECALL_PRO)
    events = fixtures("housecall_pro")
    tom, hana = technicians

    _deliver_all(deliver, integration, events, until="job.appointment.appointment_pros_assigned")
    job = Job.objects.get(external_id="job_7c3b0")
    assert job.status == Job.Status.SCHEDULED and job.invoice_number == "1042"
    assert job.scheduled_start == parse_datetime("2026-12-03T15:00:00Z")
    assert job.lead_technician == tom and list(job.helpers.all()) == [hana]
    customer = Customer.objects.get(external_id="cus_4a17e")
    # The job's copy of the customer is older than the customer.updated event: the newer e-mail stays.
    assert customer.name == "Ada Lovelace" and customer.email == "ada.l@example.com"
    assert customer.phone_digits == "5550109000"
    site = Site.objects.get(external_id="adr_9f2c1")
    assert (site.street, site.unit, site.postal_code, site.customer) == ("1 Analytical Way", "Unit 2", "62701",
                                                                         customer)

    deliver(integration, events["job.started"])
    assert Job.objects.get(pk=job.pk).status == Job.Status.IN_PROGRESS
    recommendation = RecommendationFactory(site=site, what="Replace the cracked heat exchanger")
    RecommendationFactory(site=site, what="Add a carbon monoxide alarm")
    _deliver_all(deliver, integration, {kind: events[kind] for kind in (
        "job.completed", "job.canceled", "estimate.option.approval_status_changed", "job.paid")})
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.completed_elsewhere
    assert job.completed_at == parse_datetime("2026-12-03T16:20:00Z")
    assert Job.objects.get(external_id="job_8d4e1").status == Job.Status.CANCELLED
    recommendation.refresh_from_db()
    assert recommendation.state == Recommendation.State.ACCEPTED and recommendation.accepted_job == job
    assert Recommendation.objects.filter(state=Recommendation.State.OPEN).count() == 1  # worded otherwise
    assert InboxEvent.objects.get(kind="job.paid").state == InboxEvent.State.IGNORED
    _assert_processed(integration)


def test_servicetitan_events_create_and_update_customer_location_and_job(deliver, integration_of, technicians):
    integration = integration_of(Integration.Kind.SERVICETITAN)
    events = fixtures("servicetitan")
    tom, hana = technicians

    _deliver_all(deliver, integration, events, until="JobStarted")
    job = Job.objects.get(external_id="61001")
    assert job.status == Job.Status.IN_PROGRESS
    assert job.scheduled_start == parse_datetime("2026-12-03T15:00:00Z")
    assert job.lead_technician == tom and list(job.helpers.all()) == [hana]
    assert Customer.objects.get(external_id="5001").name == "Ada King Lovelace"
    assert Site.objects.get(external_id="7001").label == "Main house"

    recommendation = RecommendationFactory(site=job.site, raised_on_job=job, what="Replace the heat exchanger")
    _deliver_all(deliver, integration, {kind: events[kind] for kind in (
        "JobCompleted", "JobCanceled", "EstimateSold", "InvoicePosted")})
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED and job.completed_elsewhere
    assert Job.objects.get(external_id="61002").status == Job.Status.CANCELLED
    recommendation.refresh_from_db()  # raised on the estimate's job: the one it matches, however worded
    assert recommendation.state == Recommendation.State.ACCEPTED and recommendation.accepted_job == job
    assert InboxEvent.objects.get(kind="InvoicePosted").state == InboxEvent.State.IGNORED
    _assert_processed(integration)
