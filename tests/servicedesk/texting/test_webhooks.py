"""Twilio's webhooks, signed with the library's own RequestValidator: an incoming text stored once and routed;
the status callback; STOP, START and HELP answered as the law asks."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from servicedesk.texting.consent import keyword
from servicedesk.texting.models import Conversation, TextConsent, TextMessage
from servicedesk.texting.services import text_send

from .conftest import MOBILE, NOON, OUR_NUMBER

pytestmark = pytest.mark.django_db
INBOUND = reverse("texting_hooks:inbound")
STATUS = reverse("texting_hooks:status")


def incoming(body, sid="SM" + "a" * 32, phone=MOBILE):
    return {"MessageSid": sid, "AccountSid": "AC1", "From": phone, "To": OUR_NUMBER, "Body": body, "NumMedia": "0"}


def post(client, path, params, signature):
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_signed_incoming_text_is_stored_once_and_answered_at_once(client, twilio_signed, texting_customer,
                                                                    django_capture_on_commit_callbacks):
    params = incoming("Is the technician still coming today?")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, INBOUND, params, twilio_signed(INBOUND, params))
        # Twilio retries a webhook it thinks failed: the same MessageSid again.
        retried = post(client, INBOUND, params, twilio_signed(INBOUND, params))

    assert response.status_code == retried.status_code == 200
    assert response["Content-Type"] == "text/xml" and b"<Response></Response>" in response.content
    message = TextMessage.objects.get()
    assert (message.body, message.direction, message.conversation.customer) == (
        "Is the technician still coming today?", "in", texting_customer)
    assert message.routed_at is not None


@pytest.mark.parametrize("tamper", ["unsigned", "tampered body", "signed for another address"])
def test_an_unsigned_or_tampered_webhook_is_refused_and_nothing_is_stored(client, twilio_signed, tamper):
    params = incoming("Hello")
    signature = {
        "unsigned": "",
        "tampered body": twilio_signed(INBOUND, {**params, "Body": "Something else"}),
        "signed for another address": twilio_signed("/hooks/sms/other/", params),
    }[tamper]

    response = post(client, INBOUND, params, signature)

    assert response.status_code == 401
    assert not TextMessage.objects.exists() and not Conversation.objects.exists()


def test_the_status_callback_records_delivery_and_the_error_code(
        client, twilio_signed, texting_customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = text_send(customer=texting_customer, body="On our way", now=NOON)
    message.refresh_from_db()
    delivered = {"MessageSid": message.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    assert post(client, STATUS, delivered, "forged").status_code == 401
    message.refresh_from_db()
    assert message.status == "queued"

    assert post(client, STATUS, delivered, twilio_signed(STATUS, delivered)).status_code == 204
    late = {"MessageSid": message.provider_id, "MessageStatus": "sent"}
    post(client, STATUS, late, twilio_signed(STATUS, late))
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", "30003")


@pytest.mark.parametrize("word", ["STOP", " stop ", "Stop\n", "STOPALL", "unsubscribe", "Cancel", "END", " quit"])
def test_every_opt_out_word_in_any_case_and_spacing_is_a_stop(word):
    assert keyword(word) == "stop"


@pytest.mark.parametrize("words", ["stop please", "don't stop", "STOP!", "1"])
def test_a_sentence_with_stop_in_it_is_not_a_stop(words):
    assert keyword(words) == ""


def test_stop_withdraws_consent_with_one_confirmation_and_nothing_is_sent_after(
        client, twilio_signed, twilio_api, texting_customer, django_capture_on_commit_callbacks):
    params = incoming(" Unsubscribe ")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, INBOUND, params, twilio_signed(INBOUND, params))

    consent = TextConsent.objects.get(customer=texting_customer)
    assert not consent.granted and consent.source == TextConsent.Source.REPLY
    [confirmation] = twilio_api.requests
    assert confirmation["form"]["To"] == MOBILE and "unsubscribed" in confirmation["form"]["Body"]
    with pytest.raises(ValidationError, match="withdrew consent"):
        text_send(customer=texting_customer, body="One more thing", now=NOON)
    assert len(twilio_api.requests) == 1
    assert Conversation.objects.get().awaiting_since is None  # nobody has to answer a STOP
    # A second STOP changes nothing and gets no second confirmation.
    params = incoming("STOP", sid="SMin" + "9" * 30)
    with django_capture_on_commit_callbacks(execute=True):
        post(client, INBOUND, params, twilio_signed(INBOUND, params))
    assert len(twilio_api.requests) == 1


def test_start_restores_consent_and_help_answers_with_the_company_name_and_phone(
        client, twilio_signed, twilio_api, texting_customer, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n, word in enumerate(["STOP", "start", "HELP"]):
            params = incoming(word, sid=f"SMin{n:030d}")
            post(client, INBOUND, params, twilio_signed(INBOUND, params))

    consent = TextConsent.objects.get(customer=texting_customer)
    assert consent.granted and consent.source == TextConsent.Source.REPLY
    assert [event.granted for event in texting_customer.text_consent_events.all()] == [True, False, True]
    stop, start, help_ = (request["form"]["Body"] for request in twilio_api.requests)
    assert "subscribed" in start and "STOP" in start
    assert settings.COMPANY_NAME in help_ and settings.COMPANY_PHONE in help_
