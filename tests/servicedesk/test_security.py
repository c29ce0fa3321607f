"""The deployment gate: throttled logins, sessions that end, an admin for managers only, a strict CSP.

Login throttling is django-axes: failures are counted per username AND address, so a lock-out stops the
guesser's pair only, and a manager can lift it early.
"""

import logging
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from servicedesk import roles
from servicedesk.admin_site import ManagerAdminSite
from servicedesk.lockouts import client_ip_address
from tests.factories import UserFactory
from tests.servicedesk.test_settings import ROOT, base_environment, load_settings, production_values, settings_error

OFFICE_ADDRESS = "203.0.113.10"
HOME_ADDRESS = "198.51.100.7"


def attempt_login(username, password, address, client=None):
    """One POST to the login page from `address`, as a browser of its own unless a client is given."""
    client = client or Client()
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def lock_out(username, address, settings):
    responses = [attempt_login(username, "not the password", address) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert responses[-1].status_code == 429
    return responses


def logged_in(response):
    return response.status_code == 302 and response.url == reverse("home")


# --- Login throttling ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_failures_below_the_limit_show_the_usual_form_error_and_the_limit_locks_the_pair_out(csr, settings):
    responses = lock_out("csr", OFFICE_ADDRESS, settings)

    for response in responses[:-1]:
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    assert settings.AXES_FAILURE_LIMIT == 5
    assert len(responses) == 5


@pytest.mark.django_db
def test_a_locked_out_pair_is_refused_even_with_the_right_password(csr, settings):
    lock_out("csr", OFFICE_ADDRESS, settings)
    client = Client()

    response = attempt_login("csr", "demo", OFFICE_ADDRESS, client)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # still sent to the login page


@pytest.mark.django_db
def test_the_same_username_from_another_address_still_logs_in(csr, settings):
    lock_out("csr", OFFICE_ADDRESS, settings)

    assert logged_in(attempt_login("csr", "demo", HOME_ADDRESS))


@pytest.mark.django_db
def test_another_username_from_the_same_address_still_logs_in(csr, technician, settings):
    lock_out("csr", OFFICE_ADDRESS, settings)

    assert logged_in(attempt_login("technician", "demo", OFFICE_ADDRESS))


@pytest.mark.django_db
def test_the_lock_out_page_says_what_happened_and_whom_to_ask_in_the_apps_look(csr, settings):
    response = lock_out("csr", OFFICE_ADDRESS, settings)[-1]
    body = response.content.decode()

    assert "Login paused after too many failed attempts" in body
    assert "Logging in as <strong>csr</strong> from this device" in body
    assert "has failed 5 times" in body and "paused for 30 minutes" in body
    assert "Ask a manager" in body and "Lock-outs" in body
    assert 'class="navbar' in body  # base.html, not a bare error text
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_lock_out_ends_when_the_cool_off_has_passed_since_the_last_failure(csr, settings):
    lock_out("csr", OFFICE_ADDRESS, settings)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert logged_in(attempt_login("csr", "demo", OFFICE_ADDRESS))


@pytest.mark.django_db
def test_a_successful_login_forgets_the_earlier_typos_of_that_pair(csr, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt_login("csr", "typo", OFFICE_ADDRESS)
    assert logged_in(attempt_login("csr", "demo", OFFICE_ADDRESS))

    assert attempt_login("csr", "typo", OFFICE_ADDRESS).status_code == 200  # a fresh count, not the fifth


@pytest.mark.django_db
def test_the_test_clients_login_without_a_request_is_not_throttled_but_still_checks_the_password(client, csr):
    assert client.login(username="csr", password="demo")
    assert not client.login(username="csr", password="wrong")


def test_behind_the_tls_proxy_the_address_is_the_last_one_the_proxy_appended(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 1  # BEHIND_TLS_PROXY's default
    factory = RequestFactory()
    # The browser may send any X-Forwarded-For; the proxy appends the address it saw.
    spoofed = factory.post("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.10", REMOTE_ADDR="10.0.0.2")
    plain = factory.post("/", HTTP_X_FORWARDED_FOR="203.0.113.10", REMOTE_ADDR="10.0.0.2")

    assert client_ip_address(spoofed) == client_ip_address(plain) == "203.0.113.10"


def test_without_a_proxy_a_forwarded_for_header_is_ignored(settings):
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().post("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="203.0.113.10")

    assert client_ip_address(request) == "203.0.113.10"


def test_limit_and_cool_off_default_to_5_and_30_minutes_and_come_from_the_environment():
    assert load_settings(["AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME"]) == {
        "AXES_FAILURE_LIMIT": 5,
        "AXES_COOLOFF_TIME": "0:30:00",
    }
    names = ["AXES_FAILURE_LIMIT", "AXES_COOLOFF_TIME"]
    assert load_settings(names, AXES_FAILURE_LIMIT="8", AXES_COOLOFF_MINUTES="90") == {
        "AXES_FAILURE_LIMIT": 8,
        "AXES_COOLOFF_TIME": "1:30:00",
    }


@pytest.mark.parametrize("name, value", [("AXES_FAILURE_LIMIT", "0"), ("AXES_COOLOFF_MINUTES", "-5")])
def test_a_limit_or_cool_off_below_one_stops_start_up(name, value):
    assert "AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1" in settings_error(**{name: value})


# --- Managers lift lock-outs ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_managers_see_every_current_lock_out_with_a_constant_number_of_queries(
    client_for, manager, csr, settings, django_assert_num_queries
):
    lock_out("csr", OFFICE_ADDRESS, settings)
    attempt_login("technician", "typo", OFFICE_ADDRESS)  # one failure is not a lock-out
    client = client_for(manager)
    client.get(reverse("lockouts"))  # warm the session

    # session, user, roles, the unread-notifications badge, the lock-outs
    with django_assert_num_queries(5):
        body = client.get(reverse("lockouts")).content.decode()
    for number in range(3):
        lock_out(f"guess{number}", HOME_ADDRESS, settings)
    with django_assert_num_queries(5):
        many = client.get(reverse("lockouts")).content.decode()

    assert "csr" in body and OFFICE_ADDRESS in body
    assert "technician" not in body.split("<tbody>")[1]
    assert all(f"Unlock guess{number}" in many for number in range(3))


@pytest.mark.django_db
def test_an_expired_lock_out_is_not_listed(client_for, manager, settings):
    lock_out("csr", OFFICE_ADDRESS, settings)
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert "No one is locked out" in client_for(manager).get(reverse("lockouts")).content.decode()


@pytest.mark.django_db
def test_a_manager_unlocks_one_pair_and_the_unlock_is_recorded_with_who_and_when(
    client_for, manager, csr, settings, caplog
):
    lock_out("csr", OFFICE_ADDRESS, settings)
    lock_out("csr", HOME_ADDRESS, settings)

    with caplog.at_level(logging.WARNING, logger="servicedesk.lockouts"):
        response = client_for(manager).post(
            reverse("lockout_unlock"), {"username": "csr", "ip_address": OFFICE_ADDRESS}, follow=True
        )

    assert f"csr can log in again from {OFFICE_ADDRESS}" in response.content.decode()
    (record,) = [r for r in caplog.records if r.name == "servicedesk.lockouts"]
    assert "Lock-out lifted" in record.message and "'csr'" in record.message and OFFICE_ADDRESS in record.message
    assert f"by manager (user id {manager.pk}) at {timezone.now().date().isoformat()}" in record.message
    assert logged_in(attempt_login("csr", "demo", OFFICE_ADDRESS))
    assert attempt_login("csr", "demo", HOME_ADDRESS).status_code == 429  # only the pair the manager chose


@pytest.mark.django_db
def test_unlocking_a_pair_that_is_no_longer_locked_out_says_so(client_for, manager):
    response = client_for(manager).post(
        reverse("lockout_unlock"), {"username": "csr", "ip_address": OFFICE_ADDRESS}, follow=True
    )

    assert "csr was no longer locked out" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{}, {"username": "csr", "ip_address": "not an address"}, {"username": "x" * 300}])
def test_bad_unlock_input_gets_a_clear_message_and_changes_nothing(client_for, manager, csr, settings, data):
    lock_out("csr", OFFICE_ADDRESS, settings)

    response = client_for(manager).post(reverse("lockout_unlock"), data, follow=True)

    assert response.status_code == 200
    assert "That lock-out could not be found" in response.content.decode()
    assert AccessAttempt.objects.filter(username="csr").exists()


@pytest.mark.django_db
def test_unlock_accepts_only_post(client_for, manager):
    assert client_for(manager).get(reverse("lockout_unlock")).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("user_fixture", ["csr", "technician", "sales", "outsider"])
def test_only_managers_may_see_or_lift_lock_outs(request, client_for, settings, user_fixture):
    user = request.getfixturevalue(user_fixture)
    UserFactory(username="victim", role=roles.CSR)
    lock_out("victim", OFFICE_ADDRESS, settings)
    client = client_for(user)

    assert client.get(reverse("lockouts")).status_code == 403
    unlock = {"username": "victim", "ip_address": OFFICE_ADDRESS}
    assert client.post(reverse("lockout_unlock"), unlock).status_code == 403
    assert AccessAttempt.objects.filter(username="victim").exists()
    assert reverse("lockouts") not in client.get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("lockouts"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_the_managers_user_menu_links_to_the_lock_outs(client_for, manager):
    assert f'href="{reverse("lockouts")}"' in client_for(manager).get(reverse("home")).content.decode()


# --- Sessions end -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deactivated_users_session_stops_working_on_the_next_request(csr):
    client = Client()
    assert logged_in(attempt_login("csr", "demo", OFFICE_ADDRESS, client))
    assert client.get(reverse("home")).status_code == 200

    csr.is_active = False
    csr.save(update_fields=["is_active"])

    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not logged_in(attempt_login("csr", "demo", OFFICE_ADDRESS))


@pytest.mark.django_db
def test_logout_ends_the_session_on_the_server_not_only_in_the_browser(client_for, csr):
    client = client_for(csr)
    stolen_cookie = client.cookies["sessionid"].value

    client.post(reverse("logout"))

    replay = Client()
    replay.cookies["sessionid"] = stolen_cookie
    response = replay.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- The admin is for managers --------------------------------------------------------------------------------


def test_every_model_admin_is_registered_on_the_managers_only_site():
    assert isinstance(admin.site, ManagerAdminSite)
    assert admin.site._registry  # the apps' @admin.register calls landed on it


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.CSR, roles.TECHNICIAN, roles.SALES, None])
def test_a_staff_user_without_the_manager_role_cannot_use_the_admin(role):
    user = UserFactory(username="staffer", role=role, is_staff=True)
    client = Client()
    client.force_login(user)

    for url in (reverse("admin:index"), reverse("admin:auth_user_changelist"), reverse("admin:auth_user_add")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login")), url
    assert client.post(reverse("admin:auth_user_add"), {"username": "sneaky"}).status_code == 302
    assert not type(user).objects.filter(username="sneaky").exists()
    assert f'href="{reverse("admin:index")}"' not in client.get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
def test_a_staff_manager_uses_the_admin_and_a_manager_without_staff_does_not(manager):
    client = Client()
    client.force_login(manager)
    assert client.get(reverse("admin:index")).status_code == 302

    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    assert client.get(reverse("admin:index")).status_code == 200
    assert f'href="{reverse("admin:index")}"' in client.get(reverse("home")).content.decode()


# --- Strict CSP -------------------------------------------------------------------------------------------------

TEMPLATES = ROOT / "templates"
# What a strict CSP (script-src 'self' 'nonce-…', style-src 'self') would block in the browser, or what
# would need 'unsafe-inline' / 'unsafe-eval' to work: each a (pattern, reason).
CSP_VIOLATIONS = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\bnonce=\"\{\{ request\.csp_nonce \}\}\")[^>]*>", re.I),
     "inline <script> without the request's nonce"),
    (re.compile(r"<style\b", re.I), "inline <style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event-handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on attribute (evaluated with eval)"),
    (re.compile(r"hx-vals\s*=\s*['\"]\s*js:", re.I), "hx-vals with js: (evaluated with eval)"),
]


