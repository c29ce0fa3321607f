"""A customer's reply reaches its owner in Chromium: Twilio's signed webhook arrives, the owner sees the unread badge,
opens the conversation and answers; another CSR's count is unaffected."""


import pytest
import requests
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from servicedesk import roles
from servicedesk.texting.models import TextMessage
from tests.callbacks.factories import CallbackFactory
from tests.factories import UserFactory

from .conftest import AUTH_TOKEN, MOBILE, OUR_NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def _text_arrives(live_server, body, *, sid, phone):
    """Twilio's webhook, signed with our auth token by the library's validator, as Twilio would post it."""
    params = {"MessageSid": sid, "From": phone, "To": OUR_NUMBER, "Body": body}
    url = f"{live_server.url}/hooks/sms/twilio/"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
    assert response.status_code == 200


def _badge(page):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name="Texts")


def test_the_owner_sees_the_reply_unread_opens_it_and_answers(new_context, live_server, settings, twilio_api,
                                                              texting_customer):
    settings.SITE_URL = live_server.url
    settings.TEXT_QUIET_HOURS = "00:00-00:00"  # none: the answer goes whatever the hour the test runs
    carla = UserFactory(username="carla", first_name="Carla", last_name="Reyes", role=roles.CSR)
    UserFactory(username="ben", first_name="Ben", last_name="Ito", role=roles.CSR)
    CallbackFactory(job__site__customer=texting_customer, job__equipment__site__customer=texting_customer,
                    assigned_to=carla, logged_by=carla)
    _text_arrives(live_server, "Is the technician still coming at 2?", sid="SMin" + "1" * 30, phone=MOBILE)
    # A text from a number nobody has: the office queue, unread for both CSRs.
    _text_arrives(live_server, "Do you service boilers?", sid="SMin" + "2" * 30, phone="+16305550100")
    problems, pages = [], {}
    for username in ("carla", "ben"):
        page = new_context().new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        _log_in(page, live_server, username)
        pages[username] = page
    carla_page, ben_page = pages["carla"], pages["ben"]

    expect(_badge(carla_page)).to_have_text("Texts 2 unread")
    expect(_badge(ben_page)).to_have_text("Texts 1 unread")

    _badge(carla_page).click()
    carla_page.get_by_role("link", name="Dana Whitfield").click()
    expect(carla_page.get_by_text("Is the technician still coming at 2?")).to_be_visible()
    carla_page.get_by_role("textbox", name="Text").fill("Yes, Tom is 10 minutes away.")
    carla_page.get_by_role("button", name="Send").click()

    expect(carla_page.get_by_text("Text sent.")).to_be_visible()
    expect(_badge(carla_page)).to_have_text("Texts 1 unread")
    ben_page.reload()
    expect(_badge(ben_page)).to_have_text("Texts 1 unread")
    [request] = twilio_api.requests
    assert request["form"]["To"] == MOBILE and request["form"]["Body"] == "Yes, Tom is 10 minutes away."
    answer = TextMessage.objects.get(direction="out")
    assert answer.sent_by == carla and answer.conversation.awaiting_since is None
    assert problems == []
