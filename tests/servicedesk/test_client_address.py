"""The client's address, which login lock-outs and the public pages' limits count by, cannot be forged.

Every proxy in front of the app adds the address it saw to X-Forwarded-For; with TRUSTED_PROXY_COUNT proxies the
client is that many entries from the right, and whatever the browser wrote further left is ignored.
"""

import pytest
from axes.helpers import get_client_ip_address
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from customers.models import Feedback
from servicedesk import tokens
from servicedesk.lockouts import client_ip_address
from tests.callbacks.factories import CompletedJobFactory

BALANCER = "10.0.0.9"  # the load balancer, seen by nginx
NGINX = "10.0.0.2"  # the proxy the app sees
GUESSER = "198.51.100.66"
COLLEAGUE = "203.0.113.10"


def through_two_proxies(client_address, forged=""):
    """The headers the app gets from a browser at `client_address` that sent X-Forwarded-For: `forged`."""
    chain = [entry for entry in (forged, client_address, BALANCER) if entry]
    return {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": ", ".join(chain)}


@pytest.fixture
def two_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    cache.clear()
    yield
    cache.clear()


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right_whatever_the_browser_forged(two_proxies):
    factory = RequestFactory()

    plain = factory.post("/", **through_two_proxies(COLLEAGUE))
    forged = factory.post("/", **through_two_proxies(COLLEAGUE, forged="1.2.3.4, 5.6.7.8"))

    assert client_ip_address(plain) == client_ip_address(forged) == COLLEAGUE


@pytest.mark.parametrize(
    "header", ["", "203.0.113.10", "not-an-address, 10.0.0.9", " , 10.0.0.9", "203.0.113.10; drop, 10.0.0.9"]
)
def test_a_forwarded_header_our_proxies_did_not_write_falls_back_to_the_nearest_proxy(two_proxies, header):
    request = RequestFactory().post("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=header)

    assert client_ip_address(request) == NGINX


def test_axes_counts_by_the_same_address_as_the_throttles(two_proxies):
    request = RequestFactory().post("/", **through_two_proxies(COLLEAGUE, forged="1.2.3.4"))

    assert get_client_ip_address(request) == COLLEAGUE


@pytest.mark.django_db
def test_a_guesser_rotating_forged_addresses_is_locked_out_and_a_colleague_elsewhere_is_not(two_proxies, csr, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        response = Client().post(
            reverse("login"),
            {"username": "csr", "password": "wrong"},
            **through_two_proxies(GUESSER, forged=f"192.0.2.{number}"),
        )
    assert response.status_code == 429

    right_password = {"username": "csr", "password": "demo"}
    forged = Client().post(reverse("login"), right_password, **through_two_proxies(GUESSER, forged="192.0.2.200"))
    colleague = Client().post(reverse("login"), right_password, **through_two_proxies(COLLEAGUE))

    assert forged.status_code == 429
    assert colleague.status_code == 302 and colleague.url == reverse("home")


@pytest.mark.django_db
def test_forged_addresses_do_not_stretch_the_public_pages_per_address_limit(two_proxies, settings):
    settings.FEEDBACK_PER_ADDRESS_PER_HOUR = 3
    jobs = CompletedJobFactory.create_batch(4)
    statuses = []
    for number, job in enumerate(jobs):
        response = Client().post(
            reverse("public:feedback", args=[tokens.make_feedback_token(job)]),
            {"kind": "praise", "text": "Thanks!", "rating": "5"},
            **through_two_proxies(GUESSER, forged=f"192.0.2.{number}"),
        )
        statuses.append(response.status_code)

    assert statuses == [302, 302, 302, 429]
    assert Feedback.objects.count() == 3
