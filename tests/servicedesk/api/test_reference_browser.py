"""Issue 19: a manager reads the API reference in Chromium, Swagger UI and Redoc, offline and under the strict CSP
(a blocked script or style shows as a console error)."""

import pytest
from playwright.sync_api import expect

from servicedesk import roles
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_the_api_reference_in_swagger_ui_and_redoc_with_no_csp_errors(page, live_server):
    UserFactory(username="manager", role=roles.MANAGER)
    errors, outside = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("requestfinished",
            lambda request: not request.url.startswith(live_server.url) and outside.append(request.url))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/integrations/")
    page.get_by_role("link", name="Swagger UI").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("servicedesk API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/jobs/bulk")).to_be_visible()

    page.goto(f"{live_server.url}/integrations/")
    page.get_by_role("link", name="Redoc").click()
    expect(page.get_by_role("heading", name="servicedesk API", level=1)).to_be_visible()
    expect(page.get_by_text("/api/v1/jobs/bulk").first).to_be_attached()

    # Redoc's sidebar shows its maker's logo from their CDN: the policy refuses it, as it should (nothing is
    # fetched from outside, below), and that refusal is the one CSP message expected.
    refused = [error for error in errors if "Content Security Policy" in error and "cdn.redoc.ly" not in error]
    assert refused == []
    assert outside == []
