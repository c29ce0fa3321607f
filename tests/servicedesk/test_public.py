"""The customer's pages: signed feedback links, the leave-behind, the unsubscribe link."""

import re
import string
from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from callbacks.models import Callback
from customers.models import CompanySettings, Feedback
from recommendations.models import Recommendation, Risk
from servicedesk import tokens
from servicedesk.models import Notification
from servicedesk.public.services import WEB_INTAKE_USERNAME
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.factories import CustomerFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def feedback_url(job):
    return reverse("public:feedback", args=[tokens.make_feedback_token(job)])


def complaint(**extra):
    return {"kind": "complaint", "text": "The furnace is blowing cold air again.", "rating": "2", **extra}


# --- tokens -------------------------------------------------------------------------------------------------------


def test_the_feedback_page_opens_without_login_and_names_no_address(client):
    job = CompletedJobFactory(lead_technician__first_name="Tom")

    response = client.get(feedback_url(job))

    body = response.content.decode()
    assert response.status_code == 200
    assert "How did we do?" in body and "Tom" in body
    assert job.site.street not in body and job.customer.phone not in body


def test_public_pages_are_never_cached_never_referred_and_carry_the_csp(client):
    job = CompletedJobFactory()
    token = tokens.make_feedback_token(job)
    customer_token = tokens.make_unsubscribe_token(job.customer)
    pages = [
        reverse("public:feedback", args=[token]),
        reverse("public:feedback_thanks", args=[token]),
        reverse("public:feedback", args=["not-a-token"]),
        reverse("public:unsubscribe", args=[customer_token]),
    ]
    for url in pages:
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert response["Referrer-Policy"] == "no-referrer", url
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        assert "noindex" in response["X-Robots-Tag"], url


def _variants(token):
    """Thousands of near misses: every character changed, cut, doubled, swapped, cased and padded."""
    alphabet = string.ascii_letters + string.digits + "-_:."
    for index, char in enumerate(token):
        for replacement in alphabet:
            if replacement != char:
                yield token[:index] + replacement + token[index + 1:]
        yield token[:index] + token[index + 1:]
        yield token[:index] + char + char + token[index + 1:]
    for cut in range(1, len(token)):
        yield token[:cut]
    yield token.upper()
    yield token.lower()
    yield token + "x"
    yield "x" + token
    yield token.swapcase()


def test_thousands_of_tampered_tokens_are_refused():
    job = CompletedJobFactory()
    token = tokens.make_feedback_token(job)
    refused = 0
    for variant in set(_variants(token)) - {token}:
        with pytest.raises(tokens.LinkInvalid):
            tokens.read_feedback_token(variant)
        refused += 1
    assert refused > 3000


def test_a_tampered_token_gets_the_friendly_page_never_a_job(client):
    job = CompletedJobFactory()
    other = CompletedJobFactory(lead_technician__first_name="Zebedee")
    token = tokens.make_feedback_token(job)
    payload, timestamp, signature = token.split(":")
    other_last = "B" if signature[-1] != "B" else "C"
    other_payload = tokens.make_feedback_token(other).split(":")[0]

    for forged in (f"{other_payload}:{timestamp}:{signature}", f"{payload}:{timestamp}:{signature[:-1]}{other_last}",
                   "eyJqIjoxfQ:1:abc", "%00", "a" * 500):
        response = client.get(reverse("public:feedback", args=[forged]))
        assert response.status_code == 404
        body = response.content.decode()
        assert "This link does not work" in body and "Zebedee" not in body


def test_a_token_for_the_unsubscribe_link_does_not_open_a_feedback_page(client):
    job = CompletedJobFactory()
    # The same id, signed for another purpose (salt): refused.
    cross = signing.dumps({"j": job.pk}, salt=tokens.UNSUBSCRIBE_SALT)
    with pytest.raises(tokens.LinkInvalid):
        tokens.read_feedback_token(cross)
    with pytest.raises(tokens.LinkInvalid):
        tokens.read_unsubscribe_token(tokens.make_feedback_token(job))
    assert client.get(reverse("public:feedback", args=[cross])).status_code == 404


def test_a_token_signed_with_another_key_is_refused(settings):
    job = CompletedJobFactory()
    settings.SECRET_KEY = "another-installation-key-entirely-different-from-ours"
    foreign = tokens.make_feedback_token(job)
    settings.SECRET_KEY = "django-insecure-servicedesk-development-key-change-me-in-production"
    with pytest.raises(tokens.LinkInvalid):
        tokens.read_feedback_token(foreign)


