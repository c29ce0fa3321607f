import pytest
from django.core.cache import cache
from django.test import Client

from servicedesk.integrations.models import ApiToken, Integration
from servicedesk.integrations.services import api_token_issue


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    # The throttle counts in the default cache, which outlives a test (per-process memory in the suite).
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def integration(manager):
    return Integration.objects.create(name="Dispatch", kind=Integration.Kind.GENERIC, created_by=manager)


@pytest.fixture
def issue(manager, integration):
    """issue(scope) -> the token's secret, issued to `integration` (or another) by the manager."""

    def make(scope=ApiToken.Scope.READ_WRITE, to=None):
        _, secret = api_token_issue(integration=to or integration, label="sync", scope=scope, by=manager)
        return secret

    return make


@pytest.fixture
def api(issue):
    """api(scope) -> a test client that sends a fresh token of that scope on every request."""

    def make(scope=ApiToken.Scope.READ_WRITE, secret=None):
        return Client(HTTP_AUTHORIZATION=f"Bearer {secret or issue(scope)}")

    return make
