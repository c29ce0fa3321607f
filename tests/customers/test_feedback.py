"""Feedback and reminder consent, at the service level (the public pages are in tests/servicedesk/test_public.py)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers import services
from customers.models import Feedback
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_feedback_is_recorded_against_the_job_and_its_customer():
    job = CompletedJobFactory()
    feedback = services.feedback_receive(job=job, kind="praise", text="  Spotless work. ", rating=5)
    assert (feedback.job, feedback.customer, feedback.text, feedback.rating) == (job, job.customer, "Spotless work.", 5)
    assert not feedback.needs_callback


@pytest.mark.parametrize(("kind", "wants_call_back", "needs"), [
    ("complaint", False, True), ("concern", False, True), ("question", True, True), ("praise", True, True),
    ("question", False, False), ("praise", False, False),
])
def test_a_complaint_a_concern_or_a_call_back_request_needs_a_callback(kind, wants_call_back, needs):
    assert Feedback(kind=kind, wants_call_back=wants_call_back).needs_callback is needs


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "rant", "text": "x"}, "kind"),
    ({"kind": "praise", "text": "   "}, "text"),
    ({"kind": "praise", "text": "x" * 4001}, "text"),
    ({"kind": "praise", "text": "x", "rating": 0}, "rating"),
    ({"kind": "praise", "text": "x", "rating": 6}, "rating"),
])
def test_bad_feedback_is_refused_with_the_field_named(data, field):
    with pytest.raises(ValidationError) as error:
        services.feedback_receive(job=CompletedJobFactory(), **data)
    assert field in error.value.message_dict
    assert not Feedback.objects.exists()


def test_a_csr_records_consent_to_reminders_and_its_withdrawal(csr):
    customer = CustomerFactory(email="pat@example.com")
    services.customer_set_reminders(customer=customer, by=csr, opt_in=True)
    customer.refresh_from_db()
    assert customer.reminders_opt_in and customer.reminders_opt_in_at is not None

    services.customer_set_reminders(customer=customer, by=csr, opt_in=False)
    customer.refresh_from_db()
    assert not customer.reminders_opt_in and customer.reminders_unsubscribed_at is not None


def test_reminders_need_an_email_address_and_an_office_user(csr, technician, outsider):
    with pytest.raises(ValidationError, match="e-mail address"):
        services.customer_set_reminders(customer=CustomerFactory(email=""), by=csr, opt_in=True)
    for person in (technician, outsider):
        with pytest.raises(PermissionDenied):
            services.customer_set_reminders(customer=CustomerFactory(), by=person, opt_in=True)


def test_unsubscribing_is_recorded_once():
    customer = CustomerFactory(reminders_opt_in=True)
    assert services.customer_unsubscribe(customer=customer) is True
    first = customer.reminders_unsubscribed_at
    assert services.customer_unsubscribe(customer=customer) is False
    assert customer.reminders_unsubscribed_at == first and not customer.reminders_opt_in


def test_feedback_shows_in_the_customer_history(client_for, csr):
    job = CompletedJobFactory()
    services.feedback_receive(job=job, kind="concern", text="A drip under the heater.", wants_call_back=True)
    page = client_for(csr).get(reverse("customers:detail", args=[job.customer_id])).content.decode()
    assert "Concern on the feedback page" in page and "A drip under the heater." in page
