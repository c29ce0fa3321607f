"""Do-not-service, done right (seed 002): proposed with documented attempts, decided by a manager, reversible."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback
from callbacks.services import callback_acknowledge, callback_log, callback_schedule_revisit
from customers import services
from customers.models import AbusiveCall, BookedJobDecision, Customer, DoNotServiceDecision, Job
from recommendations.services import recommendation_accept
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import CustomerFactory, JobFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def attempt(days_ago, channel, what_happened):
    return {"attempted_on": timezone.localdate() - timedelta(days=days_ago), "channel": channel,
            "what_happened": what_happened}


ATTEMPTS = [attempt(30, "phone", "Manager called to apologise; customer swore and hung up."),
            attempt(24, "in_person", "Free revisit to re-check the furnace; customer refused entry.")]


def propose(customer, by):
    return services.do_not_service_propose(customer=customer, by=by, reasons="Abusive to two CSRs.", attempts=ATTEMPTS)


def test_a_proposal_needs_reasons_and_documented_attempts(csr):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as error:
        services.do_not_service_propose(customer=customer, by=csr, reasons=" ", attempts=[])
    assert set(error.value.message_dict) == {"reasons", "attempts"}
    assert not DoNotServiceDecision.objects.exists()


@pytest.mark.parametrize("attempts, problem", [
    ([attempt(3, "phone", "n/a")], "at least 2 attempts"),
    ([attempt(3, "phone", "n/a"), attempt(2, "email", "N/A")], '"n/a" is not an attempt'),
    ([attempt(3, "phone", "Called twice, no answer; left a voicemail."),
      {"attempted_on": None, "channel": "letter", "what_happened": "Wrote to offer a meeting."}], "give the date"),
    ([attempt(3, "", "Called twice, no answer; left a voicemail."), ATTEMPTS[1]], "how the customer was contacted"),
    ([attempt(-2, "phone", "Called twice, no answer; left a voicemail."), ATTEMPTS[1]], "in the future"),
])
def test_documented_attempts_are_at_least_two_each_with_a_date_a_channel_and_what_happened(csr, attempts, problem):
    customer = CustomerFactory()

    with pytest.raises(ValidationError) as error:
        services.do_not_service_propose(customer=customer, by=csr, reasons="Abusive.", attempts=attempts)

    assert problem in " ".join(error.value.message_dict["attempts"])
    assert not DoNotServiceDecision.objects.exists()


def test_the_documented_attempts_are_kept_with_the_proposal(csr):
    decision = propose(CustomerFactory(), csr)

    assert [(a.channel, a.what_happened) for a in decision.documented_attempts.all()] == [
        ("phone", "Manager called to apologise; customer swore and hung up."),
        ("in_person", "Free revisit to re-check the furnace; customer refused entry."),
    ]


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


def test_each_booked_job_is_kept_or_cancelled_with_a_reason(csr, manager, technician):
    kept = JobFactory()
    customer = kept.customer
    cancelled = JobFactory(site=kept.site)
    services.do_not_service_approve(decision=propose(customer, csr), by=manager)
    with pytest.raises(ValidationError):
        services.do_not_service_decide_booked_job(job=kept, by=csr, keep=True, reason=" ")
    with pytest.raises(PermissionDenied):
        services.do_not_service_decide_booked_job(job=kept, by=technician, keep=True, reason="Parts ordered.")

    services.do_not_service_decide_booked_job(job=kept, by=csr, keep=True, reason="Parts already ordered for it.")
    services.do_not_service_decide_booked_job(job=cancelled, by=manager, keep=False, reason="Told the customer.")

    cancelled.refresh_from_db()
    assert cancelled.status == Job.Status.CANCELLED
    assert list(services.booked_jobs_needing_decision(customer)) == []
    assert [(d.job, d.outcome, d.reason) for d in BookedJobDecision.objects.order_by("pk")] == [
        (kept, "keep", "Parts already ordered for it."), (cancelled, "cancel", "Told the customer."),
    ]
    with pytest.raises(ValidationError, match="already decided"):
        services.do_not_service_decide_booked_job(job=kept, by=csr, keep=False, reason="Changed my mind.")
    # The cancellation is on the job's trail, with who and why.
    assert [(e.action, e.by, e.from_status, e.to_status, e.note) for e in cancelled.events.all()] == [
        ("status_changed", manager, "scheduled", "cancelled", "Do-not-service: Told the customer.")
    ]


def test_a_job_is_decided_only_while_do_not_service_is_in_force(csr):
    job = JobFactory()
    with pytest.raises(ValidationError, match="not marked do-not-service"):
        services.do_not_service_decide_booked_job(job=job, by=csr, keep=False, reason="Rude.")
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED


def test_job_book_refuses_a_do_not_service_customer_but_books_the_revisit_of_a_callback(csr, manager):
    job = CompletedJobFactory()
    customer = job.customer
    services.do_not_service_approve(decision=propose(customer, csr), by=manager)
    start = timezone.now() + timedelta(days=1)
    booking = {"customer_id": customer.pk, "site_id": job.site_id, "kind": Job.Kind.SERVICE_CALL,
               "scheduled_start": start, "scheduled_end": start + timedelta(hours=1), "summary": "Tune-up"}

    with pytest.raises(services.BookingRefused, match="do-not-service"):
        services.job_book(**booking)
    assert Job.objects.count() == 1

    services.job_book(**{**booking, "kind": Job.Kind.CALLBACK_REVISIT}, revisit_of_past_work=True)
    assert Job.objects.count() == 2


def test_a_callback_revisit_is_still_scheduled_for_a_do_not_service_customer(csr, manager, technician):
    job = CompletedJobFactory()
    callback = callback_log(job=job, problem="Still no heat.", channel="phone", urgency="normal", logged_by=csr)
    callback_acknowledge(callback=callback, by=csr)
    services.do_not_service_approve(decision=propose(job.customer, csr), by=manager)

    callback_schedule_revisit(callback=callback, by=csr, technician=technician,
                              start=timezone.now() + timedelta(days=1))

    assert Callback.objects.get().revisit_job.kind == Job.Kind.CALLBACK_REVISIT


def test_the_admin_refuses_to_book_a_job_for_a_do_not_service_customer(client, csr, manager):
    manager.is_staff = manager.is_superuser = True
    manager.save()
    job = CompletedJobFactory()
    services.do_not_service_approve(decision=propose(job.customer, csr), by=manager)
    client.force_login(manager)
    start = timezone.localtime() + timedelta(days=2)
    form = {
        "customer": job.customer_id, "site": job.site_id, "kind": "service_call", "status": "scheduled",
        "scheduled_start_0": f"{start:%Y-%m-%d}", "scheduled_start_1": "09:00:00",
        "scheduled_end_0": f"{start:%Y-%m-%d}", "scheduled_end_1": "10:00:00", "summary": "Tune-up",
        "invoice_number": "", "external_id": "",
    }

    response = client.post(reverse("admin:customers_job_add"), form)

    assert response.status_code == 200 and "is marked do-not-service" in response.content.decode()
    assert Job.objects.count() == 1
    # A past job entered as completed is a record, not a booking.
    done = {**form, "status": "completed", "completed_at_0": f"{start:%Y-%m-%d}", "completed_at_1": "10:00:00"}
    assert client.post(reverse("admin:customers_job_add"), done).status_code == 302
    assert Job.objects.count() == 2


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
    csr_client.post(reverse("customers:do_not_service_propose", args=[customer.pk]), {
        "reasons": "Abusive on three calls.", **_attempt_fields(ATTEMPTS),
    })
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


def _attempt_fields(attempts):
    fields = {"attempt-TOTAL_FORMS": "3", "attempt-INITIAL_FORMS": "0"}
    for index, one in enumerate(attempts):
        fields.update({f"attempt-{index}-attempted_on": one["attempted_on"].isoformat(),
                       f"attempt-{index}-channel": one["channel"],
                       f"attempt-{index}-what_happened": one["what_happened"]})
    return fields


def test_the_customer_page_keeps_or_cancels_each_booked_job_with_a_reason(client_for, csr, manager):
    job = JobFactory()
    other = JobFactory(site=job.site)
    customer = job.customer
    services.do_not_service_approve(decision=propose(customer, csr), by=manager)
    client = client_for(csr)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:do_not_service_booked_job", args=[customer.pk, job.pk]) in page
    assert "Jobs already booked need a decision: 2 under Upcoming jobs" in page

    client.post(reverse("customers:do_not_service_booked_job", args=[customer.pk, job.pk]),
                {"keep": "yes", "reason": "Warranty work already promised."})
    response = client.post(reverse("customers:do_not_service_booked_job", args=[customer.pk, other.pk]),
                           {"keep": "no", "reason": "Customer told by letter."}, follow=True)

    page = response.content.decode()
    assert "is cancelled" in page and "Warranty work already promised." in page
    assert "need a decision" not in page
    other.refresh_from_db()
    assert other.status == Job.Status.CANCELLED
    assert "Cancelled under do-not-service by Carla Reyes" in client.get(other.get_absolute_url()).content.decode()


def test_the_proposal_form_posts_each_attempt_and_refuses_n_a(client_for, csr):
    customer = CustomerFactory()
    client = client_for(csr)
    assert 'name="attempt-0-channel"' in client.get(customer.get_absolute_url()).content.decode()

    response = client.post(reverse("customers:do_not_service_propose", args=[customer.pk]), {
        "reasons": "Rude.", **_attempt_fields([attempt(2, "phone", "n/a"), attempt(1, "phone", "n/a")]),
    }, follow=True)

    assert "is not an attempt" in response.content.decode()
    assert not DoNotServiceDecision.objects.exists()
    client.post(reverse("customers:do_not_service_propose", args=[customer.pk]),
                {"reasons": "Rude.", **_attempt_fields(ATTEMPTS)})
    assert DoNotServiceDecision.objects.get().documented_attempts.count() == 2


def test_do_not_service_shows_on_the_job_page_and_the_log_a_callback_form(client_for, csr, manager, technician):
    job = CompletedJobFactory(lead_technician=technician)
    services.do_not_service_approve(decision=propose(job.customer, csr), by=manager)
    warning = f"<strong>Do not service:</strong> {job.customer.name} is marked do-not-service"

    assert warning in client_for(technician).get(job.get_absolute_url()).content.decode()
    assert warning in client_for(csr).get(reverse("callbacks:new"), {"customer": job.customer_id}).content.decode()
    found = client_for(csr).get(reverse("callbacks:new"), {"q": job.customer.name}).content.decode()
    assert "Do not service</span>" in found


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
    assert "Document at least 2 attempts" in response.content.decode()
    assert not DoNotServiceDecision.objects.exists()
