"""Every reply reaches the right person: the owner in the issue's order, the office queue for shared or unknown
numbers, each user's own unread mark, the escalation sweep once, and the post-visit question by text."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from callbacks.follow_ups.models import CallAttempt, FollowUpCall
from callbacks.models import Closure
from customers.models import Customer
from servicedesk import roles
from servicedesk.models import Notification
from servicedesk.texting.inbound import inbound_store
from servicedesk.texting.models import Conversation, TextMessage
from servicedesk.texting.routing import escalate_unanswered_texts, owner_for
from servicedesk.texting.services import text_send
from servicedesk.texting.surveys import send_post_visit_texts
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import CustomerFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory

from .conftest import MOBILE, NOON, local

pytestmark = pytest.mark.django_db


def reply(body, *, at=NOON, phone=MOBILE, sid=None, capture):
    with capture(execute=True):
        message, _ = inbound_store(provider_id=sid or f"SMin{TextMessage.objects.count():030d}", phone=phone,
                                   body=body, now=at)
    return Conversation.objects.get(pk=message.conversation_id)


def test_the_owner_is_the_callbacks_then_the_follow_up_calls_then_the_recommendations_then_the_office(
        texting_customer, django_capture_on_commit_callbacks):
    customer = texting_customer
    conversation = Conversation.objects.create(phone=MOBILE, customer=customer)
    assert owner_for(customer, conversation)[0] is None

    sales = UserFactory(username="sam", role=roles.SALES)
    recommendation = RecommendationFactory(site__customer=customer, owner=sales)
    text_send(customer=customer, body="About the water heater we recommended...", recommendation=recommendation,
              now=NOON)
    assert owner_for(customer, conversation)[0] == sales

    call = FollowUpCallFactory(job=CompletedJobFactory(site__customer=customer, equipment__site__customer=customer))
    earlier = UserFactory(username="ella", role=roles.CSR)
    CallAttempt.objects.create(call=call, by=earlier, outcome=FollowUpCall.Outcome.NO_ANSWER)
    assert owner_for(customer, conversation)[0] == earlier

    holding = UserFactory(username="hal", role=roles.CSR)
    FollowUpCall.objects.filter(pk=call.pk).update(state=FollowUpCall.State.CLAIMED, claimed_by=holding,
                                                   claimed_until=timezone.now() + timedelta(minutes=20),
                                                   claimed_at=timezone.now())
    assert owner_for(customer, conversation)[0] == holding

    callback = CallbackFactory(job__site__customer=customer, job__equipment__site__customer=customer)
    assert owner_for(customer, conversation)[0] == callback.assigned_to

    conversation = reply("The heat is off again", capture=django_capture_on_commit_callbacks)
    assert conversation.owner == callback.assigned_to
    assert conversation.routed_because == f"owner of callback #{callback.pk}"
    [notification] = Notification.objects.all()
    assert notification.recipient == callback.assigned_to and "The heat is off again" in notification.text


def test_a_number_several_customers_share_goes_to_the_office_queue_listing_them(
        texting_customer, django_capture_on_commit_callbacks):
    CustomerFactory(name="Evan Whitfield", phone="312.555.0142", phone_digits="3125550142")

    conversation = reply("Who is this?", capture=django_capture_on_commit_callbacks)

    assert conversation.owner is None and conversation.customer is None
    assert "2 customers have this number" in conversation.routed_because
    assert "Dana Whitfield" in conversation.routed_because and "Evan Whitfield" in conversation.routed_because


def test_a_text_from_an_unknown_number_lands_in_the_shared_queue(db, django_capture_on_commit_callbacks):
    csr = UserFactory(username="carla", role=roles.CSR)

    conversation = reply("Can you quote a new furnace?", phone="+16305550100",
                         capture=django_capture_on_commit_callbacks)

    assert (conversation.owner, conversation.customer) == (None, None)
    assert conversation.routed_because.startswith("unknown number")
    assert Notification.objects.get().recipient == csr


def test_each_user_has_their_own_unread_state(texting_customer, django_capture_on_commit_callbacks):
    anna, ben = UserFactory(username="anna", role=roles.CSR), UserFactory(username="ben", role=roles.CSR)
    conversation = reply("Thanks!", capture=django_capture_on_commit_callbacks)  # no open matter: the office's
    assert Conversation.objects.unread_by(anna).count() == Conversation.objects.unread_by(ben).count() == 1

    from servicedesk.texting.services import conversation_mark_read
    conversation_mark_read(conversation=conversation, user=anna, now=NOON + timedelta(minutes=1))

    assert Conversation.objects.unread_by(anna).count() == 0
    assert Conversation.objects.unread_by(ben).count() == 1
    reply("One more question", at=NOON + timedelta(minutes=5), capture=django_capture_on_commit_callbacks)
    assert Conversation.objects.unread_by(anna).count() == 1

    Conversation.objects.update(owner=ben)  # owned by Ben: no longer in Anna's count
    assert Conversation.objects.unread_by(anna).count() == 0


def test_the_escalation_sweep_run_twice_escalates_once_to_csrs_then_managers(
        texting_customer, manager, django_capture_on_commit_callbacks):
    csr = UserFactory(username="carla", role=roles.CSR)
    reply("Hello?", capture=django_capture_on_commit_callbacks)
    Notification.objects.all().delete()

    def sweep(minutes):
        with django_capture_on_commit_callbacks(execute=True):
            return escalate_unanswered_texts(now=NOON + timedelta(minutes=minutes))

    assert sweep(14) == (0, 0)
    assert sweep(15) == (1, 0)
    assert sweep(16) == (0, 0)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["carla"]
    assert sweep(30) == (0, 1)
    assert sweep(31) == (0, 0)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["carla", "manager"]

    text_send(customer=texting_customer, body="Sorry, here now!", by=csr, now=NOON + timedelta(minutes=32))
    assert Conversation.objects.get().awaiting_since is None


def test_the_answer_clock_runs_in_the_offices_opening_hours_only(texting_customer, django_capture_on_commit_callbacks):
    # Opening hours as the company has them until a manager sets them: Monday to Friday, 08:00 to 17:00.
    conversation = reply("Late question", at=local(2026, 3, 4, 20, 50), capture=django_capture_on_commit_callbacks)
    assert conversation.csrs_due_at == local(2026, 3, 5, 8, 15)  # Wednesday evening: Thursday's first 15 minutes
    assert conversation.managers_due_at == local(2026, 3, 5, 8, 30)

    text_send(customer=texting_customer, body="Answered.", by=UserFactory(role=roles.CSR), now=local(2026, 3, 5, 8, 1))
    Closure.objects.create(day=date(2026, 3, 9), reason="Staff training")
    conversation = reply("Friday question", at=local(2026, 3, 6, 16, 50), capture=django_capture_on_commit_callbacks)
    # Ten minutes on Friday; Monday the 9th is closed: the other five on Tuesday morning.
    assert conversation.csrs_due_at == local(2026, 3, 10, 8, 5)
    assert conversation.managers_due_at == local(2026, 3, 10, 8, 20)


@pytest.fixture
def call_to_text(texting_customer):
    texting_customer.preferred_contact = Customer.ContactMethod.TEXT
    texting_customer.save()
    job = CompletedJobFactory(site__customer=texting_customer, equipment__site__customer=texting_customer,
                              lead_technician__first_name="Maria")
    return FollowUpCallFactory(job=job, due_at=NOON - timedelta(hours=1))


def test_customers_who_prefer_texts_get_the_question_instead_of_the_call_once(
        call_to_text, django_capture_on_commit_callbacks):
    from servicedesk.texting import backends

    with django_capture_on_commit_callbacks(execute=True):
        assert send_post_visit_texts(now=NOON) == 1
        assert send_post_visit_texts(now=NOON) == 0

    [(to, body)] = backends.outbox
    assert to == MOBILE and "How did we do on your visit with Maria" in body and "Reply 1-5" in body
    call_to_text.refresh_from_db()
    assert call_to_text.next_attempt_at == NOON + timedelta(days=2)
    assert not FollowUpCall.objects.in_queue(now=NOON + timedelta(days=1)).exists()
    # No answer in two days: the call is in the queue as today's.
    assert FollowUpCall.objects.in_queue(now=NOON + timedelta(days=2)).get() == call_to_text


def test_a_reply_of_2_opens_the_follow_up_call_for_a_csr_at_once(call_to_text, django_capture_on_commit_callbacks):
    csr = UserFactory(username="carla", role=roles.CSR)
    with django_capture_on_commit_callbacks(execute=True):
        send_post_visit_texts(now=NOON)

    reply("2", at=NOON + timedelta(hours=1), capture=django_capture_on_commit_callbacks)

    assert FollowUpCall.objects.in_queue(now=NOON + timedelta(hours=1)).get() == call_to_text
    survey = call_to_text.text_survey
    assert survey.rating == 2 and survey.answered_at == NOON + timedelta(hours=1)
    assert Notification.objects.filter(recipient=csr, text__contains="scored the visit 2/5").exists()


def test_words_instead_of_a_score_open_the_call_too(call_to_text, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_post_visit_texts(now=NOON)
    reply("the tech left a mess", at=NOON + timedelta(hours=1), capture=django_capture_on_commit_callbacks)
    assert FollowUpCall.objects.in_queue(now=NOON + timedelta(hours=1)).exists()


def test_a_reply_of_5_records_the_rating_and_the_call_is_done(call_to_text, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_post_visit_texts(now=NOON)

    conversation = reply(" 5 ", at=NOON + timedelta(hours=1), capture=django_capture_on_commit_callbacks)

    call_to_text.refresh_from_db()
    assert (call_to_text.state, call_to_text.satisfaction) == (FollowUpCall.State.DONE, 5)
    assert conversation.awaiting_since is None
