"""Texting's fixtures: texts kept in memory (locmem://), a customer who agreed to texts, and a local counterpart of
Twilio's Messages API for the tests that send through the real twilio client."""

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from twilio.request_validator import RequestValidator

from servicedesk.texting import backends
from servicedesk.texting.consent import text_consent_set
from servicedesk.texting.models import TextConsent
from tests.factories import CustomerFactory

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio-test-auth-token"
OUR_NUMBER = "+15550104400"
MOBILE = "+13125550142"


def local(*args):
    """An aware datetime in the company's time zone."""
    return datetime(*args, tzinfo=ZoneInfo(django_settings.TIME_ZONE))


# A weekday noon: outside quiet hours.
NOON = local(2026, 3, 4, 12, 0)


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    settings.SMS_URL = "locmem://"
    backends.outbox.clear()
    yield
    backends.outbox.clear()


@pytest.fixture
def texting_customer(db):
    """A customer who agreed to texts at MOBILE, on the phone with a CSR."""
    customer = CustomerFactory(name="Dana Whitfield", phone="(312) 555-0142", phone_digits="3125550142")
    text_consent_set(customer=customer, mobile=MOBILE, granted=True, source=TextConsent.Source.PHONE, now=NOON)
    return customer


class TwilioApi:
    """Answers like Twilio's Messages API on loopback and keeps every request it was sent."""

    def __init__(self):
        self.requests = []
        self.error = None  # (HTTP status, Twilio error code, message) for the next requests
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {key: values[0] for key, values in parse_qs(body).items()}
                api.requests.append({"path": self.path, "form": form, "authorization": self.headers["Authorization"]})
                if api.error:
                    status, code, message = api.error
                    payload = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                               "status": status}
                else:
                    status = 201
                    payload = {"sid": f"SM{len(api.requests):032d}", "status": "queued", "to": form.get("To"),
                               "from": form.get("From"), "body": form.get("Body"), "account_sid": ACCOUNT_SID,
                               "num_segments": "1", "direction": "outbound-api"}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        # A short poll: shutdown() waits up to one poll for the loop to notice.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio_api(settings):
    api = TwilioApi()
    settings.SMS_URL = f"twilio://{ACCOUNT_SID}:{AUTH_TOKEN}@127.0.0.1:{api.port}/{OUR_NUMBER}"
    yield api
    api.close()


@pytest.fixture
def twilio_signed(settings, twilio_api):
    """Sign webhooks as Twilio does, with the library's RequestValidator and our auth token (texts sent meanwhile,
    a STOP's confirmation, go to the local Messages API)."""

    def sign(path, params):
        return RequestValidator(AUTH_TOKEN).compute_signature(f"{settings.SITE_URL}{path}", params)

    return sign
