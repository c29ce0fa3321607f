"""Each role logs in through the real login page in Chromium and lands on its own start page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from servicedesk import roles
from tests.factories import JobFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START_PAGES = {
    # username: (role, heading of the start page, a navigation link only this kind of user sees)
    "csr": (roles.CSR, "Today", "Jobs"),
    "manager": (roles.MANAGER, "Today", "Jobs"),
    "technician": (roles.TECHNICIAN, "My day", "My schedule"),
    "sales": (roles.SALES, "Customers", "Customers"),
}


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("username", START_PAGES)
def test_each_role_logs_in_and_sees_its_start_page(page, live_server, username):
    role, heading, nav_link = START_PAGES[username]
    user = UserFactory(username=username, first_name=username.title(), last_name="Demo", role=role)
    if role == roles.TECHNICIAN:
        JobFactory(lead_technician=user, site__customer__name="Ada Lovelace")

    _log_in(page, live_server, username)

    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=nav_link)).to_be_visible()
    if role == roles.TECHNICIAN:
        expect(page.get_by_text("Ada Lovelace")).to_be_visible()


def test_wrong_password_is_refused_with_a_clear_message(page, live_server):
    UserFactory(username="csr", role=roles.CSR)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("csr")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()


def test_login_and_start_pages_have_no_accessibility_violations_and_no_csp_errors(page, live_server):
    UserFactory(username="csr", role=roles.CSR)
    JobFactory(site__customer__name="Ada Lovelace")
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    page.goto(f"{live_server.url}/accounts/login/")
    login_results = Axe().run(page)
    _log_in(page, live_server, "csr")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    home_results = Axe().run(page)

    assert login_results.violations_count == 0, login_results.generate_report()
    assert home_results.violations_count == 0, home_results.generate_report()
    assert console_errors == []