def csp_violations(text):
    return [reason for pattern, reason in CSP_VIOLATIONS if pattern.search(text)]


@pytest.mark.parametrize(
    "snippet, reason",
    [
        ("<script>alert(1)</script>", "inline <script> without the request's nonce"),
        ('<script type="module">go()</script>', "inline <script> without the request's nonce"),
        ('<script nonce="abc">go()</script>', "inline <script> without the request's nonce"),
        ("<style>p { color: red }</style>", "inline <style> element"),
        ('<button onclick="go()">', "on…= event-handler attribute"),
        ("<img src=x onerror=go()>", "on…= event-handler attribute"),
        ('<div style="display:none">', "style= attribute"),
        ('<a href="javascript:go()">', "javascript: URL"),
        ('<button hx-on:click="go()">', "hx-on attribute (evaluated with eval)"),
        ("<div hx-vals='js:{a: go()}'>", "hx-vals with js: (evaluated with eval)"),
    ],
)
def test_the_csp_guard_catches_each_kind_of_inline_code(snippet, reason):
    assert csp_violations(snippet) == [reason]


def test_the_csp_guard_allows_static_and_nonced_scripts():
    allowed = (
        "<script src=\"{% static 'js/app.js' %}\"></script>"
        '<script nonce="{{ request.csp_nonce }}" type="application/json">{}</script>'
        '<div class="visually-hidden" hx-get="/x/" hx-trigger="load">Once upon a time</div>'
    )
    assert csp_violations(allowed) == []


