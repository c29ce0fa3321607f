"""The journey of a potential callback through the real pages in Chromium: the CSR logs it as potential, the
technician on the phone finds a new problem and says so, and the manager's callback dashboard does not count it."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callbacks.models import Callback, Classification
from servicedesk import roles
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.test_callback_browser import _log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_potential_callback_found_to_be_a_new_problem_is_not_counted(page, new_context, live_server):
    UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    UserFactory(username="tom", first_name="Tom", last_name="Alvarez", role=roles.TECHNICIAN)
    job = CompletedJobFactory(lead_technician__username="tom", equipment__site__customer__name="Grace Hopper",
                              equipment__site__customer__phone="(555) 010-2233",
                              equipment__site__customer__phone_digits="5550102233")
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The CSR cannot tell yet whether it is our work: a potential callback.
    _log_in(page, live_server, "csr")
    page.goto(f"{live_server.url}{reverse('callbacks:new')}")
    page.get_by_label("Phone (any format), name, address or invoice #").fill("555.010.2233")
    page.get_by_role("link", name=re.compile("Grace Hopper")).click()
    expect(page.get_by_role("radio", name=re.compile(job.invoice_number))).to_be_checked()
    page.get_by_label("Problem, in the customer's words").fill("The heater you fixed is leaking again.")
    page.get_by_role("radio", name="Potential — to be confirmed on site").check()
    page.get_by_role("button", name="Log callback").click()
    expect(page.locator("#callback-classification")).to_have_text("Potential callback")
    callback = Callback.objects.get()

    # The technician on site, on the phone: a new, unrelated failure.
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.on("pageerror", lambda error: problems.append(str(error)))
    _log_in(phone, live_server, "tom")
    phone.goto(f"{live_server.url}{callback.get_absolute_url()}")
    panel = phone.locator("#classify")
    panel.get_by_role("radio", name="New / unrelated problem (not a callback)").check()
    panel.get_by_label("What was found (why)").fill("Cracked expansion tank; our valve is dry.")
    panel.get_by_role("button", name="Classify").click()
    expect(phone.get_by_text("Classified. The figures count it accordingly.")).to_be_visible()
    expect(phone.locator("#callback-classification")).to_have_text("New / unrelated problem (not a callback)")
    expect(phone.locator("#callback-timeline")).to_contain_text("Cracked expansion tank")
    wide = phone.evaluate("""[...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.getBoundingClientRect().right).slice(0, 15)""")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, wide

    # The manager's dashboard: the job did not come back.
    _log_in(page, live_server, "manager")
    page.goto(f"{live_server.url}{reverse('dashboards:callbacks')}")
    expect(page.get_by_text("0 of 1 completed jobs came back")).to_be_visible()
    summary = page.locator("#table-summary")
    expect(summary).to_contain_text("Unrelated new problems (not counted)")
    callback.refresh_from_db()
    assert callback.classification == Classification.NEW_PROBLEM
    assert problems == []
