"""Who is on a follow-up call: opening a call from the list takes it when it is free, the page says who holds it
and since when, only the holder records it (the service refuses anyone else), and a CSR holds one call at a time."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks.follow_ups import services as calls
from callbacks.follow_ups.models import CallAttempt, FollowUpCall
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory

pytestmark = pytest.mark.django_db

State = FollowUpCall.State
Outcome = FollowUpCall.Outcome


def test_two_csrs_open_the_same_call_from_the_list_and_only_the_first_can_record_it(csr, manager):
    call = FollowUpCallFactory()
    opened_at = timezone.now()

    first = calls.call_claim(call=call, by=csr, now=opened_at)
    second = calls.call_claim(call=call, by=manager, now=opened_at + timedelta(seconds=5))

    assert first.claimed_by == second.claimed_by == csr
    assert second.state == State.CLAIMED and second.claimed_at == opened_at
    with pytest.raises(ValidationError, match="Carla Reyes .since .*. is on this call"):
        calls.call_record_attempt(call=call, by=manager, outcome=Outcome.NO_ANSWER)
    calls.call_record_attempt(call=call, by=csr, outcome=Outcome.NO_ANSWER)
    assert list(CallAttempt.objects.values_list("by", flat=True)) == [csr.pk]


def test_the_second_csr_sees_who_is_on_the_call_and_since_when_and_is_refused_recording(client, csr, manager):
    call = FollowUpCallFactory()
    client.force_login(csr)
    assert client.post(reverse("callbacks:call_claim", args=[call.pk])).url == call.get_absolute_url()
    call.refresh_from_db()
    since = f"{timezone.localtime(call.claimed_at):%-I:%M %p}"

    client.force_login(manager)
    response = client.post(reverse("callbacks:call_claim", args=[call.pk]), follow=True)

    body = response.content.decode()
    assert f"<strong>Carla Reyes</strong> is on this call since {since}" in body
    assert "Record call" not in body and "Take this call" not in body
    response = client.post(reverse("callbacks:call_attempt", args=[call.pk]), {"outcome": "no_answer"})
    assert response.status_code == 400
    assert "Nothing was recorded: Carla Reyes (since" in response.content.decode()
    call.refresh_from_db()
    assert (call.state, call.claimed_by, call.attempts) == (State.CLAIMED, csr, 0)


def test_a_call_nobody_is_on_offers_to_take_it_rather_than_the_form(client_for, csr):
    call = FollowUpCallFactory()

    body = client_for(csr).get(reverse("callbacks:call", args=[call.pk])).content.decode()

    assert "Take this call" in body and "Record call" not in body
    call.refresh_from_db()
    assert call.state == State.DUE  # looking is not taking


def test_opening_a_call_whose_holder_lapsed_takes_it(csr, manager, settings):
    settings.FOLLOW_UP_CALL_CLAIM_MINUTES = 20
    call = FollowUpCallFactory()
    calls.call_claim(call=call, by=csr, now=timezone.now() - timedelta(minutes=30))

    call = calls.call_claim(call=call, by=manager)

    assert call.claimed_by == manager and call.claimed_until > timezone.now()


def test_a_csr_holds_one_call_at_a_time(csr):
    in_hand, other = FollowUpCallFactory(job__equipment__site__customer__name="Grace Hopper"), FollowUpCallFactory()
    calls.call_claim(call=in_hand, by=csr)

    with pytest.raises(ValidationError, match="You are on the call with Grace Hopper"):
        calls.call_claim(call=other, by=csr)

    assert calls.call_claim_next(by=csr) == in_hand
    other.refresh_from_db()
    assert other.state == State.DUE
    assert list(FollowUpCall.objects.held_by(csr)) == [in_hand]


def test_next_call_after_a_lapsed_claim_brings_the_csr_back_to_it_instead_of_a_second_call(csr, settings):
    settings.FOLLOW_UP_CALL_CLAIM_MINUTES = 20
    FollowUpCallFactory.create_batch(2)
    first = calls.call_claim_next(by=csr, now=timezone.now() - timedelta(minutes=30))

    assert calls.call_claim_next(by=csr) == first
    assert FollowUpCall.objects.filter(state=State.CLAIMED).count() == 1


def test_handing_a_call_back_puts_it_in_the_queue_for_anyone(client_for, csr, manager):
    call = FollowUpCallFactory()
    client = client_for(csr)
    client.post(reverse("callbacks:call_claim", args=[call.pk]))

    response = client.post(reverse("callbacks:call_release", args=[call.pk]))

    assert response.url == reverse("callbacks:calls")
    call.refresh_from_db()
    assert (call.state, call.claimed_by, call.claimed_at) == (State.DUE, None, None)
    assert calls.call_claim_next(by=manager) == call


def test_only_the_holder_hands_a_call_back(csr, manager):
    call = calls.call_claim(call=FollowUpCallFactory(), by=csr)

    with pytest.raises(ValidationError, match="You are not on this call"):
        calls.call_release(call=call, by=manager)

    call.refresh_from_db()
    assert call.claimed_by == csr


def test_technicians_sales_and_outsiders_cannot_take_or_hand_back_a_call(client_for, technician, sales, outsider):
    call = FollowUpCallFactory()
    for user in (technician, sales, outsider):
        client = client_for(user)
        assert client.post(reverse("callbacks:call_claim", args=[call.pk])).status_code == 403
        assert client.post(reverse("callbacks:call_release", args=[call.pk])).status_code == 403
    call.refresh_from_db()
    assert call.state == State.DUE
