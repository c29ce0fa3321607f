"""A technician's day on a phone: My day, the briefing, every open recommendation raised, a new one, job done."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Job
from recommendations.models import Discussion, Recommendation, Risk
from tests.callbacks.factories import CallbackFactory
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


def test_every_technician_page_fits_a_phone_and_an_upcoming_visit_is_briefed_with_its_callbacks(page, live_server):
    technician = UserFactory(username="technician", first_name="Tom", last_name="Alvarez", role="Technician")
    original = completed_visit(JobFactory(site__customer__name="Grace Hopper-Wellington-Smythe",
                                          site__customer__email="facilities@brookfieldmontessorischool.example.com",
                                          site__street="12345 North Longwoodmeadow Boulevard").site,
                               days_ago=12, lead_technician=technician, invoice_number="INV-2024-0000123456")
    site = original.site
    callback = CallbackFactory(job=original, problem="Water pooling under the water heater again since the visit.")
    next_week = timezone.localtime() + timedelta(days=6)
    revisit = JobFactory(site=site, lead_technician=technician, kind=Job.Kind.CALLBACK_REVISIT,
                         scheduled_start=next_week, scheduled_end=next_week + timedelta(hours=2))
    callback.revisit_job = revisit
    callback.state = "revisit_scheduled"
    callback.save()
    anode = RecommendationFactory(site=site, what="Replace the anode rod", raised_by=technician, owner=technician)
    let_go = JobFactory(lead_technician=technician, scheduled_start=next_week + timedelta(days=1),
                        scheduled_end=next_week + timedelta(days=1, hours=1), site__customer__name="Rude Rudy",
                        site__customer__do_not_service=True, site__customer__do_not_service_since=timezone.now())
    today = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    JobFactory(lead_technician=technician, site=site, scheduled_start=today, scheduled_end=today + timedelta(hours=1))

    def fits(what):
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{what} is {width} px wide on a 390 px phone"
        # Nor may a part of it (a table in a scrolling box) hide columns off to the side.
        sideways = page.evaluate("""() => [...document.querySelectorAll("main *")].filter(element =>
            ["auto", "scroll"].includes(getComputedStyle(element).overflowX)
            && element.scrollWidth > element.clientWidth + 1).map(element => element.className)""")
        assert sideways == [], f"{what} scrolls sideways in {sideways}"

    page.goto(f"{live_server.url}/")
    page.get_by_label("Username").fill("technician")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My day")
    fits("My day")

    page.get_by_role("link", name=f"Briefing for {site.customer.name}, {next_week:%a %b %-d}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Briefing: {site.customer.name}")
    expect(page.get_by_role("note").filter(has_text="This visit fixes")).to_contain_text(f"callback #{callback.pk}")
    expect(page.locator(f"#open-callback-{callback.pk}")).to_contain_text("Water pooling under the water heater")
    fits("The briefing")
    check = Axe().run(page)
    assert check.violations_count == 0, check.generate_report()

    pages = {
        "My schedule": "/jobs/",
        "The job page": revisit.get_absolute_url(),
        "Raise a recommendation": f"/jobs/{revisit.pk}/recommendations/new/",
        "Complete job": f"/jobs/{revisit.pk}/complete/",
        "Customers": "/customers/",
        "The customer page": site.customer.get_absolute_url(),
        "Callbacks": "/callbacks/",
        "The callback page": callback.get_absolute_url(),
        "My follow-ups": "/recommendations/mine/",
        "The recommendation page": anode.get_absolute_url(),
        "My callbacks": "/callbacks/mine/",
        "My scorecard": f"/dashboards/technicians/{technician.pk}/",
        "Notifications": "/notifications/",
        "Notification preferences": "/notifications/preferences/",
        "Change password": "/accounts/password/",
    }
    for what, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main")).to_be_visible()
        fits(what)

    page.goto(f"{live_server.url}{let_go.get_absolute_url()}")
    expect(page.get_by_role("note").filter(has_text="Do not service")).to_contain_text("Rude Rudy")
    page.get_by_role("link", name="Briefing for this visit").click()
    expect(page.get_by_role("note").filter(has_text="Do not service")).to_contain_text("Rude Rudy")
