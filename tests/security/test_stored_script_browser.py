"""Point 9 of issue 9, in the browser: script a user typed is shown as text on every page, never run.

Script and event-handler payloads are stored where users type free text (a customer's name and notes, a callback's
problem, a recommendation's text); every page that shows them is opened in Chromium, and any dialog fails the test.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from callbacks.models import Callback
from customers.models import Customer
from recommendations.models import Recommendation

from .urls import kwargs_for
from .world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
# The pages that show the payloads, and who opens them.
PAGES = {
    "manager": [
        "home", "customers:list", "customers:detail", "customers:job_list", "customers:job_detail", "callbacks:list",
        "callbacks:detail", "callbacks:calls", "callbacks:call", "recommendations:briefing", "recommendations:list",
        "recommendations:detail", "public:leave_behind", "dashboards:callbacks", "dashboards:recommendations",
        "dashboards:technicians", "dashboards:scorecard",
    ],
    "technician": ["home", "recommendations:briefing", "recommendations:mine", "callbacks:mine", "customers:detail"],
}


def test_stored_script_and_onerror_payloads_never_run_on_any_page_that_shows_them(page, live_server):
    world = build_world()
    Customer.objects.filter(pk=world.customer.pk).update(name=f"Ann {SCRIPT}", notes=f"Gate code {IMG}")
    Callback.objects.filter(pk=world.callback.pk).update(problem=f"Cold air {IMG} {SCRIPT}")
    Recommendation.objects.filter(pk=world.recommendation.pk).update(what=f"Flue {SCRIPT}", why=f"Rust {IMG}")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    for role, names in PAGES.items():
        page.context.clear_cookies()
        page.goto(f"{live_server.url}{reverse('login')}")
        page.get_by_label("Username").fill(role)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        for name in names:
            response = page.goto(f"{live_server.url}{reverse(name, kwargs=kwargs_for(world, name))}")
            assert response.ok, (role, name, response.status)
            page.wait_for_load_state("load")
            assert dialogs == [], (role, name)
        # Shown back as the text that was typed, not dropped: the escaping is what keeps it inert.
        page.goto(f"{live_server.url}{world.customer.get_absolute_url()}")
        expect(page.get_by_text(f"Gate code {IMG}")).to_be_visible()
        expect(page.get_by_role("heading", level=1)).to_contain_text(SCRIPT)

    page.goto(f"{live_server.url}{reverse('customers:list')}?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert dialogs == []
