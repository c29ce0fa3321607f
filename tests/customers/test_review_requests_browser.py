"""A manager sets up review requests; after the visits, the customers' pages say who was asked and who was not."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Job
from customers.reviews import send_review_requests
from servicedesk import roles
from tests.factories import CustomerFactory, JobFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _visit(customer):
    start = timezone.now() - timedelta(days=2)
    job = JobFactory(customer=customer, completed=True, scheduled_start=start)
    Job.objects.filter(pk=job.pk).update(created_at=start - timedelta(days=3))
    return job


def test_a_manager_sets_the_review_link_and_every_customer_is_asked_unless_they_opted_out(page, live_server):
    UserFactory(username="morgan", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    asked = CustomerFactory(name="Grace Hopper")
    opted_out = CustomerFactory(name="Alan Turing", contact_opt_out=True)
    for customer in (asked, opted_out):
        _visit(customer)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("morgan")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("button", name=re.compile("Morgan Hale")).click()
    page.get_by_role("link", name="Review requests").click()
    expect(page.get_by_text("No review link is set")).to_be_visible()
    page.get_by_label("Review link").fill("https://g.page/r/northside/review")
    page.get_by_label("Days after the visit").fill("1")
    page.get_by_label("Cooldown (days)").fill("180")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Review request settings saved")).to_be_visible()

    send_review_requests()  # the hourly sweep
    assert [message.to for message in mail.outbox] == [[asked.email]]

    page.reload()
    expect(page.get_by_role("row", name="Grace Hopper")).to_contain_text("Asked by e-mail")
    expect(page.get_by_role("row", name="Alan Turing")).to_contain_text("Skipped: the customer opted out of contact")
    page.get_by_role("link", name="Alan Turing").click()
    expect(page.get_by_text("Review request skipped: the customer opted out of contact")).to_be_visible()
    assert problems == []
