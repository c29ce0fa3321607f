"""A technician's day on a phone: My day, the briefing, every open recommendation raised, a new one, job done."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Job
from recommendations.models import Discussion, Recommendation, Risk
from tests.factories import JobFactory, UserFactory

from .factories import DiscussionFactory, RecommendationFactory, completed_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_technician_briefs_discusses_raises_and_completes_on_a_phone(page, live_server):
    technician = UserFactory(username="technician", first_name="Tom", last_name="Alvarez", role="Technician")
    job = JobFactory(lead_technician=technician, site__customer__name="Ada Lovelace",
                     site__customer__notes="Back door only; the dog is friendly.")
    earlier = completed_visit(job.site, days_ago=40)
    furnace = RecommendationFactory(site=job.site, what="Replace cracked heat exchanger", risk=Risk.FAILURE_LIKELY,
                                    created_at=timezone.now() - timedelta(days=120))
    DiscussionFactory(recommendation=furnace, job=earlier, response=Discussion.Response.NOT_NOW,
                      discussed_at=earlier.completed_at)
    pump = RecommendationFactory(site=job.site, what="Replace the sump pump", risk=Risk.SHOULD_BE_DONE)
    console_errors = []
    page.on("console", lambda message: message.type == "error"
            and "favicon" not in message.location.get("url", "")  # the browser asks for it on its own
            and console_errors.append(message.text))

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("technician")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("My day")
    expect(page.get_by_text("2 open recommendations")).to_be_visible()
    page.get_by_role("link", name="Briefing for Ada Lovelace").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Briefing: Ada Lovelace")
    expect(page.get_by_text("Back door only; the dog is friendly.")).to_be_visible()
    briefing_check = Axe().run(page)
    assert briefing_check.violations_count == 0, briefing_check.generate_report()
    furnace_card = page.locator(f"#rec-{furnace.pk}")
    expect(furnace_card).to_contain_text("120 days ago")
    expect(furnace_card).to_contain_text("Not now")  # the customer's last answer, on the visit 40 days ago
    furnace_card.get_by_text("Interested", exact=True).click()
    furnace_card.get_by_placeholder("Note (why, if not discussed)").fill("Wants a quote this week")
    furnace_card.get_by_role("button", name="Record answer").click()
    expect(page.locator(f"#rec-{furnace.pk}")).to_contain_text("Discussed on this visit: Interested")

    pump_card = page.locator(f"#rec-{pump.pk}")
    pump_card.get_by_text("Not discussed", exact=True).click()
    pump_card.get_by_role("button", name="Record answer").click()
    expect(page.locator(f"#rec-{pump.pk}")).to_contain_text("Say why it was not discussed.")
    page.locator(f"#rec-{pump.pk}").get_by_text("Not now", exact=True).click()
    page.locator(f"#rec-{pump.pk}").get_by_role("button", name="Record answer").click()
    expect(page.locator(f"#rec-{pump.pk}")).to_contain_text("Discussed on this visit: Not now")

    page.get_by_role("link", name="Raise a recommendation").click()
    page.get_by_label("What is recommended").fill("Replace the corroded flue pipe")
    page.get_by_label("Advisory").check()
    page.get_by_label("Estimate from ($)").fill("300")
    page.get_by_label("Estimate to ($)").fill("450")
    page.get_by_role("button", name="Raise recommendation").click()
    expect(page.get_by_text("Recommendation raised: Replace the corroded flue pipe.")).to_be_visible()

    page.get_by_role("link", name="Complete job").click()
    expect(page.get_by_text("Already recorded on this visit").first).to_be_visible()
    page.get_by_label("Work summary").fill("Cleaned burners, replaced igniter.")
    page.get_by_label("The customer signed the work order").check()
    page.get_by_role("button", name="Complete job").click()

    expect(page.get_by_text("Job completed: Ada Lovelace.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My day")
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED
    assert set(Discussion.objects.filter(job=job).values_list("recommendation__what", "response")) == {
        ("Replace cracked heat exchanger", "interested"), ("Replace the sump pump", "not_now"),
    }
    raised = Recommendation.objects.get(what="Replace the corroded flue pipe")
    assert raised.raised_on_job == job and raised.customer_acknowledged and raised.owner == technician
    assert raised.next_follow_up_on - job.completed_at.date() <= timedelta(days=90)
    assert console_errors == []
