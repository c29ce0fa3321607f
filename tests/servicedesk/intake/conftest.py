import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standardwebhooks

from servicedesk.integrations.intake.services import webhook_secret_set
from servicedesk.integrations.models import Integration
from tests.factories import TechnicianFactory

FIXTURES = Path(__file__).parent / "fixtures"
HOUSECALL_PRO_SECRET = "hcp-signing-secret-0123456789"


def fixtures(kind):
    """The fixture payloads of a kind of integration, by event type, in the order a day brings them."""
    return json.loads((FIXTURES / f"{kind}.json").read_text())


def signed(integration, body, *, secret=None, event_id=None, at=None):
    """The headers the dispatch system sends: Standard Webhooks' signature made by its own library, or Housecall
    Pro's HMAC of "<timestamp>.<body>" computed here from its description."""
    secret = secret or integration.webhook_secret.secret
    at = time.time() if at is None else at
    if integration.kind == Integration.Kind.HOUSECALL_PRO:
        timestamp = str(int(at))
        digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {"Api-Timestamp": timestamp, "Api-Signature": digest}
    event_id = event_id or f"msg_{uuid.uuid4().hex}"
    signature = standardwebhooks.Webhook(secret).sign(event_id, datetime.fromtimestamp(at, tz=UTC), body)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}


@pytest.fixture
def technicians(db):
    return [TechnicianFactory(username="tom", first_name="Tom", last_name="Alvarez", email="tom@example.com"),
            TechnicianFactory(username="hana", first_name="Hana", last_name="Sato", email="hana@example.com")]


@pytest.fixture
def integration_of(manager):
    def make(kind=Integration.Kind.GENERIC):
        integration = Integration.objects.create(name=f"Dispatch {kind}", kind=kind, created_by=manager)
        secret = HOUSECALL_PRO_SECRET if kind == Integration.Kind.HOUSECALL_PRO else ""
        webhook_secret_set(integration=integration, by=manager, secret=secret)
        integration.refresh_from_db()
        return integration

    return make


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """deliver(integration, payload or bytes, **signing) -> the response; the worker's task runs in the test
    (eager) once the request's transaction commits."""

    def post(integration, payload, *, headers=None, **signing):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = headers if headers is not None else signed(integration, body, **signing)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/hooks/{integration.pk}/", body, content_type="application/json", headers=headers)

    return post


def base64_secret():
    return "whsec_" + base64.b64encode(b"another-secret-of-24-byte").decode()
