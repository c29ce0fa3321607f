"""Checking a delivery's signature on its raw body, per kind of integration, before anything else is done with it.

- Generic and ServiceTitan: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), checked by
  the `standardwebhooks` library. ServiceTitan's own signature header could not be confirmed from its public
  documentation, so its deliveries follow the generic scheme (README, "Integrations").
- Housecall Pro: `Api-Timestamp` and `Api-Signature`, the hex HMAC-SHA256 of "<timestamp>.<body>" under the
  signing secret Housecall Pro shows.

Every scheme refuses a timestamp more than five minutes away from now (a replayed delivery).
"""

import base64
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

import standardwebhooks

from servicedesk.integrations.models import Integration

TOLERANCE_SECONDS = 5 * 60
# The headers kept with a stored event: the ones a signature is checked with.
KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "api-timestamp", "api-signature")


class BadSignature(Exception):
    pass


def new_secret(kind):
    """A fresh secret for an integration of `kind` (Housecall Pro issues its own; this is for the others)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_problem(kind, secret):
    """Why `secret` cannot sign `kind`'s webhooks, or "" when it can."""
    if not 8 <= len(secret) <= 200 or not secret.isprintable() or any(char.isspace() for char in secret):
        return "A webhook secret is 8 to 200 characters, without spaces."
    if kind == Integration.Kind.HOUSECALL_PRO:
        return ""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if len(key) < 16:
        return ("Paste a Standard Webhooks secret (whsec_ and at least 16 bytes in base64), or leave it empty for a "
                "new one.")
    return ""


def _standard(secret, body, headers):
    try:
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
    except standardwebhooks.WebhookVerificationError as exc:
        raise BadSignature(str(exc)) from None
    except (ValueError, TypeError, standardwebhooks.webhooks.EmptyWebhookSecretError):
        raise BadSignature("The integration's webhook secret is not a Standard Webhooks secret.") from None


def _housecall_pro(secret, body, headers):
    timestamp, signature = headers.get("api-timestamp", ""), headers.get("api-signature", "")
    if not timestamp or not signature:
        raise BadSignature("Missing Api-Timestamp or Api-Signature.")
    try:
        moment = float(timestamp)
    except ValueError:
        raise BadSignature("Api-Timestamp is not a Unix time.") from None
    if moment > 1e11:  # milliseconds
        moment /= 1000
    if abs(time.time() - moment) > TOLERANCE_SECONDS:
        raise BadSignature("Api-Timestamp is more than five minutes away.")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise BadSignature("No matching signature.")


def housecall_pro_sign(secret, body, timestamp=None):
    """The headers Housecall Pro would send with `body` (the demo's sender and the tests sign with it)."""
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Api-Timestamp": timestamp, "Api-Signature": signature}


def sign(*, kind, secret, body, event_id, now=None):
    """The headers a sender of `kind` puts on `body` (the demo's sender; tests sign with the vendors' own tools)."""
    now = now if now is not None else time.time()
    if kind == Integration.Kind.HOUSECALL_PRO:
        return housecall_pro_sign(secret, body, now)
    moment = datetime.fromtimestamp(now, tz=UTC)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(now)),
            "webhook-signature": standardwebhooks.Webhook(secret).sign(event_id, moment, body)}


_CHECKS = {
    Integration.Kind.GENERIC: _standard,
    Integration.Kind.SERVICETITAN: _standard,
    Integration.Kind.HOUSECALL_PRO: _housecall_pro,
}


def verify(*, kind, secret, body, headers):
    """Raises BadSignature unless `body` is signed with `secret` under `kind`'s scheme within the replay window.
    `headers` are the request's, by lower-case name."""
    _CHECKS[kind](secret, body, headers)


def kept_headers(headers):
    return {name: headers[name] for name in KEPT_HEADERS if name in headers}
