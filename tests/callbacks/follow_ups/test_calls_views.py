"""The call queue and the call screen through the Django test client: access per role, the flows, query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.follow_ups.models import FollowUpCall, FollowUpRule, Referral
from callbacks.models import Callback
from recommendations.models import Recommendation
from tests.callbacks.factories import CallbackFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = pytest.mark.django_db


def _reached(client, call, satisfaction="5", **extra):
    return client.post(reverse("callbacks:call_attempt", args=[call.pk]), {
        "outcome": "reached", "issues": "", "expectations_met": "yes", "would_refer": "yes",
        "satisfaction": satisfaction, **extra,
    })


@pytest.mark.parametrize("name", ["calls", "call_rules"])
def test_technicians_sales_and_outsiders_are_refused_the_queue(client_for, technician, sales, outsider, name):
    for user in (technician, sales, outsider):
        assert client_for(user).get(reverse(f"callbacks:{name}")).status_code == 403


def test_technicians_sales_and_outsiders_cannot_claim_or_see_a_call(client_for, technician, sales, outsider):
    call = FollowUpCallFactory()
    for user in (technician, sales, outsider):
        client = client_for(user)
        assert client.post(reverse("callbacks:call_next")).status_code == 403
        assert client.get(reverse("callbacks:call", args=[call.pk])).status_code == 403
        assert _reached(client, call).status_code == 403
    call.refresh_from_db()
    assert call.state == FollowUpCall.State.DUE and call.attempts == 0


@pytest.mark.parametrize("role", ["csr", "manager"])
def test_office_staff_work_the_queue(request, client_for, role):
    user = request.getfixturevalue(role)
    call = FollowUpCallFactory()
    client = client_for(user)

    response = client.post(reverse("callbacks:call_next"))

    assert response.status_code == 302 and response.url == call.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert call.customer.name in page and "Would you refer us to a neighbour or friend?" in page


def test_next_call_on_an_empty_queue_says_so(client_for, csr):
    response = client_for(csr).post(reverse("callbacks:call_next"), follow=True)

    assert "No follow-up call is due right now." in response.content.decode()


def test_the_call_screen_shows_the_technician_and_open_recommendations(client_for, csr):
    call = FollowUpCallFactory(job__lead_technician__first_name="Tess", job__lead_technician__last_name="Volt")
    RecommendationFactory(site=call.job.site, what="Replace the anode rod")

    page = client_for(csr).get(reverse("callbacks:call", args=[call.pk])).content.decode()

    assert "Tess Volt" in page and "Replace the anode rod" in page


def test_reached_without_a_satisfaction_is_a_form_error_and_changes_nothing(client_for, csr):
    call = FollowUpCallFactory()

    response = _reached(client_for(csr), call, satisfaction="")

    assert response.status_code == 400
    assert "Ask how satisfied" in response.content.decode()
    call.refresh_from_db()
    assert call.attempts == 0


def test_no_answer_goes_back_to_the_queue_for_later(client_for, csr):
    call = FollowUpCallFactory()

    response = client_for(csr).post(reverse("callbacks:call_attempt", args=[call.pk]), {"outcome": "no_answer"})

    assert response.status_code == 302 and response.url == reverse("callbacks:calls")
    call.refresh_from_db()
    assert call.state == FollowUpCall.State.DUE and call.next_attempt_at > timezone.now()


def test_from_a_reached_call_one_click_logs_a_callback_raises_a_lead_and_records_a_referral(client_for, csr):
    call = FollowUpCallFactory()
    client = client_for(csr)
    _reached(client, call, satisfaction="3", issues="The tap still drips")

    response = client.post(reverse("callbacks:call_callback", args=[call.pk]),
                           {"problem": "The tap still drips", "urgency": "normal"})
    callback = Callback.objects.get()
    assert response.url == callback.get_absolute_url() and callback.job == call.job

    client.post(reverse("callbacks:call_lead", args=[call.pk]), {"what": "Quote for a new kitchen faucet"})
    assert Recommendation.objects.get().what == "Quote for a new kitchen faucet"

    client.post(reverse("callbacks:call_referral", args=[call.pk]),
                {"name": "Ned Flanders", "phone": "555 010 9911", "note": "Neighbour"})
    assert Referral.objects.get().referred_customer.name == "Ned Flanders"

    page = client.get(reverse("callbacks:call", args=[call.pk])).content.decode()
    assert "Ned Flanders" in page and f"callback #{callback.pk}" in page


def test_a_bad_referral_is_a_form_error(client_for, csr):
    call = FollowUpCallFactory()
    client = client_for(csr)
    _reached(client, call)

    response = client.post(reverse("callbacks:call_referral", args=[call.pk]), {"name": "Ned", "phone": "12"})

    assert response.status_code == 400 and "phone number" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_call_script_no_longer_asks_for_a_review_whatever_the_rating(client_for, csr):
    """Issue 18: the review is asked of everyone by e-mail after the visit; the call is for service recovery."""
    happy, unhappy = FollowUpCallFactory(), FollowUpCallFactory()
    client = client_for(csr)
    _reached(client, happy, satisfaction="5")
    _reached(client, unhappy, satisfaction="2")

    for call in (happy, unhappy):
        page = client.get(reverse("callbacks:call", args=[call.pk])).content.decode()
        assert "review request" not in page and "May we ask you for a review?" not in page
        assert "every customer gets the review link by e-mail after each visit" in page


def test_managers_set_the_rules_and_csrs_only_read_them(client_for, manager, csr):
    assert client_for(csr).post(reverse("callbacks:call_rules"), {"service_call": "4"}).status_code == 403
    response = client_for(manager).post(reverse("callbacks:call_rules"), {
        "service_call": "4", "maintenance": "", "install": "10", "estimate": "", "callback_revisit": "",
    })

    assert response.status_code == 302
    assert dict(FollowUpRule.objects.values_list("job_kind", "days_after")) == {
        "service_call": 4, "maintenance": None, "install": 10, "estimate": None, "callback_revisit": None,
    }


def test_a_negative_rule_is_a_form_error(client_for, manager):
    response = client_for(manager).post(reverse("callbacks:call_rules"), {"service_call": "-1"})

    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()
    assert FollowUpRule.objects.get(job_kind="service_call").days_after == 2


@pytest.mark.parametrize("due", [2, 20])
def test_the_queue_page_is_a_fixed_number_of_queries(client_for, csr, due, django_assert_num_queries):
    FollowUpCallFactory.create_batch(due, due_at=timezone.now() - timedelta(days=1))
    client = client_for(csr)

    # session, user, roles, unread count, call in hand, count, page
    with django_assert_num_queries(7):
        assert client.get(reverse("callbacks:calls")).status_code == 200


# --- "Today" for a CSR ----------------------------------------------------------------------------------------------


def test_today_shows_the_csrs_queues_with_counts_overdue_first_and_a_next_call_button(client_for, csr):
    FollowUpCallFactory.create_batch(2, due_at=timezone.now() - timedelta(days=3))
    FollowUpCallFactory(due_at=timezone.now())  # due today, at any hour (an hour ago is yesterday just after midnight)
    CallbackFactory(logged_at=timezone.now() - timedelta(days=2))  # first contact overdue
    CallbackFactory()

    response = client_for(csr).get(reverse("home"))

    queues = response.context["queues"]
    by_name = {queue["name"]: (queue["count"], queue["overdue"]) for queue in queues}
    assert by_name == {
        "New from customers": (0, 0),
        "New callbacks to acknowledge": (2, 1), "Customer updates due": (0, 0),
        "Follow-up calls due": (3, 2), "Closure confirmations due": (0, 0),
    }
    assert [queue["overdue"] for queue in queues] == sorted((queue["overdue"] for queue in queues), reverse=True)
    body = response.content.decode()
    assert "Next call" in body and reverse("callbacks:call_next") in body


@pytest.mark.parametrize("due", [1, 15])
def test_today_is_a_fixed_number_of_queries(client_for, csr, due, django_assert_num_queries):
    FollowUpCallFactory.create_batch(due)
    client = client_for(csr)

    # session, user, roles, unread count, today's jobs, open callbacks, all the counts, calls due
    with django_assert_num_queries(8):
        client.get(reverse("home"))
