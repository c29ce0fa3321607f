"""A manager maps the columns of a report with unfamiliar headers, saves the mapping and imports; next week's file
with the same headers is mapped by itself."""

import os
import re

import pytest
from playwright.sync_api import expect

from customers.models import Job
from servicedesk import roles
from tests.factories import TechnicianFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "Ticket;Homeowner;Cell #;Property;Town;Visit on;Crew lead\n"
WEEK_ONE = HEADER + ("T-1;Renée Dupré;217 555 0101;123 N. Main St.;Springfield;05/03/2025 08:00;tom\n"
                     "T-2;Jürgen Müller;217 555 0102;400 Oak Ave;Springfield;18/03/2025 13:00;tom\n")
WEEK_TWO = HEADER + "T-3;Renée Dupré;(217) 555-0101;123 North Main Street;Springfield;25/03/2025 09:00;tom\n"
MAPPING = {"Ticket": "Job number", "Homeowner": "Customer name", "Cell #": "Phone", "Property": "Street (required)",
           "Town": "City (required)", "Visit on": "Scheduled start (required)", "Crew lead": "Technician"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_columns_mapped_once_are_mapped_by_themselves_next_time(page, live_server, tmp_path):
    UserFactory(username="morgan", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    TechnicianFactory(username="tom", first_name="Tom", last_name="Alvarez")
    (tmp_path / "week1.csv").write_bytes(WEEK_ONE.encode("cp1252"))
    (tmp_path / "week2.csv").write_bytes(WEEK_TWO.encode("cp1252"))
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("morgan")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("button", name=re.compile("Morgan Hale")).click()
    page.get_by_role("link", name="Import a jobs report").click()
    page.get_by_label("Jobs report").set_input_files(tmp_path / "week1.csv")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("Read as: Latin-1, semicolons")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Homeowner"))).to_contain_text("Renée Dupré · Jürgen Müller")
    for header, field in MAPPING.items():
        page.get_by_label(f"Field given by {header}", exact=True).select_option(label=field)
    page.get_by_label("Save this mapping as").fill("Our dispatch report")
    if os.environ.get("SCREENSHOTS_DIR"):  # the README's picture of this page
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS_DIR"], "report-mapping.png"), full_page=True)
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_text("saved as 'Our dispatch report'")).to_be_visible()
    expect(page.get_by_text("Read as: Latin-1, semicolons, day-first dates")).to_be_visible()
    expect(page.get_by_role("row", name="Jobs 2 0 0")).to_be_visible()
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_text("Imported week1.csv")).to_be_visible()
    assert Job.objects.count() == 2

    page.get_by_role("link", name="Jobs report imports").click()
    page.get_by_label("Jobs report").set_input_files(tmp_path / "week2.csv")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("columns mapped by “Our dispatch report”")).to_be_visible()
    expect(page.get_by_role("row", name="Customers 0 1 0")).to_be_visible()  # new, matched, changed
    expect(page.get_by_role("row", name="Sites 0 1 0")).to_be_visible()
    page.get_by_role("button", name="Import 1 row").click()
    expect(page.get_by_text("Imported week2.csv")).to_be_visible()
    assert Job.objects.count() == 3
    assert Job.objects.get(external_id="T-3").site == Job.objects.get(external_id="T-1").site
    assert problems == []
