"""Reminder e-mails to customers about open recommendations: cadence by risk, minimum interval, stop conditions."""

import smtplib
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from recommendations.models import CustomerReminder, Recommendation, Risk
from recommendations.reminders import (
    RESEND_AFTER,
    RESEND_WITHIN,
    resend_unsent_reminder_emails,
    send_recommendation_reminders,
    unsubscribe_url,
)
from tests.factories import CustomerFactory, JobFactory, SiteFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _cadence(settings):
    settings.RECOMMENDATION_REMINDER_DAYS = {"failure_likely": 14, "should_be_done": 45, "advisory": 120}
    settings.RECOMMENDATION_REMINDER_MIN_DAYS = 7
    settings.SITE_URL = "https://service.example.com"


@pytest.fixture
def site():
    return SiteFactory(customer=CustomerFactory(reminders_opt_in=True, email="pat@example.com"))


def raised(site, *, risk=Risk.FAILURE_LIKELY, days_ago=0, **extra):
    """Raised `days_ago` local days ago at this time of day: the reminders count local days, and 44 × 24 hours
    back across the end of daylight saving time is the next local day late in the evening."""
    now = timezone.localtime()
    created_at = timezone.make_aware(datetime.combine(now.date() - days_ago * DAY, now.time()))
    return RecommendationFactory(site=site, risk=risk, created_at=created_at, **extra)


def sweep(now, capture):
    with capture(execute=True):
        return send_recommendation_reminders(now=now)


def test_the_first_reminder_waits_for_the_risks_cadence(site, django_capture_on_commit_callbacks):
    raised(site, risk=Risk.FAILURE_LIKELY, days_ago=13)
    raised(site, risk=Risk.SHOULD_BE_DONE, days_ago=44)
    now = timezone.now()

    assert sweep(now, django_capture_on_commit_callbacks) == 0
    assert sweep(now + DAY, django_capture_on_commit_callbacks) == 2
    assert len(mail.outbox) == 1  # one e-mail listing both


def test_running_twice_sends_once(site, django_capture_on_commit_callbacks):
    raised(site, days_ago=20)
    now = timezone.now()

    assert sweep(now, django_capture_on_commit_callbacks) == 1
    assert sweep(now, django_capture_on_commit_callbacks) == 0
    assert sweep(now + timedelta(minutes=10), django_capture_on_commit_callbacks) == 0
    assert CustomerReminder.objects.count() == 1 and len(mail.outbox) == 1


def test_reminders_repeat_on_the_cadence_and_never_within_the_minimum_interval(
    site, django_capture_on_commit_callbacks
):
    raised(site, risk=Risk.FAILURE_LIKELY, days_ago=14)
    # A second recommendation falls due three days later: the customer was e-mailed within 7 days, so it waits.
    raised(site, risk=Risk.ADVISORY, days_ago=117)
    start = timezone.now()
    assert sweep(start, django_capture_on_commit_callbacks) == 1
    assert sweep(start + 3 * DAY, django_capture_on_commit_callbacks) == 0
    assert sweep(start + 7 * DAY, django_capture_on_commit_callbacks) == 1
    # The first comes round again 14 days after its last reminder, not before.
    assert sweep(start + 13 * DAY, django_capture_on_commit_callbacks) == 0
    assert sweep(start + 14 * DAY, django_capture_on_commit_callbacks) == 1

    numbers = list(CustomerReminder.objects.order_by("sent_at").values_list("recommendation__risk", "number"))
    assert numbers == [("failure_likely", 1), ("advisory", 1), ("failure_likely", 2)]
    assert len(mail.outbox) == 3


@pytest.mark.parametrize(
    "answer",
    [
        {"state": Recommendation.State.DECLINED, "decline_reason": "Too dear"},
        {"state": Recommendation.State.WITHDRAWN},
        {"state": Recommendation.State.DONE_BY_OTHERS},
        {"state": Recommendation.State.DEFERRED, "deferred_until": timezone.localdate() + timedelta(days=30)},
    ],
)
def test_an_answered_recommendation_gets_no_reminder(site, answer, django_capture_on_commit_callbacks):
    raised(site, days_ago=30, **answer)
    assert sweep(timezone.now(), django_capture_on_commit_callbacks) == 0


def test_accepted_or_booked_stops_the_reminders(site, django_capture_on_commit_callbacks):
    job = JobFactory(site=site)
    raised(site, days_ago=30, state=Recommendation.State.ACCEPTED, accepted_job=job)
    other_site = SiteFactory(customer=site.customer)
    raised(other_site, days_ago=30)
    # The customer said yes on the phone and the CSR booked the visit: nothing is sent for that site.
    JobFactory(site=other_site)

    assert sweep(timezone.now(), django_capture_on_commit_callbacks) == 0


def test_a_deferral_that_has_passed_is_reminded_again(site, django_capture_on_commit_callbacks):
    raised(site, days_ago=60, state=Recommendation.State.DEFERRED, deferred_until=timezone.localdate() - DAY)
    assert sweep(timezone.now(), django_capture_on_commit_callbacks) == 1


