"""Sending a text: through the real twilio client to a local Messages API, refused without consent or when too
long, held in quiet hours until 08:00 (across daylight-saving changes), provider errors on the message."""

import pytest
from django.core.exceptions import ValidationError

from servicedesk.texting import backends
from servicedesk.texting.consent import mobile_number, text_consent_set
from servicedesk.texting.models import TextConsent, TextMessage
from servicedesk.texting.services import send_due_texts, text_send
from tests.factories import CustomerFactory, UserFactory

from .conftest import ACCOUNT_SID, AUTH_TOKEN, MOBILE, NOON, OUR_NUMBER, local

pytestmark = pytest.mark.django_db
Status = TextMessage.Status


def test_a_text_goes_through_the_twilio_client_with_its_status_callback(
        texting_customer, twilio_api, csr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = text_send(customer=texting_customer, body="We're on our way.", by=csr, now=NOON)

    [request] = twilio_api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["form"]["To"] == MOBILE and request["form"]["From"] == OUR_NUMBER
    assert request["form"]["Body"] == "We're on our way."
    assert request["form"]["StatusCallback"] == "http://localhost:8000/hooks/sms/twilio/status/"
    import base64
    assert base64.b64decode(request["authorization"].split()[1]).decode() == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    message.refresh_from_db()
    assert message.provider_id == "SM" + "1".zfill(32) and message.status == Status.QUEUED


def test_unsubscribed_error_21610_fails_the_text_and_withdraws_consent(
        texting_customer, twilio_api, django_capture_on_commit_callbacks):
    twilio_api.error = (400, 21610, "Attempt to send to unsubscribed recipient")
    with django_capture_on_commit_callbacks(execute=True):
        message = text_send(customer=texting_customer, body="Your part arrived.", now=NOON)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "21610")
    assert "unsubscribed" in message.error
    consent = TextConsent.objects.get(customer=texting_customer)
    assert not consent.granted and consent.source == TextConsent.Source.PROVIDER
    assert texting_customer.text_consent_events.first().note.startswith("The provider reports")


def test_invalid_number_error_is_shown_on_the_text_and_not_retried(
        texting_customer, twilio_api, django_capture_on_commit_callbacks):
    twilio_api.error = (400, 21211, "The 'To' number is not a valid phone number.")
    with django_capture_on_commit_callbacks(execute=True):
        message = text_send(customer=texting_customer, body="Hello", now=NOON)

    message.refresh_from_db()
    assert (message.status, message.error_code) == (Status.FAILED, "21211")
    assert len(twilio_api.requests) == 1
    assert TextConsent.objects.get(customer=texting_customer).granted


def test_a_text_over_1600_characters_is_refused_with_its_count(texting_customer):
    with pytest.raises(ValidationError, match="at most 1,600 characters; this one has 1,601"):
        text_send(customer=texting_customer, body="x" * 1601, now=NOON)
    assert not TextMessage.objects.exists()


@pytest.mark.parametrize("raw", ["(555) 010-4400", "12345", "not a number", "+1 800 555 0199"])
def test_a_number_that_is_not_a_mobile_number_is_refused_at_entry(raw):
    with pytest.raises(ValidationError):
        mobile_number(raw)


def test_a_mobile_number_in_any_format_is_kept_in_e164():
    assert mobile_number("(312) 555-0142") == "+13125550142"


def test_no_consent_do_not_service_and_opt_out_each_block_a_text_saying_why(texting_customer):
    never_asked = CustomerFactory(name="Nora Quinn")
    with pytest.raises(ValidationError, match="has not agreed to texts"):
        text_send(customer=never_asked, body="Hi", now=NOON)

    texting_customer.contact_opt_out = True
    with pytest.raises(ValidationError, match="opted out of contact"):
        text_send(customer=texting_customer, body="Hi", now=NOON)

    texting_customer.contact_opt_out, texting_customer.do_not_service = False, True
    with pytest.raises(ValidationError, match="do-not-service"):
        text_send(customer=texting_customer, body="Hi", now=NOON)
    assert not TextMessage.objects.exists() and not backends.outbox


def test_consent_changes_are_logged_with_source_who_and_when(texting_customer, csr):
    text_consent_set(customer=texting_customer, mobile=MOBILE, granted=False, source=TextConsent.Source.PHONE,
                     by=csr, note="Asked us to stop.", now=local(2026, 3, 5, 9, 0))
    text_consent_set(customer=texting_customer, mobile=MOBILE, granted=False, source=TextConsent.Source.PHONE,
                     by=csr, now=local(2026, 3, 5, 9, 5))

    log = list(texting_customer.text_consent_events.values_list("granted", "source", "by__username"))
    assert log == [(False, "phone", "csr"), (True, "phone", None)]


@pytest.mark.parametrize(("sent_at", "morning_utc"), [
    # The night clocks fall back (Sunday Nov 1 2026, Chicago): 08:00 CST is 14:00 UTC, not 13:00.
    (local(2026, 10, 31, 22, 30), "2026-11-01 14:00"),
    # The night clocks spring forward (Sunday Mar 8 2026): 08:00 CDT is 13:00 UTC.
    (local(2026, 3, 8, 1, 30), "2026-03-08 13:00"),
])
def test_quiet_hours_hold_a_text_until_eight_across_a_daylight_saving_change(
        texting_customer, sent_at, morning_utc, django_capture_on_commit_callbacks):
    from datetime import UTC, datetime, timedelta

    message = text_send(customer=texting_customer, body="Your estimate is ready.", now=sent_at)

    assert message.status == Status.HELD
    morning = datetime.strptime(morning_utc, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert message.send_after == morning
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_texts(now=morning - timedelta(minutes=1)) == 0
    assert not backends.outbox
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_texts(now=morning) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_texts(now=morning) == 0
    assert backends.outbox == [(MOBILE, "Your estimate is ready.")]


def test_a_held_text_is_not_sent_after_the_customer_withdrew_consent(
        texting_customer, django_capture_on_commit_callbacks):
    message = text_send(customer=texting_customer, body="Reminder", now=local(2026, 3, 4, 23, 0))
    text_consent_set(customer=texting_customer, mobile=MOBILE, granted=False, source=TextConsent.Source.REPLY)

    with django_capture_on_commit_callbacks(execute=True):
        send_due_texts(now=local(2026, 3, 5, 8, 0))

    message.refresh_from_db()
    assert message.status == Status.CANCELLED and "withdrew consent" in message.error
    assert not backends.outbox


def test_a_text_from_the_callback_page_counts_as_a_customer_contact(texting_customer):
    from tests.callbacks.factories import CallbackFactory

    callback = CallbackFactory(job__site__customer=texting_customer, job__equipment__site__customer=texting_customer)
    csr = callback.assigned_to
    text_send(customer=texting_customer, body="It's fixed, reply 1 if all good.", by=csr, callback=callback,
              next_update_due_at=local(2026, 3, 5, 12, 0), now=NOON)

    contact = callback.contacts.get()
    assert contact.summary == "Text message: It's fixed, reply 1 if all good."
    callback.refresh_from_db()
    assert callback.next_update_due_at == local(2026, 3, 5, 12, 0)


def test_console_backend_prints_the_text(settings, texting_customer, capsys, django_capture_on_commit_callbacks):
    settings.SMS_URL = "console://"
    with django_capture_on_commit_callbacks(execute=True):
        text_send(customer=texting_customer, body="Printed, not sent.", by=UserFactory(), now=NOON)
    assert "text to +13125550142" in capsys.readouterr().out
