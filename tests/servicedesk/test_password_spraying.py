"""One address trying many usernames is paused as a whole, and the password change's old-password check is throttled.

Lock-outs per username and address (test_security.py) don't stop a sprayer who tries few passwords on each of many
accounts; LOGIN_FAILURES_PER_ADDRESS counts every failure from one address, whatever the username.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from servicedesk import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SPRAYER = "198.51.100.66"
OFFICE = "203.0.113.10"


def attempt_login(username, password, address):
    return Client().post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def spray(usernames, tries_each, address=SPRAYER):
    return [attempt_login(name, f"guess{n}", address) for name in usernames for n in range(tries_each)]


def test_one_address_trying_many_usernames_is_paused_before_it_has_tried_them_all(settings):
    usernames = [UserFactory(username=f"staff{n}", role=roles.CSR).username for n in range(25)]

    responses = spray(usernames, 4)  # 4 a username: below the per-pair limit of 5

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == settings.LOGIN_FAILURES_PER_ADDRESS - 1
    assert statuses[settings.LOGIN_FAILURES_PER_ADDRESS - 1:] == [429] * (100 - settings.LOGIN_FAILURES_PER_ADDRESS + 1)
    assert "Logging in from this address has failed 20 times" in responses[-1].content.decode()
    assert attempt_login("staff24", "demo", SPRAYER).status_code == 429  # even the right password
    assert attempt_login("staff24", "demo", OFFICE).status_code == 302  # another address is not affected


def test_an_offices_ordinary_typos_across_colleagues_do_not_pause_the_office(csr, settings):
    colleagues = [UserFactory(username=f"tech{n}", role=roles.TECHNICIAN).username for n in range(6)]

    spray(colleagues, 2, address=OFFICE)  # 12 typos from one office

    response = attempt_login("csr", "demo", OFFICE)
    assert response.status_code == 302 and response.url == reverse("home")


def test_managers_see_a_paused_address_once_and_lift_it_for_every_username(client_for, manager, settings):
    usernames = [UserFactory(username=f"staff{n}", role=roles.CSR).username for n in range(5)]
    spray(usernames, 4)
    client = client_for(manager)

    body = client.get(reverse("lockouts")).content.decode()
    assert body.count(f"Unlock {SPRAYER}") == 1 and "any username" in body
    assert "staff0" not in body.split("<tbody>")[1]

    response = client.post(reverse("lockout_unlock"), {"username": "", "ip_address": SPRAYER}, follow=True)
    assert f"Anyone can log in again from {SPRAYER}" in response.content.decode()
    assert not AccessAttempt.objects.filter(ip_address=SPRAYER).exists()
    assert attempt_login("staff0", "demo", SPRAYER).status_code == 302


NEW_PASSWORD = "A-much-longer-secret-9"


def change_password(client, old_password):
    return client.post(
        reverse("password_change"),
        {"old_password": old_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=OFFICE,
    )


def test_guessing_the_current_password_on_the_password_change_form_locks_out_like_a_login(client_for, csr, settings):
    client = client_for(csr)

    responses = [change_password(client, f"guess{n}") for n in range(settings.AXES_FAILURE_LIMIT)]

    assert [response.status_code for response in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429
    assert change_password(client, "demo").status_code == 429  # the right one too, until the cool-off
    csr.refresh_from_db()
    assert csr.check_password("demo")
    assert attempt_login("csr", "demo", OFFICE).status_code == 429  # the same pair, whichever form guessed


def test_the_right_current_password_still_changes_it(client_for, csr):
    response = change_password(client_for(csr), "demo")

    assert response.status_code == 302 and response.url == reverse("password_change_done")
    csr.refresh_from_db()
    assert csr.check_password("A-much-longer-secret-9")
