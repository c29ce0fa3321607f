"""Do-not-service, done right (seed 002): proposed with documented attempts, decided by a manager, reversible."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from callbacks.services import callback_log
from customers import services
from customers.models import AbusiveCall, Customer, DoNotServiceDecision
from recommendations.services import recommendation_accept
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import CustomerFactory, JobFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def propose(customer, by):
    return services.do_not_service_propose(
        customer=customer, by=by, reasons="Abusive to two CSRs.", attempts="Mar 3 manager call; Mar 9 revisit free."
    )


def test_a_proposal_needs_reasons_and_documented_attempts(csr):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.do_not_service_propose(customer=customer, by=csr, reasons=" ", attempts="")
    assert set(error.value.message_dict) == {"reasons", "attempts"}
    assert not DoNotServiceDecision.objects.exists()


def test_only_a_manager_approves_and_the_flag_is_kept_on_the_customer(csr, manager, technician, outsider):
    customer = CustomerFactory()
    decision = propose(customer, csr)
    for person in (csr, technician, outsider):
        with pytest.raises(PermissionDenied):
            services.do_not_service_approve(decision=decision, by=person)
    customer.refresh_from_db()
    assert not customer.do_not_service

    services.do_not_service_approve(decision=decision, by=manager, note="Agreed.")

    customer.refresh_from_db()
    decision.refresh_from_db()
    assert customer.do_not_service and customer.do_not_service_since == decision.decided_at
    assert (decision.state, decision.decided_by) == ("approved", manager)


def test_outsiders_and_technicians_cannot_propose(technician, outsider):
    customer = CustomerFactory()
    for person in (technician, outsider):
        with pytest.raises(PermissionDenied):
            propose(customer, person)


def test_a_second_proposal_while_one_waits_is_refused(csr):
    customer = CustomerFactory()
    propose(customer, csr)
    with pytest.raises(ValidationError, match="already waiting"):
        propose(customer, csr)


def test_declining_needs_a_note_and_lets_a_new_proposal_follow(csr, manager):
    customer = CustomerFactory()
    decision = propose(customer, csr)
    with pytest.raises(ValidationError):
        services.do_not_service_decline(decision=decision, by=manager, note="")
    services.do_not_service_decline(decision=decision, by=manager, note="Try one more manager call.")
    assert propose(customer, csr).state == "proposed"


def test_a_manager_lifts_it_with_the_reason_kept(csr, manager):
    customer = CustomerFactory()
    services.do_not_service_approve(decision=propose(customer, csr), by=manager)
    with pytest.raises(PermissionDenied):
        services.do_not_service_lift(customer=customer, by=csr, reason="Apologised")

    services.do_not_service_lift(customer=customer, by=manager, reason="Apologised in writing.")

    customer.refresh_from_db()
    decision = DoNotServiceDecision.objects.get()
    assert not customer.do_not_service
    assert (decision.state, decision.lifted_by, decision.lift_reason) == ("lifted", manager, "Apologised in writing.")


def test_a_new_booking_is_refused_with_a_clear_message_but_a_callback_on_past_work_is_taken(csr, manager):
    job = CompletedJobFactory()
    customer = job.customer
    recommendation = RecommendationFactory(site=job.site)
    services.do_not_service_approve(decision=propose(customer, csr), by=manager)
    recommendation.customer.refresh_from_db()

    with pytest.raises(ValidationError, match="do-not-service"):
        recommendation_accept(recommendation=recommendation, by=csr, scheduled_start=timezone.now() + timedelta(days=2))

    callback = callback_log(job=job, problem="Still no heat.", channel="phone", urgency="normal", logged_by=csr)
    assert Callback.objects.get() == callback  # we still stand behind work already done


def test_jobs_already_booked_are_listed_for_a_decision(csr, manager):
    job = JobFactory()
    services.do_not_service_approve(decision=propose(job.customer, csr), by=manager)
    assert list(services.booked_jobs_needing_decision(job.customer)) == [job]


def test_a_call_ended_for_abuse_needs_the_warning_first(csr):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.abusive_call_record(customer=customer, by=csr, warned=False, what_happened="Swore at me.")
    assert "warned" in error.value.message_dict
    services.abusive_call_record(customer=customer, by=csr, warned=True, what_happened="Swore after the warning.")
    assert AbusiveCall.objects.get().recorded_by == csr


# --- pages --------------------------------------------------------------------------------------------------------


def test_csr_proposes_and_manager_approves_from_the_customer_page(client_for, csr, manager):
    customer = CustomerFactory()
    JobFactory(site__customer=customer)
    csr_client = client_for(csr)
    csr_client.post(reverse("customers:abusive_call", args=[customer.pk]),
                    {"warned": "on", "what_happened": "Cursed after the warning; call ended."})
    csr_client.post(reverse("customers:do_not_service_propose", args=[customer.pk]),
                    {"reasons": "Abusive on three calls.", "attempts": "See the calls ended for abuse."})
    decision = DoNotServiceDecision.objects.get()
    page = csr_client.get(customer.get_absolute_url()).content.decode()
    assert "waiting for a manager" in page and "Approve do-not-service" not in page
    assert "Call ended for abuse, after a warning" in page  # the documented attempt is in the history
    assert csr_client.post(reverse("customers:do_not_service_decide", args=[customer.pk, decision.pk]),
                           {"approve": "yes"}).status_code == 403

    manager_client = client_for(manager)
    assert "Approve do-not-service" in manager_client.get(customer.get_absolute_url()).content.decode()
    manager_client.post(reverse("customers:do_not_service_decide", args=[customer.pk, decision.pk]), {"approve": "yes"})

    page = manager_client.get(customer.get_absolute_url()).content.decode()
    assert Customer.objects.get(pk=customer.pk).do_not_service
    assert "Jobs already booked need a decision" in page and "Lift do-not-service" in page


def test_outsiders_and_technicians_get_no_do_not_service_pages(client_for, technician, outsider):
    customer = CustomerFactory()
    for person in (technician, outsider):
        client = client_for(person)
        response = client.post(reverse("customers:do_not_service_propose", args=[customer.pk]),
                               {"reasons": "x", "attempts": "y"})
        assert response.status_code == 403
    assert not DoNotServiceDecision.objects.exists()


def test_a_decision_of_another_customer_is_not_found(client_for, csr, manager):
    decision = propose(CustomerFactory(), csr)
    other = CustomerFactory()
    response = client_for(manager).post(
        reverse("customers:do_not_service_decide", args=[other.pk, decision.pk]), {"approve": "yes"}
    )
    assert response.status_code == 404


def test_a_proposal_without_attempts_shows_a_clear_message(client_for, csr):
    customer = CustomerFactory()
    response = client_for(csr).post(reverse("customers:do_not_service_propose", args=[customer.pk]),
                                    {"reasons": "Rude."}, follow=True)
    assert "List the attempts made" in response.content.decode()
    assert not DoNotServiceDecision.objects.exists()