def test_no_template_needs_unsafe_inline():
    files = sorted(TEMPLATES.rglob("*.html"))
    assert len(files) > 10

    found = {str(path.relative_to(ROOT)): csp_violations(path.read_text()) for path in files}

    assert {path: reasons for path, reasons in found.items() if reasons} == {}


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client, client_for, manager, settings):
    pages = [client.get(reverse("login")), lock_out("csr", OFFICE_ADDRESS, settings)[-1]]
    staff = client_for(manager)
    pages += [staff.get(reverse(name)) for name in ("home", "customers:list", "lockouts")]

    for response in pages:
        assert response.status_code in (200, 429)
        policy = dict(
            directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";")
        )
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "unsafe-eval" not in response["Content-Security-Policy"]
        assert policy["default-src"] == "'self'"
        # A nonce is added only on pages whose template asked for one.
        assert re.fullmatch(r"'self'( 'nonce-[\w+/=-]+')?", policy["script-src"]), policy["script-src"]
        assert policy["style-src"] == "'self'"
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"


# --- check --deploy ----------------------------------------------------------------------------------------------


def test_check_deploy_passes_at_warning_level_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=base_environment(**production_values(BEHIND_TLS_PROXY="true")),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


# --- In the browser ------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_locked_out_user_reads_why_and_a_manager_unlocks_them_from_the_user_menu(
    page, live_server, settings
):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    UserFactory(username="csr", role=roles.CSR)
    UserFactory(username="manager", first_name="Morgan", last_name="Hale", role=roles.MANAGER)
    console_errors = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append((response.status, response.url)))

    def log_in(username, password):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in("csr", "not the password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Login paused after too many failed attempts")
    expect(page.get_by_text("Ask a manager")).to_be_visible()
    locked_out_results = Axe().run(page)

    log_in("manager", "demo")  # same address, another username
    page.get_by_role("button", name="Morgan Hale").click()
    page.get_by_role("link", name="Lock-outs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lock-outs")
    lockouts_results = Axe().run(page)
    page.get_by_role("button", name="Unlock csr").click()

    expect(page.get_by_text("csr can log in again from 127.0.0.1")).to_be_visible()
    expect(page.get_by_text("No one is locked out")).to_be_visible()
    assert locked_out_results.violations_count == 0, locked_out_results.generate_report()
    assert lockouts_results.violations_count == 0, lockouts_results.generate_report()
    # The lock-out itself answers 429; Chromium may also ask for a /favicon.ico the app does not have.
    expected = [(429, f"{live_server.url}/accounts/login/")]
    assert [(status, url) for status, url in failed if not url.endswith("/favicon.ico")] == expected
    # Failed loads are checked above; what is left would be a CSP violation ("Refused to ...") or a script error.
    assert [error for error in console_errors if not error.startswith("Failed to load resource")] == []
