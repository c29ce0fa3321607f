"""A manager opens the dashboards in Chromium: the charts are drawn, the range changes, a CSV downloads; the
pages pass axe and break no CSP rule. A technician is refused the team dashboards."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from servicedesk import roles
from tests.factories import UserFactory
from tests.recommendations.factories import RecommendationFactory

from .data import RootCause, callback, completed_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _charts_drawn(page, count):
    drawn = page.locator("canvas[data-drawn]")
    expect(drawn).to_have_count(count)


def test_manager_sees_callback_charts_changes_the_range_and_downloads_a_csv(page, live_server, alice, bob):
    UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    callback(completed_job(alice, days_ago=20), root_cause=RootCause.WORKMANSHIP)
    callback(completed_job(bob, days_ago=200))
    completed_job(bob, days_ago=10)
    RecommendationFactory(raised_by=alice)
    errors = []
    # The site has no favicon yet (base.html); that 404 is not the dashboards'.
    page.on("console", lambda message: message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico") and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    _log_in(page, live_server, "manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Callback dashboard")
    expect(page.locator("#headline-rate")).to_have_text("66.7%")
    charts = page.locator("canvas[data-chart]").count()
    assert charts >= 7
    _charts_drawn(page, charts)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    start = (timezone.localdate() - timedelta(days=60)).isoformat()
    page.get_by_label("From").fill(start)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/dashboards/callbacks/?start={start}&end="
                             f"{timezone.localdate().isoformat()}&technician=&kind=&site_type=")
    expect(page.locator("#headline-rate")).to_have_text("50.0%")
    _charts_drawn(page, page.locator("canvas[data-chart]").count())

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of Callback rate by technician (caused by)").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0] == "Technician,Completed jobs,Jobs that came back,Callback rate,Team rate"
    assert "Alice Ames,1,1,100.0,50.0" in text

    page.get_by_role("link", name="Recommendations", exact=True).last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recommendation dashboard")
    _charts_drawn(page, page.locator("canvas[data-chart]").count())
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    page.get_by_role("navigation", name="Dashboards").get_by_role("link", name="Follow-up calls").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up dashboard")
    _charts_drawn(page, page.locator("canvas[data-chart]").count())
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    assert errors == []


def test_technician_is_refused_the_team_dashboards_but_sees_their_scorecard(page, live_server, alice):
    callback(completed_job(alice, days_ago=20), root_cause=RootCause.WORKMANSHIP)
    _log_in(page, live_server, "alice")

    response = page.goto(f"{live_server.url}/dashboards/callbacks/")
    assert response.status == 403

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="My scorecard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My scorecard")
    _charts_drawn(page, page.locator("canvas[data-chart]").count())
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
