"""Issue 19, point 2: integrations are managed by managers on their own pages; their API tokens are shown once,
stored hashed, scoped, revocable, and say when and from where they were last used; a token is rate-limited."""

import pytest
from django.test import Client
from django.urls import reverse

from servicedesk.integrations.models import ApiToken, Integration

pytestmark = pytest.mark.django_db

ROOT = "/api/v1/"


def test_a_manager_adds_an_integration_and_its_token_is_shown_once_and_stored_hashed(client_for, manager):
    client = client_for(manager)
    response = client.post(reverse("integrations:list"), {"name": "Housecall Pro", "kind": "housecall_pro"})
    integration = Integration.objects.get()
    assert response.status_code == 302 and response["Location"] == integration.get_absolute_url()
    assert integration.kind == Integration.Kind.HOUSECALL_PRO and integration.created_by == manager

    response = client.post(reverse("integrations:token_issue", args=[integration.pk]),
                           {"label": "nightly sync", "scope": "read_write"}, follow=True)
    token = ApiToken.objects.get()
    assert response.redirect_chain == [(integration.get_absolute_url(), 302)]  # a reload issues no second token
    secret = response.context["issued"]["secret"]
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert token.digest == ApiToken.digest_of(secret) and secret not in (token.digest, token.prefix)
    assert secret.startswith(token.prefix) and token.scope == ApiToken.Scope.READ_WRITE

    page = client.get(integration.get_absolute_url()).content.decode()
    assert secret not in page and token.prefix in page


def test_the_menu_links_managers_to_integrations(client_for, manager, csr):
    assert reverse("integrations:list") in client_for(manager).get(reverse("home")).content.decode()
    assert reverse("integrations:list") not in client_for(csr).get(reverse("home")).content.decode()


@pytest.mark.parametrize("role", ["csr", "technician", "sales", "outsider"])
def test_only_managers_open_the_integration_pages(request, client_for, role, integration):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("integrations:list")).status_code == 403
    assert client.get(integration.get_absolute_url()).status_code == 403
    response = client.post(reverse("integrations:token_issue", args=[integration.pk]),
                           {"label": "x", "scope": "read_write"})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_reads_the_api_and_its_use_is_recorded_with_the_address(api, integration):
    response = api(ApiToken.Scope.READ).get(ROOT, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert response.json()["integration"] == integration.name
    token = ApiToken.objects.get()
    assert token.last_used_at is not None and token.last_used_from == "203.0.113.9"


@pytest.mark.parametrize("header", ["Bearer sd_not-a-token", "Token sd_not-a-token", "Bearer", "Bearer a b"])
def test_an_unknown_or_malformed_token_is_refused_with_401(client, header, integration):
    response = client.get(ROOT, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_token_and_no_session_is_401_not_the_login_page(client):
    assert client.get(ROOT).status_code == 401


def test_a_revoked_token_is_refused_at_once(client_for, manager, issue, integration):
    secret = issue()
    token = ApiToken.objects.get()
    client = client_for(manager)
    response = client.post(reverse("integrations:token_revoke", args=[integration.pk, token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == manager
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(ROOT).status_code == 401


def test_a_token_is_revoked_only_through_its_own_integration(client_for, manager, issue, integration):
    other = Integration.objects.create(name="Other", created_by=manager)
    issue()
    token = ApiToken.objects.get()
    response = client_for(manager).post(reverse("integrations:token_revoke", args=[other.pk, token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("csr", 403), ("technician", 403),
                                               ("sales", 403), ("outsider", 403)])
def test_the_browsable_api_opens_to_a_managers_session_only(request, client_for, role, status):
    response = client_for(request.getfixturevalue(role)).get(ROOT, HTTP_ACCEPT="text/html")
    assert response.status_code == status


def test_a_token_over_its_rate_gets_429_with_retry_after_and_other_tokens_go_on(settings, api):
    settings.API_TOKEN_RATE = "3/minute"
    busy, quiet = api(), api()
    assert [busy.get(ROOT).status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get(ROOT)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert quiet.get(ROOT).status_code == 200
