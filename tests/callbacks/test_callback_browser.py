"""A callback from the phone call to the confirmed close, through the real pages in Chromium."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from callbacks.models import Callback
from servicedesk import roles
from tests.accessibility import serious_violations
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.factories import CustomerFactory, JobFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_csr_logs_a_callback_from_a_phone_number_and_closes_it_after_the_fix(page, live_server):
    UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    original_tech = UserFactory(username="tom", first_name="Tom", last_name="Alvarez", role=roles.TECHNICIAN)
    UserFactory(username="fiona", first_name="Fiona", last_name="Fixer", role=roles.TECHNICIAN)
    job = CompletedJobFactory(
        lead_technician=original_tech, equipment__site__customer__name="Grace Hopper",
        equipment__site__customer__phone="(555) 010-2233", equipment__site__customer__phone_digits="5550102233",
    )
    # Script errors and CSP violations (the browser's own favicon request may 404; that is not the page's fault).
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))

    # The CSR, on the phone: finds the caller by the number as she says it, and logs it in one pass.
    _log_in(page, live_server, "csr")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log a callback").click()
    page.get_by_label("Phone (any format), name, address or invoice #").fill("555.010.2233")
    page.get_by_role("link", name=re.compile("Grace Hopper")).click()
    expect(page.get_by_role("radio", name=re.compile(job.invoice_number))).to_be_checked()
    page.get_by_label("Problem, in the customer's words").fill("The furnace is blowing cold air again.")
    page.get_by_role("radio", name="High", exact=True).check()
    page.get_by_role("button", name="Log callback").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Callback #")
    callback = Callback.objects.get()
    expect(page.locator("#sla-clock")).to_contain_text("First contact")

    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#callback-state")).to_have_text("Acknowledged")
    page.get_by_label("Technician who will fix it").select_option(label="Fiona Fixer")
    page.get_by_role("button", name="Schedule revisit").click()
    expect(page.locator("#callback-state")).to_have_text("Revisit scheduled")

    # The technician who fixes it resolves it, with the honest root cause.
    _log_in(page, live_server, "fiona")
    page.goto(f"{live_server.url}{callback.get_absolute_url()}")
    page.get_by_role("radio", name="Workmanship").check()
    page.get_by_label("What was found and done").fill("Flue pipe was not sealed; resealed and tested.")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#callback-state")).to_have_text("Resolved")

    # The closure call: the customer confirms it is fixed.
    _log_in(page, live_server, "csr")
    page.goto(f"{live_server.url}{callback.get_absolute_url()}")
    page.get_by_role("radio", name="Customer confirms it is fixed").check()
    page.get_by_label("What the customer said").fill("Warm all night, thank you.")
    page.get_by_role("button", name="Record closure call").click()

    expect(page.locator("#callback-state")).to_have_text("Closed")
    expect(page.get_by_text("the customer confirmed the fix")).to_be_visible()
    callback.refresh_from_db()
    assert callback.state == Callback.State.CLOSED and callback.root_cause == "workmanship"
    assert callback.revisit_job.lead_technician.username == "fiona"
    assert callback.training_items.get().technician == original_tech
    assert problems == []


def test_csr_finds_the_invoiced_job_and_any_older_job_of_the_customer(page, live_server):
    UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    customer = CustomerFactory(name="Grace Hopper")
    home, rental = SiteFactory(customer=customer, street="12 Oak Avenue"), SiteFactory(customer=customer)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    invoiced = JobFactory(site=home, completed=True, invoice_number="A-7731", scheduled_start=now - timedelta(days=200))
    igniter = JobFactory(site=home, completed=True, summary="Replaced the igniter",
                         scheduled_start=now - timedelta(days=300))
    for days_ago in range(10, 22):
        JobFactory(site=home, completed=True, scheduled_start=now - timedelta(days=days_ago))
    JobFactory(site=rental, completed=True, scheduled_start=now - timedelta(days=1))  # the latest of all
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    _log_in(page, live_server, "csr")

    # The caller reads the invoice number: that job is chosen, not the latest one at her other address.
    page.goto(f"{live_server.url}/callbacks/new/")
    page.get_by_label("Phone (any format), name, address or invoice #").fill("a-7731")
    page.get_by_role("link", name=re.compile("Grace Hopper")).click()
    expect(page.get_by_role("radio", name=re.compile("#A-7731"))).to_be_checked()

    # She then remembers an older visit: the CSR finds it among all of her jobs, as she types.
    expect(page.get_by_role("radio", name=re.compile(f"#{igniter.invoice_number}"))).to_have_count(0)
    page.get_by_label(re.compile("Search all of the customer's 15 jobs")).fill("igniter")
    expect(page.get_by_text("1 of 15 jobs match")).to_be_visible()
    page.get_by_role("radio", name=re.compile(f"#{igniter.invoice_number}")).check()
    page.get_by_label("Problem, in the customer's words").fill("No spark again.")
    page.get_by_role("button", name="Log callback").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Callback #")
    assert Callback.objects.get().job == igniter != invoiced
    assert problems == []


def test_overdue_callbacks_links_keep_their_contrast_on_today_callbacks_and_my_callbacks(page, live_server):
    csr = UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    logged = timezone.now() - timedelta(hours=30)  # normal urgency: first contact was due 6 hours ago
    overdue = CallbackFactory(logged_by=csr, logged_at=logged, job__equipment__site__customer__name="Grace Hopper")

    _log_in(page, live_server, "csr")
    for path in ("/", reverse("callbacks:list"), reverse("callbacks:mine")):
        page.goto(f"{live_server.url}{path}")
        link = page.get_by_role("link", name=f"#{overdue.pk}", exact=True)
        expect(link).to_be_visible()
        assert "table-danger" in link.locator("xpath=ancestor::tr").get_attribute("class")
        assert serious_violations(page) == [], path
