"""Issue 20 in Chromium: a manager subscribes a receiver to an integration's events, copies the secret shown once,
sends a test event that the receiver verifies with the Standard Webhooks library, and disables the subscription."""

import pytest
from playwright.sync_api import expect

from servicedesk import roles
from servicedesk.integrations.models import Integration
from tests.factories import UserFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_subscribes_a_receiver_and_it_verifies_a_signed_test_event(page, live_server, receiver):
    manager = UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    integration = Integration.objects.create(name="Dispatch board", created_by=manager)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}{integration.get_absolute_url()}")
    page.get_by_role("link", name="Add a webhook subscription").click()
    page.get_by_label("Label").fill("Team chat")
    page.locator("#id_url").fill(receiver.url)
    page.get_by_label("callback.logged:").check()
    page.get_by_role("button", name="Add subscription").click()
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")

    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event sent")).to_be_visible()
    expect(page.locator("#webhook-secret")).to_have_count(0)  # shown once
    assert wait_for(lambda: receiver.requests, timeout=10)
    assert [document["type"] for document in receiver.verified(secret)] == ["webhook.test"]
    page.reload()
    expect(page.get_by_text("200 delivered")).to_be_visible()

    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("Disabled: events wait until it is enabled again.")).to_be_visible()
    expect(page.get_by_role("button", name="Enable and send what waited")).to_be_visible()