@pytest.mark.parametrize(
    "customer",
    [
        {"reminders_opt_in": False},
        {"contact_opt_out": True},
        {"do_not_service": True},
        {"email": ""},
    ],
)
def test_only_customers_who_opted_in_and_may_be_contacted_get_reminders(
    customer, django_capture_on_commit_callbacks
):
    site = SiteFactory(customer=CustomerFactory(**{"reminders_opt_in": True, **customer}))
    raised(site, days_ago=30)
    assert sweep(timezone.now(), django_capture_on_commit_callbacks) == 0


def test_every_email_carries_a_signed_one_click_unsubscribe_that_is_honoured(
    site, django_capture_on_commit_callbacks
):
    raised(site, days_ago=20, what="Replace the cracked heat exchanger")
    start = timezone.now()
    sweep(start, django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    link = unsubscribe_url(site.customer)
    assert message.to == ["pat@example.com"]
    assert "Replace the cracked heat exchanger" in message.body and link in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert Client().post(link.removeprefix("https://service.example.com")).status_code == 200
    customer = Customer.objects.get(pk=site.customer_id)
    assert not customer.reminders_opt_in and customer.reminders_unsubscribed_at is not None
    assert sweep(start + 60 * DAY, django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1


def test_the_sweep_is_a_few_statements_however_many_are_due(django_assert_max_num_queries,
                                                            django_capture_on_commit_callbacks):
    for _ in range(25):
        raised(SiteFactory(customer=CustomerFactory(reminders_opt_in=True)), days_ago=20)

    # savepoint, insert ... select, release; then the e-mails' claim: savepoint, select for update, update, release
    with django_assert_max_num_queries(7):
        assert sweep(timezone.now(), django_capture_on_commit_callbacks) == 25
    assert len(mail.outbox) == 25


def test_the_management_command_runs_the_sweep(site, capsys):
    raised(site, days_ago=20)
    call_command("send_recommendation_reminders")
    assert "1 recommendation reminder" in capsys.readouterr().out
    assert CustomerReminder.objects.count() == 1


# --- exactly once, even when the mail server fails ------------------------------------------------------------------


def _refusing(refuse):
    """The mail server refuses the e-mails to the addresses in `refuse` for now, or is down when it is None."""
    deliver = EmailBackend.send_messages

    def send_messages(backend, messages):
        if refuse is None:
            raise smtplib.SMTPServerDisconnected("injected: the mail server went away")
        if any(address in refuse for message in messages for address in message.to):
            raise smtplib.SMTPRecipientsRefused({address: (450, b"mailbox busy") for address in refuse})
        return deliver(backend, messages)

    return mock.patch.object(EmailBackend, "send_messages", autospec=True, side_effect=send_messages)


def test_a_reminder_the_mail_server_refused_is_e_mailed_once_when_it_is_back(
    site, django_capture_on_commit_callbacks
):
    raised(site, days_ago=20)
    raised(site, risk=Risk.ADVISORY, days_ago=200)
    now = timezone.now()
    with _refusing(None):
        assert sweep(now, django_capture_on_commit_callbacks) == 2
    assert mail.outbox == [] and not CustomerReminder.objects.exclude(emailed_at=None).exists()

    assert resend_unsent_reminder_emails(now=now + RESEND_AFTER / 2) == 0  # its own send may still be under way
    for _ in range(2):
        resend_unsent_reminder_emails(now=now + RESEND_AFTER)
    assert sweep(now + RESEND_AFTER, django_capture_on_commit_callbacks) == 0  # and the cadence is not reset

    [message] = mail.outbox
    assert message.to == ["pat@example.com"] and message.body.count("\n- ") == 2
    assert not CustomerReminder.objects.filter(emailed_at=None).exists()


def test_a_server_that_fails_half_way_leaves_only_the_refused_e_mails_to_resend(django_capture_on_commit_callbacks):
    for address in ("ann@example.com", "bob@example.com", "cy@example.com"):
        raised(SiteFactory(customer=CustomerFactory(reminders_opt_in=True, email=address)), days_ago=20)
    now = timezone.now()
    with _refusing({"bob@example.com"}):
        assert sweep(now, django_capture_on_commit_callbacks) == 3
    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "cy@example.com"]

    resend_unsent_reminder_emails(now=now + RESEND_AFTER)
    resend_unsent_reminder_emails(now=now + 2 * RESEND_AFTER)

    assert sorted(message.to[0] for message in mail.outbox) == ["ann@example.com", "bob@example.com", "cy@example.com"]


def test_an_unsent_reminder_is_not_resent_once_answered_opted_out_or_stale(django_capture_on_commit_callbacks):
    answered, opted_out, stale = (
        raised(SiteFactory(customer=CustomerFactory(reminders_opt_in=True)), days_ago=20) for _ in range(3)
    )
    now = timezone.now()
    with _refusing(None):
        assert sweep(now, django_capture_on_commit_callbacks) == 3
    Recommendation.objects.filter(pk=answered.pk).update(state=Recommendation.State.DECLINED, decline_reason="Price")
    Customer.objects.filter(pk=opted_out.customer_id).update(reminders_opt_in=False)
    CustomerReminder.objects.filter(recommendation=stale).update(sent_at=now - RESEND_WITHIN - DAY)

    assert resend_unsent_reminder_emails(now=now + RESEND_AFTER) == 0
    assert mail.outbox == []
