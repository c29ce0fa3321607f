"""The customer's side in Chromium: a leave-behind's feedback link, opened on a phone with no login."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk import roles
from servicedesk.public.views import feedback_url
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.test_callback_browser import _log_in
from tests.factories import UserFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _serious(results):
    return [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_customer_files_a_complaint_from_the_leave_behind_and_a_csr_sees_the_callback(
    page, new_context, live_server, settings
):
    settings.SITE_URL = live_server.url
    UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    job = CompletedJobFactory(equipment__site__customer__name="Ada Lovelace", summary="Replaced the igniter.")
    RecommendationFactory(site=job.site, what="Replace the cracked heat exchanger", risk="failure_likely")
    console_errors = []
    # The staff pages have no favicon yet (templates/base.html); the customer's pages declare an empty one.
    page.on("console", lambda message: message.type == "error" and not message.location["url"].endswith(
        "/favicon.ico") and console_errors.append(message.text))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("csr")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}{job.get_absolute_url()}")
    page.get_by_role("link", name="Leave-behind for the customer (print)").click()
    expect(page.get_by_role("img", name="QR code for the feedback page")).to_be_visible()
    expect(page.get_by_text("Replace the cracked heat exchanger")).to_be_visible()
    leave_behind_axe = _serious(Axe().run(page))
    link = page.locator(".feedback-link").inner_text().strip()

    customer = new_context(**PHONE)  # a fresh context: no session, no cookies
    phone = customer.new_page()
    phone.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    phone.goto(link)
    expect(phone.get_by_role("heading", name="How did we do?")).to_be_visible()
    feedback_axe = _serious(Axe().run(phone))
    phone.get_by_label("Complaint").check()
    phone.get_by_label("How would you rate the visit? (optional)").select_option("2")
    phone.get_by_label("Your message").fill("The furnace is blowing cold air again.")
    phone.get_by_label("Please call me back").check()
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(phone.get_by_text("will call you")).to_be_visible()
    thanks_axe = _serious(Axe().run(phone))
    customer.close()

    page.goto(f"{live_server.url}/callbacks/")
    row = page.get_by_role("row", name=re.compile("Ada Lovelace"))
    expect(row).to_contain_text("The furnace is blowing cold air again.")
    expect(row).to_contain_text("New")
    row.get_by_role("link", name=re.compile("#")).click()
    expect(page.get_by_text("complaint from the feedback page").first).to_be_visible()

    assert leave_behind_axe == [] and feedback_axe == [] and thanks_axe == [], (
        leave_behind_axe, feedback_axe, thanks_axe)
    assert console_errors == []


def test_a_web_complaint_waits_in_the_triage_queue_until_a_csr_takes_it(page, new_context, live_server, settings):
    settings.SITE_URL = live_server.url
    UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    job = CompletedJobFactory(equipment__site__customer__name="Ada Lovelace")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    customer = new_context(**PHONE)
    phone = customer.new_page()
    phone.goto(feedback_url(job))
    phone.get_by_label("Complaint").check()
    phone.get_by_label("Your message").fill("Water is pooling under the heater again.")
    phone.get_by_label("Please call me back").check()
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    customer.close()

    # Nobody owns it yet: it waits on Today for the first CSR to take it.
    _log_in(page, live_server, "csr")
    queue = page.locator("#queues .card", has_text="New from customers")
    expect(queue).to_contain_text("1")
    queue.get_by_role("link", name="New from customers").click()
    expect(page.get_by_role("heading", name="New from customers")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Ada Lovelace"))
    expect(row).to_contain_text("Water is pooling under the heater again.")
    row.get_by_role("button", name=re.compile("Take callback")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")
    expect(page.get_by_text("is yours: make the first contact")).to_be_visible()
    expect(page.locator("#callback-owner")).to_have_text("Carla Reyes")
    page.goto(f"{live_server.url}/callbacks/triage/")
    expect(page.get_by_text("Nothing to take: every callback has an owner.")).to_be_visible()
    assert problems == []
