"""Issue 18, point 1: a neutral review request after every completed visit, never gated on a rating.

Every customer gets the company's review link by e-mail, whatever they thought of the visit; the only reasons not
to ask are consent (opted out, do-not-service, no address), the cooldown and a manager's pause, each recorded.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from callbacks.follow_ups.models import FollowUpCall
from customers.models import Feedback, ReviewRequest, ReviewRequestSettings
from customers.reviews import RESEND_WITHIN, send_review_emails, send_review_requests
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import CustomerFactory, JobFactory
from tests.servicedesk.test_notifications import smtp_server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

REVIEW_URL = "https://g.page/r/northside-plumbing/review"
Skipped = ReviewRequest.Skipped


@pytest.fixture(autouse=True)
def review_link(db):
    return ReviewRequestSettings.objects.create(pk=1, review_url=REVIEW_URL)


def _visit(customer=None, days_ago=2, **kwargs):
    """A service call completed `days_ago` (entered in the app before it was done)."""
    start = timezone.now() - timedelta(days=days_ago, hours=2)
    job = JobFactory(customer=customer or CustomerFactory(), completed=True, scheduled_start=start, **kwargs)
    job.__class__.objects.filter(pk=job.pk).update(created_at=start - timedelta(days=3))
    return job


def _reached_call(job, satisfaction, issues=""):
    return FollowUpCallFactory(job=job, customer=job.customer, state=FollowUpCall.State.DONE, attempts=1,
                               outcome=FollowUpCall.Outcome.REACHED, satisfaction=satisfaction, issues=issues,
                               completed_at=timezone.now())


def _run(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return send_review_requests(**kwargs)


def test_a_happy_and_an_unhappy_customer_are_both_asked_for_a_review(django_capture_on_commit_callbacks):
    happy_visit, unhappy_visit = _visit(), _visit()
    _reached_call(happy_visit, satisfaction=5)
    _reached_call(unhappy_visit, satisfaction=1, issues="The drain is still slow and nobody called back")
    Feedback.objects.create(job=unhappy_visit, customer=unhappy_visit.customer, kind=Feedback.Kind.COMPLAINT,
                            rating=1, text="Terrible", token_digest="x" * 64)

    assert _run(django_capture_on_commit_callbacks) == 2

    for visit in (happy_visit, unhappy_visit):
        request = ReviewRequest.objects.get(job=visit)
        assert request.was_asked and request.channel == "email" and request.address == visit.customer.email
        assert request.technician == visit.lead_technician and request.emailed_at is not None
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [happy_visit.customer.email, unhappy_visit.customer.email])
    for message in mail.outbox:
        assert REVIEW_URL in message.body and "\n" not in message.subject


def test_an_opted_out_customer_is_not_asked_and_their_page_says_why(
    client_for, csr, django_capture_on_commit_callbacks
):
    visit = _visit(CustomerFactory(contact_opt_out=True))

    _run(django_capture_on_commit_callbacks)

    request = ReviewRequest.objects.get(job=visit)
    assert request.skipped == Skipped.OPTED_OUT and mail.outbox == []
    page = client_for(csr).get(reverse("customers:detail", args=[visit.customer.pk])).content.decode()
    assert "Review request skipped: the customer opted out of contact" in page


def test_a_customer_asked_recently_is_not_asked_again_within_the_cooldown(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    earlier = _visit(customer, days_ago=40)
    ReviewRequest.objects.create(job=earlier, customer=customer, channel="email", address=customer.email,
                                 created_at=timezone.now() - timedelta(days=38), emailed_at=timezone.now())
    visit = _visit(customer)

    _run(django_capture_on_commit_callbacks)

    assert ReviewRequest.objects.get(job=visit).skipped == Skipped.COOLDOWN
    assert mail.outbox == []


def test_after_the_cooldown_the_customer_is_asked_again(review_link, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    earlier = _visit(customer, days_ago=40)
    ReviewRequest.objects.create(job=earlier, customer=customer, channel="email", address=customer.email,
                                 created_at=timezone.now() - timedelta(days=38), emailed_at=timezone.now())
    review_link.cooldown_days = 30
    review_link.save()
    visit = _visit(customer)

    _run(django_capture_on_commit_callbacks)

    assert ReviewRequest.objects.get(job=visit).was_asked and len(mail.outbox) == 1


def test_two_visits_of_one_customer_in_one_run_ask_once(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    first, second = _visit(customer, days_ago=3), _visit(customer, days_ago=2)

    _run(django_capture_on_commit_callbacks)

    assert ReviewRequest.objects.get(job=first).was_asked
    assert ReviewRequest.objects.get(job=second).skipped == Skipped.COOLDOWN
    assert len(mail.outbox) == 1


def test_do_not_service_no_address_and_a_pause_are_skipped_with_their_reasons(
    review_link, django_capture_on_commit_callbacks
):
    let_go = _visit(CustomerFactory(do_not_service=True))
    no_address = _visit(CustomerFactory(email=""))
    review_link.paused = True
    review_link.save()
    paused = _visit()

    _run(django_capture_on_commit_callbacks)

    reasons = dict(ReviewRequest.objects.values_list("job", "skipped"))
    assert reasons == {let_go.pk: Skipped.DO_NOT_SERVICE, no_address.pk: Skipped.NO_ADDRESS, paused.pk: Skipped.PAUSED}
    assert mail.outbox == []


def test_the_request_waits_for_the_managers_delay_and_the_sweep_run_twice_asks_once(
    review_link, django_capture_on_commit_callbacks
):
    review_link.days_after = 3
    review_link.save()
    visit = _visit(days_ago=2)

    assert _run(django_capture_on_commit_callbacks) == 0
    later = timezone.now() + timedelta(days=1, hours=1)
    assert _run(django_capture_on_commit_callbacks, now=later) == 1
    assert _run(django_capture_on_commit_callbacks, now=later) == 0

    assert ReviewRequest.objects.get(job=visit).was_asked and len(mail.outbox) == 1


def test_imported_history_is_never_asked(django_capture_on_commit_callbacks):
    """A visit entered after its request would have fallen due (the import of last month's jobs) is not asked."""
    imported = JobFactory(completed=True, scheduled_start=timezone.now() - timedelta(days=5), external_id="J-1")

    assert _run(django_capture_on_commit_callbacks) == 0
    assert not ReviewRequest.objects.filter(job=imported).exists()


def test_a_refused_e_mail_is_sent_by_the_next_run_once(smtp_server, django_capture_on_commit_callbacks):  # noqa: F811
    visit = _visit()
    smtp_server.refuse = {visit.customer.email}

    _run(django_capture_on_commit_callbacks)

    request = ReviewRequest.objects.get(job=visit)
    assert request.was_asked and request.emailed_at is None and smtp_server.envelopes == []

    smtp_server.refuse = set()
    _run(django_capture_on_commit_callbacks)
    send_review_emails()

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [visit.customer.email] and REVIEW_URL in envelope.content.decode()
    request.refresh_from_db()
    assert request.emailed_at is not None
    # After a day an unsent request is left: a review request weeks late reads as spam.
    ReviewRequest.objects.filter(pk=request.pk).update(emailed_at=None)
    assert send_review_emails(now=timezone.now() + RESEND_WITHIN + timedelta(minutes=1)) == 0


def test_managers_set_review_requests_and_csrs_only_read_them(client_for, manager, csr, review_link):
    data = {"review_url": "https://example.com/review-us", "days_after": "2", "channel": "email",
            "cooldown_days": "90", "paused": "on"}

    assert client_for(csr).post(reverse("customers:review_settings"), data).status_code == 403
    assert "Managers change these" in client_for(csr).get(reverse("customers:review_settings")).content.decode()
    response = client_for(manager).post(reverse("customers:review_settings"), data)

    assert response.status_code == 302
    review_link.refresh_from_db()
    assert (review_link.review_url, review_link.days_after, review_link.cooldown_days, review_link.paused,
            review_link.updated_by) == ("https://example.com/review-us", 2, 90, True, manager)


def test_the_leave_behind_shows_the_review_link_to_every_customer(client_for, csr):
    for satisfaction in (5, 1):
        visit = _visit()
        _reached_call(visit, satisfaction=satisfaction)

        page = client_for(csr).get(reverse("public:leave_behind", args=[visit.pk])).content.decode()

        assert REVIEW_URL in page


def test_without_a_review_link_visits_wait_and_are_asked_once_the_link_is_set(
    review_link, django_capture_on_commit_callbacks
):
    review_link.review_url = ""
    review_link.save()
    visit = _visit(days_ago=4)

    assert _run(django_capture_on_commit_callbacks) == 0
    assert not ReviewRequest.objects.exists()

    review_link.review_url = REVIEW_URL
    review_link.save()
    assert _run(django_capture_on_commit_callbacks) == 1
    assert ReviewRequest.objects.get(job=visit).was_asked and len(mail.outbox) == 1
