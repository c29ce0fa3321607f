"""Where texts go, chosen by SMS_URL as Django's e-mail backends are by EMAIL_URL: `console://` prints them
(`make run`), `locmem://` keeps them in `outbox` (tests), `twilio://ACCOUNT_SID:AUTH_TOKEN@/+15550104400` sends
through Twilio from that number. A host in the Twilio URL (`twilio://SID:TOKEN@127.0.0.1:8025/+1...`) is where the
API is reached instead of Twilio's own: a test's local counterpart, or an egress proxy.

One class per channel, in the shape of healthchecks' transports: `send()` returns the provider's id and status, or
raises SendError, permanent when a retry cannot help (an invalid number, an unsubscribed one)."""

import sys
from itertools import count
from urllib.parse import unquote, urlsplit

from django.conf import settings

# Messages sent with locmem://, as django.core.mail.outbox: [(to, body)].
outbox = []
_ids = count(1)

# Twilio's errors that no retry fixes: invalid 'To' number, not a mobile number, unsubscribed (the customer texted
# STOP to our number), carrier blocked, unreachable, message body invalid.
PERMANENT_ERRORS = {"21211", "21214", "21408", "21610", "21612", "21614", "30003", "30004", "30005", "30006",
                    "30007", "21617"}
UNSUBSCRIBED = "21610"


class SendError(Exception):
    def __init__(self, message, *, code="", permanent=False):
        super().__init__(message)
        self.code = str(code or "")
        self.permanent = permanent or self.code in PERMANENT_ERRORS


class ConsoleBackend:
    sender = "console"

    def send(self, *, to, body, status_callback=""):
        sid = f"SMconsole{next(_ids)}"
        sys.stdout.write(f"--- text to {to} ({sid}) ---\n{body}\n---\n")
        sys.stdout.flush()
        return sid, "sent"

    def validate(self, url, params, signature):
        return False


class LocMemBackend(ConsoleBackend):
    sender = "locmem"

    def send(self, *, to, body, status_callback=""):
        outbox.append((to, body))
        return f"SMlocmem{next(_ids)}", "queued"


class TwilioBackend:
    def __init__(self, *, account_sid, auth_token, sender, api_base=""):
        self.account_sid, self.auth_token, self.sender, self.api_base = account_sid, auth_token, sender, api_base

    def client(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        api_base = self.api_base

        class Routed(TwilioHttpClient):
            def request(self, method, uri, *args, **kwargs):
                if api_base:
                    uri = uri.replace("https://api.twilio.com", api_base, 1)
                return super().request(method, uri, *args, **kwargs)

        return Client(self.account_sid, self.auth_token, http_client=Routed(timeout=10))

    def send(self, *, to, body, status_callback=""):
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client().messages.create(
                to=to, from_=self.sender, body=body, **({"status_callback": status_callback} if status_callback else {})
            )
        except TwilioRestException as error:
            raise SendError(error.msg, code=error.code or "", permanent=400 <= error.status < 500 and
                            error.status != 429) from error
        except (TwilioException, OSError) as error:
            raise SendError(str(error)) from error
        return message.sid, message.status or "queued"

    def validate(self, url, params, signature):
        from twilio.request_validator import RequestValidator

        return bool(signature) and RequestValidator(self.auth_token).validate(url, params, signature)


def backend():
    url = settings.SMS_URL
    scheme = url.split("://", 1)[0]
    if scheme == "console":
        return ConsoleBackend()
    if scheme == "locmem":
        return LocMemBackend()
    parts = urlsplit(url)
    api_base = f"http://{parts.hostname}:{parts.port}" if parts.hostname and parts.port else (
        f"https://{parts.hostname}" if parts.hostname else "")
    return TwilioBackend(account_sid=unquote(parts.username or ""), auth_token=unquote(parts.password or ""),
                         sender=unquote(parts.path.lstrip("/")), api_base=api_base)
