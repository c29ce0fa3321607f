"""The logs keep no customer's signed link and no customer's words, and a refused request is one line."""

import logging
from datetime import timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from gunicorn.config import Config

from servicedesk import tokens
from servicedesk.access_log import AccessLog
from tests.callbacks.factories import CompletedJobFactory

CUSTOMER_WORDS = "My neighbour Dave Smith at 12 Elm St says the boiler smells of gas"


def formatted(records):
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return [formatter.format(record) for record in records]


@pytest.mark.django_db
def test_a_refused_page_is_logged_as_one_line_without_a_traceback(client_for, csr, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client_for(csr).get(reverse("lockouts"))

    assert response.status_code == 403
    (line,) = formatted(r for r in caplog.records if r.name == "django.request")
    assert line == "WARNING django.request Forbidden (Permission denied): /lockouts/"


@pytest.mark.django_db
def test_a_server_error_on_the_feedback_page_logs_neither_the_link_nor_the_customers_words(caplog):
    job = CompletedJobFactory()
    token = tokens.make_feedback_token(job)
    failure = ValueError(f"Header values can't contain newlines (got {CUSTOMER_WORDS!r})")

    with (
        mock.patch("servicedesk.public.views.feedback_submit", side_effect=failure),
        caplog.at_level(logging.ERROR, logger="django.request"),
    ):
        response = Client(raise_request_exception=False).post(
            reverse("public:feedback", args=[token]), {"kind": "complaint", "text": CUSTOMER_WORDS, "rating": "1"}
        )

    assert response.status_code == 500
    (text,) = formatted(r for r in caplog.records if r.name == "django.request")
    assert text.startswith("ERROR django.request Internal Server Error: /feedback/<token>/\nTraceback")
    assert "builtins.ValueError: (message withheld from the log)" in text
    assert "servicedesk/public/views.py" in text  # where it failed is still there
    assert token not in text and token.split(":")[-1] not in text
    assert "Dave Smith" not in text and "boiler" not in text


def test_gunicorns_access_log_shows_the_page_but_not_the_link():
    token = "eyJqIjo0Mn0:1v7Xyz:3xAmPl3-s1gnaTur3_abcdefghijk"
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": f"/feedback/{token}/", "PATH_INFO": f"/feedback/{token}/",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "QUERY_STRING": "",
    }
    response = SimpleNamespace(status="302 Found", headers=[], sent=0)
    request = SimpleNamespace(headers=[("REFERER", f"https://desk.example.com/unsubscribe/{token}/")])

    atoms = AccessLog(Config()).atoms(response, request, environ, timedelta(milliseconds=12))

    assert atoms["r"] == "POST /feedback/<token>/ HTTP/1.1"
    assert atoms["U"] == "/feedback/<token>/"
    assert atoms["{referer}i"] == "https://desk.example.com/unsubscribe/<token>/"
    assert token not in repr(atoms)
