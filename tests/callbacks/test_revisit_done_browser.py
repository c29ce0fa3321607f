"""A callback's revisit on the technician's phone: the briefing says what it fixes, and completing the visit moves
the callback on for the CSR who owns it, through the real pages in Chromium."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from callbacks import services
from servicedesk import roles
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import UserFactory

from .test_callback_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_the_technician_completes_the_revisit_and_the_csr_sees_it_done_awaiting_resolution(page, live_server):
    csr = UserFactory(username="csr", first_name="Carla", last_name="Reyes", role=roles.CSR)
    fiona = UserFactory(username="fiona", first_name="Fiona", last_name="Fixer", role=roles.TECHNICIAN)
    job = CompletedJobFactory(equipment__site__customer__name="Grace Hopper")
    callback = services.callback_log(job=job, problem="Water under the furnace since Tuesday.", channel="phone",
                                     urgency="high", logged_by=csr)
    services.callback_acknowledge(callback=callback, by=csr)
    callback = services.callback_schedule_revisit(callback=callback, by=csr, technician=fiona,
                                       start=timezone.now() + timedelta(minutes=30))
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The technician, before knocking: the briefing names the callback and the customer's words.
    _log_in(page, live_server, "fiona")
    page.goto(f"{live_server.url}{reverse('recommendations:briefing', args=[callback.revisit_job_id])}")
    fixes = page.locator(f"#revisit-fixes-callback-{callback.pk}")
    expect(fixes).to_contain_text(f"This visit fixes callback #{callback.pk}")
    expect(fixes).to_contain_text("Water under the furnace since Tuesday.")
    check = Axe().run(page)
    assert check.violations_count == 0, check.generate_report()
    page.get_by_role("link", name="Complete job").click()
    page.get_by_label("Work summary").fill("Re-made the condensate drain joint; dry after an hour.")
    page.get_by_role("button", name="Complete job").click()
    expect(page.get_by_text("Job completed: Grace Hopper.")).to_be_visible()

    # The CSR who owns it: told, the revisit clock stopped, the resolution next.
    _log_in(page, live_server, "csr")
    page.goto(f"{live_server.url}{callback.get_absolute_url()}")
    expect(page.locator("#callback-state")).to_have_text("Revisit done, awaiting resolution")
    expect(page.locator("#sla-clock")).to_contain_text("Resolution")
    expect(page.locator("#sla-clock")).not_to_contain_text("Revisit")
    expect(page.locator("#callback-timeline")).to_contain_text("Re-made the condensate drain joint")
    expect(page.get_by_role("button", name="Resolve")).to_be_visible()
    assert problems == []
