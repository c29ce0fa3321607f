"""Two CSRs working the follow-up call queue at once, in two Chromium browser contexts."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callbacks.follow_ups.models import CallAttempt, FollowUpCall, Referral
from servicedesk import roles
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


@pytest.fixture
def carla_and_dana(new_context, live_server):
    """Two CSRs logged in at once, each in their own browser context, on their Today page; `problems` collects
    script errors and CSP violations of both."""
    UserFactory(username="carla", first_name="Carla", last_name="Reyes", role=roles.CSR)
    UserFactory(username="dana", first_name="Dana", last_name="Osei", role=roles.CSR)
    problems = []
    pages = []
    for username in ("carla", "dana"):
        page = new_context().new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
        _log_in(page, live_server, username)
        pages.append(page)
    return SimpleNamespace(carla=pages[0], dana=pages[1], problems=problems)


def test_two_csrs_get_different_calls_and_a_no_answer_comes_back_at_its_retry_time(carla_and_dana):
    FollowUpCallFactory(job__equipment__site__customer__name="Grace Hopper",
                        next_attempt_at=timezone.now() - timedelta(days=1))
    FollowUpCallFactory(job__equipment__site__customer__name="Alan Turing",
                        next_attempt_at=timezone.now() - timedelta(hours=2))
    carla, dana, problems = carla_and_dana.carla, carla_and_dana.dana, carla_and_dana.problems

    # Both press "Next call" on their Today page: each gets a different call, the most overdue first.
    carla.get_by_role("button", name="Next call").click()
    dana.get_by_role("button", name="Next call").click()
    expect(carla.get_by_role("heading", level=1)).to_contain_text("Grace Hopper")
    expect(dana.get_by_role("heading", level=1)).to_contain_text("Alan Turing")

    # Carla reaches her customer, who is delighted and refers a neighbour.
    carla.get_by_role("radio", name="Reached").check()
    carla.get_by_label("Any issues since the visit?").fill("None, works great")
    carla.get_by_label("Did we meet what you expected?").select_option("Yes")
    carla.get_by_label("Would you refer us to a neighbour or friend?").select_option("Yes")
    carla.get_by_role("radio", name="5 — delighted").check()
    carla.get_by_role("button", name="Record call").click()
    expect(carla.locator("#call-state")).to_have_text("Done")
    carla.get_by_label("Referral's name").fill("Katherine Johnson")
    carla.get_by_label("Referral's phone").fill("(555) 010-3344")
    carla.get_by_label("Referral note").fill("Lives next door; old furnace")
    carla.get_by_role("button", name="Record referral").click()
    expect(carla.locator("#referrals")).to_contain_text("Katherine Johnson")
    # No review question on the call (issue 18): every customer gets the review link by e-mail after the visit.
    expect(carla.get_by_role("button", name=re.compile("review request"))).to_have_count(0)

    # Dana's customer does not answer: the call leaves the queue until its retry time.
    dana.get_by_role("radio", name="No answer").check()
    dana.get_by_role("button", name="Record call").click()
    expect(dana.get_by_text(re.compile("No answer: the call comes back"))).to_be_visible()
    dana.get_by_role("button", name="Next call").click()
    expect(dana.get_by_text("No follow-up call is due right now.")).to_be_visible()

    # The retry time comes (the clock moved on): the call is back, and "Next call" hands it out again.
    retry = FollowUpCall.objects.get(customer__name="Alan Turing")
    FollowUpCall.objects.filter(pk=retry.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    dana.get_by_role("button", name="Next call").click()
    expect(dana.get_by_role("heading", level=1)).to_contain_text("Alan Turing")
    expect(dana.get_by_text("Attempt 1 of 3")).to_be_visible()

    assert Referral.objects.get().referred_customer.name == "Katherine Johnson"
    assert FollowUpCall.objects.get(customer__name="Grace Hopper").satisfaction == 5
    assert problems == []


def test_two_csrs_open_the_same_call_from_the_list_and_only_the_one_on_it_can_record(carla_and_dana, live_server):
    FollowUpCallFactory(job__equipment__site__customer__name="Grace Hopper")
    carla, dana, problems = carla_and_dana.carla, carla_and_dana.dana, carla_and_dana.problems
    for page in (carla, dana):
        page.goto(f"{live_server.url}/calls/")

    # Both open Grace Hopper's call from the list: Carla first takes it; Dana's page says who is on it and since when.
    carla.get_by_role("button", name="Grace Hopper").click()
    expect(carla.get_by_role("button", name="Record call")).to_be_visible()
    dana.get_by_role("button", name="Grace Hopper").click()
    expect(dana.get_by_role("heading", level=1)).to_contain_text("Grace Hopper")
    expect(dana.locator("#call-holder")).to_contain_text(re.compile(r"Carla Reyes is on this call since \d+:\d\d"))
    expect(dana.get_by_role("button", name="Record call")).to_have_count(0)

    # Carla has the call open in a second tab too, then hands it back from the first; Dana takes it.
    stale = carla.context.new_page()
    stale.goto(carla.url)
    expect(stale.get_by_role("button", name="Record call")).to_be_visible()
    carla.get_by_role("button", name="Hand it back to the queue").click()
    expect(carla.get_by_text("The call with Grace Hopper is back in the queue.")).to_be_visible()
    dana.reload()
    dana.get_by_role("button", name="Take this call").click()
    expect(dana.get_by_role("button", name="Record call")).to_be_visible()

    # Carla's stale tab still shows the form, but the service refuses her: Dana is on the call now.
    stale.get_by_role("radio", name="No answer").check()
    stale.get_by_role("button", name="Record call").click()
    expect(stale.get_by_text(re.compile(r"Nothing was recorded: Dana Osei \(since"))).to_be_visible()
    expect(stale.locator("#call-holder")).to_contain_text("Dana Osei is on this call")

    dana.get_by_role("radio", name="Reached").check()
    dana.get_by_role("radio", name="4", exact=True).check()
    dana.get_by_role("button", name="Record call").click()
    expect(dana.locator("#call-state")).to_have_text("Done")

    assert [attempt.by.username for attempt in CallAttempt.objects.all()] == ["dana"]
    assert problems == []
