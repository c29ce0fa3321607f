"""Issue 17, point 10: a follow-up call's trail — claimed by whom, released to the queue, cancelled and why — and
the contact opt-out a call records, in the customer's history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.follow_ups import services as calls
from callbacks.follow_ups.models import FollowUpCall, FollowUpCallEvent
from customers.models import ConsentEvent, Customer
from servicedesk.audit import Via
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory

pytestmark = pytest.mark.django_db
Action = FollowUpCallEvent.Action


def _trail(call):
    return list(FollowUpCallEvent.objects.filter(call=call).order_by("pk").values_list("action", "via", "by", "note"))


def test_claiming_the_next_call_is_recorded_with_the_csr(csr):
    call = FollowUpCallFactory()

    calls.call_claim_next(by=csr)
    calls.call_claim_next(by=csr)  # the same call handed back: not a second claim

    assert _trail(call) == [(Action.CLAIMED, Via.PAGE, csr.pk, "")]


def test_opening_a_call_from_the_list_and_handing_it_back_are_recorded(csr):
    call = FollowUpCallFactory()

    calls.call_claim(call=call, by=csr)
    calls.call_claim(call=call, by=csr)  # opened again by the one on it: the claim goes on, not a second one
    calls.call_release(call=call, by=csr)

    assert _trail(call) == [(Action.CLAIMED, Via.PAGE, csr.pk, ""),
                            (Action.RELEASED, Via.PAGE, csr.pk, "Handed back to the queue.")]


def test_a_lapsed_claim_released_by_the_sweep_is_recorded(csr):
    call = FollowUpCallFactory()
    calls.call_claim_next(by=csr, now=timezone.now() - timedelta(hours=1))

    assert calls.release_abandoned_claims() == 1

    assert _trail(call)[1:] == [(Action.RELEASED, Via.SYSTEM, None, "The claim lapsed.")]


def test_calls_the_sweep_cancels_are_recorded_with_the_reason(db):
    opted_out = FollowUpCallFactory()
    Customer.objects.filter(pk=opted_out.customer_id).update(contact_opt_out=True)
    kept = FollowUpCallFactory()

    assert calls.cancel_calls_not_to_make() == 1

    assert _trail(opted_out) == [(Action.CANCELLED, Via.SYSTEM, None, "Customer opted out of contact.")]
    assert _trail(kept) == []
    opted_out.refresh_from_db()
    assert opted_out.state == FollowUpCall.State.CANCELLED


def test_asked_not_to_be_called_records_the_opt_out_and_each_call_it_cancels(csr):
    call = FollowUpCallFactory()
    other = FollowUpCallFactory(job=CompletedJobFactory(site=call.job.site))

    calls.call_record_attempt(call=call, by=csr, outcome=FollowUpCall.Outcome.DO_NOT_CALL)

    opt_out = ConsentEvent.objects.get(customer=call.customer_id)
    assert (opt_out.action, opt_out.by, opt_out.via) == (ConsentEvent.Action.CONTACT_OPT_OUT, csr, Via.PAGE)
    assert opt_out.note == f"Asked on follow-up call #{call.pk}."
    assert _trail(other) == [(Action.CANCELLED, Via.PAGE, csr.pk, "Customer asked not to be called.")]


def test_the_customer_history_shows_the_calls_trail(client_for, csr):
    call = FollowUpCallFactory(job__invoice_number="INV-77")
    calls.call_claim_next(by=csr, now=timezone.now() - timedelta(hours=1))
    calls.release_abandoned_claims()

    body = client_for(csr).get(reverse("customers:detail", args=[call.customer_id])).content.decode()

    assert "Follow-up call on Service call #INV-77 claimed on the page" in body
    assert "Follow-up call on Service call #INV-77 released to the queue automatically" in body