def test_an_expired_link_gets_the_expired_page(client, settings):
    settings.FEEDBACK_LINK_DAYS = 30
    job = CompletedJobFactory()
    token = tokens.make_feedback_token(job)
    later = signing.time.time() + timedelta(days=31).total_seconds()

    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(reverse("public:feedback", args=[token]))
        posted = client.post(reverse("public:feedback", args=[token]), complaint())

    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert posted.status_code == 410
    assert not Feedback.objects.exists()


def test_a_link_for_a_job_that_does_not_exist_is_refused(client):
    token = signing.dumps({"j": 987654}, salt=tokens.FEEDBACK_SALT)
    assert client.get(reverse("public:feedback", args=[token])).status_code == 404


# --- feedback -----------------------------------------------------------------------------------------------------


def test_a_complaint_becomes_a_new_web_callback_for_the_csrs(client, csr, django_capture_on_commit_callbacks):
    job = CompletedJobFactory()
    url = feedback_url(job)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, complaint())

    assert response.status_code == 302 and "/thanks/" in response["Location"]
    feedback = Feedback.objects.get()
    assert (feedback.job, feedback.kind, feedback.rating) == (job, "complaint", 2)
    assert len(feedback.ip_hash) == 64 and "127.0.0.1" not in feedback.ip_hash
    callback = Callback.objects.get()
    assert (callback.job, callback.state, callback.channel, callback.urgency) == (job, "new", "web", "high")
    assert callback.logged_by.username == WEB_INTAKE_USERNAME and not callback.logged_by.is_active
    assert callback.logged_at == feedback.created_at
    assert f"feedback #{feedback.pk}" in callback.problem and feedback.text in callback.problem
    assert Notification.objects.filter(recipient=csr, url=callback.get_absolute_url()).exists()
    thanks = client.get(response["Location"]).content.decode()
    assert "will call you" in thanks


def test_a_concern_or_a_call_back_request_also_becomes_a_callback(client):
    job = CompletedJobFactory()
    client.post(feedback_url(job), {"kind": "concern", "text": "A small drip under the heater."})
    client.post(feedback_url(job), {"kind": "question", "text": "Do you service boilers?", "wants_call_back": "on"})
    client.post(feedback_url(job), {"kind": "question", "text": "What filter size do I need?"})

    assert Callback.objects.filter(channel="web", state="new").count() == 2
    assert Feedback.objects.count() == 3


def test_praise_notifies_the_technicians_and_managers_and_logs_no_callback(
    client, manager, django_capture_on_commit_callbacks
):
    job = CompletedJobFactory()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(feedback_url(job), {"kind": "praise", "text": "Tom was wonderful.", "rating": "5"})

    assert not Callback.objects.exists()
    recipients = set(Notification.objects.values_list("recipient__username", flat=True))
    assert recipients == {job.lead_technician.username, manager.username}
    assert "Tom was wonderful." in Notification.objects.first().text
    assert "(5/5)" in Notification.objects.first().text


def test_a_complaint_after_a_callback_revisit_goes_to_the_original_callback_as_a_repeat(client):
    original = CallbackFactory()
    revisit = CompletedJobFactory(site=original.site, kind="callback_revisit", equipment=original.equipment)
    Callback.objects.filter(pk=original.pk).update(revisit_job=revisit)

    client.post(feedback_url(revisit), complaint())

    new = Callback.objects.exclude(pk=original.pk).get()
    assert new.job == original.job and new.is_repeat and new.repeat_of == original


def test_bad_input_gets_a_clear_message_and_changes_nothing(client):
    job = CompletedJobFactory()
    for data in ({"kind": "complaint", "text": "  "}, {"kind": "rant", "text": "x"},
                 {"kind": "praise", "text": "ok", "rating": "9"}, {"kind": "praise", "text": "x" * 4001}):
        cache.clear()
        response = client.post(feedback_url(job), data)
        assert response.status_code == 200
        assert "is-invalid" in response.content.decode() or "text-danger" in response.content.decode()
    assert not Feedback.objects.exists()


