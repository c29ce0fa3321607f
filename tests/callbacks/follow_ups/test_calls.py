"""Follow-up calls: when they fall due, the queue that hands them out, and what each outcome does."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks.follow_ups import services as calls
from callbacks.follow_ups.models import CallAttempt, FollowUpCall, FollowUpRule, Referral
from callbacks.models import Callback
from customers.models import Customer, Job
from recommendations.models import Recommendation
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

State = FollowUpCall.State
Outcome = FollowUpCall.Outcome


def _completed(kind=Job.Kind.SERVICE_CALL, *, days_ago, **kwargs):
    done = timezone.now() - timedelta(days=days_ago)
    return CompletedJobFactory(kind=kind, scheduled_start=done - timedelta(hours=2), completed_at=done, **kwargs)


# --- scheduling -----------------------------------------------------------------------------------------------------


def test_default_rules_call_two_days_after_a_service_call_and_never_after_an_estimate():
    assert calls.follow_up_rules() == {
        "service_call": 2, "maintenance": 3, "install": 7, "estimate": None, "callback_revisit": None,
    }


def test_a_call_falls_due_the_rules_days_after_completion():
    due = _completed(Job.Kind.SERVICE_CALL, days_ago=3)
    not_yet = _completed(Job.Kind.SERVICE_CALL, days_ago=1)
    install_not_yet = _completed(Job.Kind.INSTALL, days_ago=3)
    install_due = _completed(Job.Kind.INSTALL, days_ago=8)
    _completed(Job.Kind.ESTIMATE, days_ago=10)
    JobFactory()  # scheduled, not completed

    assert calls.schedule_follow_up_calls() == 2

    scheduled = FollowUpCall.objects.order_by("pk")
    assert {call.job_id for call in scheduled} == {due.pk, install_due.pk}
    call = scheduled.get(job=due)
    assert call.state == State.DUE and call.attempts == 0
    assert call.due_at == due.completed_at + timedelta(days=2) == call.next_attempt_at
    assert call.customer_id == due.customer_id
    assert not FollowUpCall.objects.filter(job__in=[not_yet, install_not_yet]).exists()


def test_a_manager_turning_a_kind_off_stops_its_calls(manager):
    _completed(Job.Kind.SERVICE_CALL, days_ago=3)
    calls.follow_up_rules_set(rules={"service_call": None}, by=manager)

    assert calls.schedule_follow_up_calls() == 0
    assert FollowUpRule.objects.get(job_kind="service_call").updated_by == manager


def test_only_managers_change_the_rules(csr):
    with pytest.raises(ValidationError):
        calls.follow_up_rules_set(rules={"service_call": 5}, by=csr)


def test_no_call_to_a_customer_who_opted_out_of_contact():
    _completed(days_ago=3, equipment__site__customer__contact_opt_out=True)

    assert calls.schedule_follow_up_calls() == 0


def test_no_call_to_a_customer_marked_do_not_service_and_a_due_call_is_cancelled():
    _completed(days_ago=3, equipment__site__customer__do_not_service=True)
    already_due = FollowUpCallFactory()
    Customer.objects.filter(pk=already_due.customer_id).update(do_not_service=True)

    assert calls.schedule_follow_up_calls() == 0
    already_due.refresh_from_db()
    assert already_due.state == State.CANCELLED and "do-not-service" in already_due.cancel_reason


def test_no_call_while_a_callback_on_the_job_is_open_and_a_due_call_is_cancelled():
    in_callback = _completed(days_ago=3)
    CallbackFactory(job=in_callback)
    already_due = FollowUpCallFactory()
    CallbackFactory(job=already_due.job)

    calls.schedule_follow_up_calls()

    assert not FollowUpCall.objects.filter(job=in_callback).exists()
    already_due.refresh_from_db()
    assert already_due.state == State.CANCELLED and "callback" in already_due.cancel_reason


def test_a_job_whose_call_fell_due_beyond_the_window_gets_no_call(settings):
    settings.FOLLOW_UP_CALL_WINDOW_DAYS = 14
    _completed(days_ago=2 + 15)

    assert calls.schedule_follow_up_calls() == 0


def test_running_the_sweep_twice_creates_each_call_once():
    _completed(days_ago=3)
    _completed(days_ago=4)

    assert calls.schedule_follow_up_calls() == 2
    assert calls.schedule_follow_up_calls() == 0
    assert FollowUpCall.objects.count() == 2


@pytest.mark.parametrize("jobs", [1, 30])
def test_the_sweep_is_a_fixed_number_of_queries(jobs, django_assert_num_queries):
    for _ in range(jobs):
        _completed(days_ago=3)

    # rules, savepoint, three cancelling updates, the insert, release: the same for 1 job or 30
    with django_assert_num_queries(7):
        assert calls.schedule_follow_up_calls() == jobs


# --- the queue ------------------------------------------------------------------------------------------------------


def test_next_call_hands_out_the_most_overdue_due_call(csr):
    FollowUpCallFactory(next_attempt_at=timezone.now() - timedelta(hours=1))
    oldest = FollowUpCallFactory(next_attempt_at=timezone.now() - timedelta(days=2))
    FollowUpCallFactory(next_attempt_at=timezone.now() + timedelta(hours=3))  # a retry, not yet

    call = calls.call_claim_next(by=csr)

    assert call == oldest
    assert call.state == State.CLAIMED and call.claimed_by == csr and call.claimed_until > timezone.now()


def test_a_csr_with_a_call_in_hand_gets_the_same_call_again(csr):
    FollowUpCallFactory.create_batch(2)

    first = calls.call_claim_next(by=csr)

    assert calls.call_claim_next(by=csr) == first
    assert FollowUpCall.objects.filter(state=State.CLAIMED).count() == 1


def test_two_csrs_get_different_calls(csr, manager):
    FollowUpCallFactory.create_batch(2)

    assert calls.call_claim_next(by=csr) != calls.call_claim_next(by=manager)


def test_an_empty_queue_hands_out_nothing(csr):
    FollowUpCallFactory(state=State.DONE)

    assert calls.call_claim_next(by=csr) is None


def test_an_abandoned_claim_returns_to_the_queue_after_the_lease(csr, manager, settings):
    settings.FOLLOW_UP_CALL_CLAIM_MINUTES = 20
    FollowUpCallFactory(next_attempt_at=timezone.now() - timedelta(hours=2))
    call = calls.call_claim_next(by=csr, now=timezone.now() - timedelta(minutes=30))

    assert calls.release_abandoned_claims() == 1
    call.refresh_from_db()
    assert call.state == State.DUE and call.claimed_by is None
    assert calls.call_claim_next(by=manager) == call


def test_a_claim_still_in_its_lease_is_not_released(csr):
    FollowUpCallFactory()
    calls.call_claim_next(by=csr)

    assert calls.release_abandoned_claims() == 0


def test_another_csr_cannot_record_a_call_someone_is_on(csr, manager):
    FollowUpCallFactory()
    call = calls.call_claim_next(by=csr)

    with pytest.raises(ValidationError, match="is on this call"):
        calls.call_record_attempt(call=call, by=manager, outcome=Outcome.NO_ANSWER)


# --- outcomes -------------------------------------------------------------------------------------------------------


def test_a_reached_call_keeps_the_scripts_answers(csr):
    FollowUpCallFactory()
    call = calls.call_claim_next(by=csr)

    calls.call_record_attempt(
        call=call, by=csr, outcome=Outcome.REACHED, issues="None at all", expectations_met=True,
        anything_else="", would_refer=True, satisfaction=5, note="Lovely chat",
    )

    call.refresh_from_db()
    assert call.state == State.DONE and call.outcome == Outcome.REACHED and call.satisfaction == 5
    assert call.expectations_met is True and call.would_refer is True and call.completed_by == csr
    assert call.claimed_by is None
    assert CallAttempt.objects.get(call=call).note == "Lovely chat"


def test_reached_needs_a_satisfaction_from_1_to_5(csr):
    call = FollowUpCallFactory()

    with pytest.raises(ValidationError) as error:
        calls.call_record_attempt(call=call, by=csr, outcome=Outcome.REACHED, satisfaction=None)

    assert "satisfaction" in error.value.message_dict
    assert not CallAttempt.objects.exists()


def test_no_answer_comes_back_next_day_then_two_days_later_then_is_given_up(csr, settings):
    settings.FOLLOW_UP_CALL_RETRY_DAYS = [1, 2]
    settings.FOLLOW_UP_CALL_MAX_ATTEMPTS = 3
    call = FollowUpCallFactory()
    now = timezone.now()

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.NO_ANSWER, now=now)
    call.refresh_from_db()
    assert call.state == State.DUE and call.next_attempt_at == now + timedelta(days=1)
    assert calls.call_claim_next(by=csr, now=now + timedelta(hours=23)) is None
    assert calls.call_claim_next(by=csr, now=now + timedelta(days=1)) == call

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.VOICEMAIL, now=now + timedelta(days=1))
    call.refresh_from_db()
    assert call.state == State.DUE and call.next_attempt_at == now + timedelta(days=3)

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.NO_ANSWER, now=now + timedelta(days=3))
    call.refresh_from_db()
    assert call.state == State.GAVE_UP and call.attempts == 3 and call.completed_at == now + timedelta(days=3)
    assert list(call.call_attempts.values_list("outcome", flat=True)) == ["no_answer", "voicemail", "no_answer"]


def test_max_attempts_is_configurable(csr, settings):
    settings.FOLLOW_UP_CALL_MAX_ATTEMPTS = 1
    call = FollowUpCallFactory()

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.VOICEMAIL)

    call.refresh_from_db()
    assert call.state == State.GAVE_UP


def test_a_wrong_number_gives_the_call_up(csr):
    call = FollowUpCallFactory()

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.WRONG_NUMBER, note="A pizzeria")

    call.refresh_from_db()
    assert call.state == State.GAVE_UP and call.outcome == Outcome.WRONG_NUMBER


def test_asked_not_to_be_called_opts_the_customer_out_and_cancels_their_other_calls(csr):
    call = FollowUpCallFactory()
    other = FollowUpCallFactory(job=CompletedJobFactory(site=call.job.site))

    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.DO_NOT_CALL)

    call.refresh_from_db()
    other.refresh_from_db()
    customer = Customer.objects.get(pk=call.customer_id)
    assert call.state == State.DONE and call.outcome == Outcome.DO_NOT_CALL
    assert customer.contact_opt_out and customer.contact_opt_out_at is not None
    assert other.state == State.CANCELLED


def test_a_finished_call_cannot_be_recorded_again(csr):
    call = FollowUpCallFactory()
    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.WRONG_NUMBER)

    with pytest.raises(ValidationError, match="already"):
        calls.call_record_attempt(call=call, by=csr, outcome=Outcome.NO_ANSWER)


# --- one click from the call ----------------------------------------------------------------------------------------


def _reached(csr, satisfaction=5, **answers):
    call = FollowUpCallFactory()
    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.REACHED, satisfaction=satisfaction, **answers)
    call.refresh_from_db()
    return call


def test_a_reported_problem_becomes_a_callback_on_the_job_in_the_customers_words(csr):
    call = _reached(csr, satisfaction=2, issues="Water under the heater since Tuesday")

    callback = calls.call_log_callback(call=call, by=csr)

    assert callback.job == call.job and callback.problem == "Water under the heater since Tuesday"
    assert callback.channel == Callback.Channel.PHONE and callback.logged_by == csr
    call.refresh_from_db()
    assert call.callback == callback
    with pytest.raises(ValidationError, match="already logged"):
        calls.call_log_callback(call=call, by=csr)


def test_interest_in_more_work_becomes_a_lead(csr):
    call = _reached(csr)

    lead = calls.call_raise_lead(call=call, by=csr, what="Quote for a water softener")

    assert lead.state == Recommendation.State.OPEN and lead.owner == csr and lead.site == call.job.site
    assert lead.raised_on_job == call.job
    call.refresh_from_db()
    assert call.lead == lead


def test_a_referral_is_recorded_as_a_new_customer(csr):
    call = _reached(csr)

    referral = calls.call_record_referral(call=call, by=csr, name="Ada Neighbour", phone="555-010-7788",
                                          note="Next door, old boiler")

    customer = referral.referred_customer
    assert customer.name == "Ada Neighbour" and customer.phone_digits.endswith("5550107788")
    assert call.customer.name in customer.notes and "old boiler" in customer.notes
    assert Referral.objects.get().call == call


def test_a_referral_needs_a_name_and_a_phone(csr):
    call = _reached(csr)

    with pytest.raises(ValidationError) as error:
        calls.call_record_referral(call=call, by=csr, name=" ", phone="12")

    assert set(error.value.message_dict) == {"name", "phone"}
    assert not Customer.objects.filter(name="").exists()


def test_the_review_gating_constraint_is_gone_so_no_rating_decides_a_review(csr):
    """Issue 18: a database constraint allowed a review request only on calls rated 4-5 (review gating)."""
    call = _reached(csr, satisfaction=1)

    FollowUpCall.objects.filter(pk=call.pk).update(review_requested_at=timezone.now())

    assert not hasattr(calls, "call_request_review")  # the call no longer asks: every customer gets the link


def test_nothing_is_raised_from_a_call_that_did_not_reach_the_customer(csr):
    call = FollowUpCallFactory()
    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.NO_ANSWER)

    with pytest.raises(ValidationError, match="reached"):
        calls.call_raise_lead(call=call, by=csr, what="Anything")
