"""Issue 19 in Chromium: a manager connects an integration (its token shown once, used, revoked) and reads the API
reference in Swagger UI and Redoc, offline and under the strict CSP (a blocked script or style is a console error)."""

import pytest
from playwright.sync_api import expect

from servicedesk import roles
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_connects_an_integration_and_reads_the_api_reference_with_no_csp_errors(page, live_server):
    UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    errors, outside = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("requestfinished",
            lambda request: not request.url.startswith(live_server.url) and outside.append(request.url))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Morgan Hale").click()
    page.get_by_role("link", name="Integrations and API").click()

    page.get_by_label("Name").fill("Housecall Pro")
    page.get_by_label("Kind").select_option(label="Housecall Pro")
    page.get_by_role("button", name="Add integration").click()
    expect(page.get_by_role("heading", name="Housecall Pro", level=1)).to_be_visible()
    page.get_by_label("Label").fill("nightly sync")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Issue token").click()
    token = page.locator("#issued-token").inner_text().strip()
    api = page.context.request
    assert api.get(f"{live_server.url}/api/v1/", headers={"Authorization": f"Bearer {token}"}).ok

    page.reload()  # shown once: a reload (a GET of the page) no longer shows it
    expect(page.locator("#issued-token")).to_have_count(0)
    expect(page.get_by_text("from 127.0.0.1")).to_be_visible()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("revoked: it no longer works")).to_be_visible()
    assert api.get(f"{live_server.url}/api/v1/", headers={"Authorization": f"Bearer {token}"}).status == 401

    page.get_by_role("link", name="Integrations", exact=True).click()
    page.get_by_role("link", name="Swagger UI").click()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("servicedesk API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/jobs/bulk")).to_be_visible()

    page.go_back()
    page.get_by_role("link", name="Redoc").click()
    expect(page.get_by_role("heading", name="servicedesk API", level=1)).to_be_visible()
    expect(page.get_by_text("/api/v1/jobs/bulk").first).to_be_attached()

    # Redoc's sidebar shows its maker's logo from their CDN: the policy refuses it, as it should (nothing is
    # fetched from outside, below), and that refusal is the one CSP message expected.
    refused = [error for error in errors if "Content Security Policy" in error and "cdn.redoc.ly" not in error]
    assert refused == []
    assert outside == []