def test_one_link_is_throttled_per_hour_and_used_up_after_its_limit(client, settings):
    settings.FEEDBACK_PER_LINK_PER_HOUR = 2
    settings.FEEDBACK_PER_LINK = 3
    job = CompletedJobFactory()
    url = feedback_url(job)

    statuses = [client.post(url, complaint()).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
    cache.clear()  # an hour later
    assert client.post(url, complaint()).status_code == 302
    cache.clear()
    assert client.post(url, complaint()).status_code == 429  # the link took its 3 and is used up for good
    assert client.get(url).status_code == 429
    assert Feedback.objects.count() == 3
    # A link printed again the next day is a new token for the same job: the job's submissions are used up.
    with mock.patch("django.core.signing.time.time", return_value=signing.time.time() + 86400):
        assert client.post(feedback_url(job), complaint()).status_code == 429


def test_one_address_is_throttled_across_links(client, settings):
    settings.FEEDBACK_PER_ADDRESS_PER_HOUR = 3
    jobs = [CompletedJobFactory() for _ in range(5)]

    statuses = [client.post(feedback_url(job), complaint()).status_code for job in jobs]

    assert statuses == [302, 302, 302, 429, 429]
    other_address = Client(REMOTE_ADDR="203.0.113.9")
    assert other_address.post(feedback_url(jobs[4]), complaint()).status_code == 302


def test_the_throttle_counts_in_redis_shared_by_every_web_process(client, settings, redis_url):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis_url.rsplit("/", 1)[0] + "/7"}}
    settings.FEEDBACK_PER_LINK_PER_HOUR = 1
    from django.core.cache import caches

    caches["default"].clear()
    job = CompletedJobFactory()
    url = feedback_url(job)
    assert client.post(url, complaint()).status_code == 302
    assert Client().post(url, complaint()).status_code == 429
    caches["default"].clear()


# --- leave-behind -------------------------------------------------------------------------------------------------


def test_the_leave_behind_has_everything_the_customer_needs_with_constant_queries(
    client_for, technician, django_assert_num_queries, settings
):
    settings.SITE_URL = "https://service.example.com"
    job = CompletedJobFactory(lead_technician=technician, summary="Replaced the igniter and cleaned the burners.")
    for risk in (Risk.ADVISORY, Risk.FAILURE_LIKELY, Risk.SHOULD_BE_DONE):
        RecommendationFactory(site=job.site, risk=risk, what=f"Work at {risk} risk")
    RecommendationFactory(site=job.site, state=Recommendation.State.DECLINED, decline_reason="No", what="Said no")
    CompanySettings.objects.create(pk=1, expectations="On time, every time.\nClean floors.", hotline="(555) 777-0000")
    client = client_for(technician)
    client.get(reverse("home"))

    # session, user, roles, job with its customer/site/technician, helpers, company settings, recommendations
    with django_assert_num_queries(7):
        response = client.get(reverse("public:leave_behind", args=[job.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Tom Alvarez" in body and "Replaced the igniter" in body
    assert "<li>On time, every time.</li>" in body and "(555) 777-0000" in body
    assert body.index("failure_likely risk") < body.index("should_be_done risk") < body.index("advisory risk")
    assert "Said no" not in body
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="QR code', body)
    link = re.search(r"https://service\.example\.com/feedback/[^<\s]+/", body).group(0)
    assert Client().get(link.removeprefix("https://service.example.com")).status_code == 200
    assert "css/print.css" in body


def test_the_leave_behind_is_for_staff_who_may_see_the_job(client_for, client, technician, outsider):
    job = CompletedJobFactory()
    url = reverse("public:leave_behind", args=[job.pk])

    assert client.get(url).status_code == 302  # to the login page
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(technician).get(url).status_code == 404  # not on their schedule


def test_the_job_page_links_to_the_leave_behind(client_for, csr):
    job = CompletedJobFactory()
    body = client_for(csr).get(job.get_absolute_url()).content.decode()
    assert reverse("public:leave_behind", args=[job.pk]) in body


# --- unsubscribe --------------------------------------------------------------------------------------------------


def test_unsubscribe_is_one_click_recorded_and_idempotent(client):
    customer = CustomerFactory(reminders_opt_in=True)
    url = reverse("public:unsubscribe", args=[tokens.make_unsubscribe_token(customer)])

    page = client.get(url)
    customer.refresh_from_db()
    assert "Stop reminder e-mails?" in page.content.decode() and customer.reminders_opt_in  # a GET changes nothing

    response = client.post(url)  # no CSRF cookie: mail providers' one-click POST (RFC 8058)
    customer.refresh_from_db()
    assert "You are unsubscribed" in response.content.decode()
    assert not customer.reminders_opt_in and customer.reminders_unsubscribed_at is not None
    first = customer.reminders_unsubscribed_at

    client.post(url)
    customer.refresh_from_db()
    assert customer.reminders_unsubscribed_at == first


def test_a_tampered_unsubscribe_link_changes_nothing(client):
    customer = CustomerFactory(reminders_opt_in=True)
    token = tokens.make_unsubscribe_token(customer)
    for variant in sorted(set(_variants(token)) - {token})[::10]:
        assert client.post(reverse("public:unsubscribe", args=[variant])).status_code == 404
    customer.refresh_from_db()
    assert customer.reminders_opt_in
