"""A real HTTP receiver on loopback, in a thread the test starts: it records every request as it came (headers and
raw body) and answers with the statuses it is told, 200 once they run out. `down()` closes its port (connections
refused, as a stopped receiver's), `up()` opens the same port again."""

import http.server
import json
import threading
from dataclasses import dataclass, field

import pytest
from standardwebhooks.webhooks import Webhook

from servicedesk.outbox import EVENT_TYPES
from servicedesk.webhooks import services
from tests.factories import UserFactory


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def document(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    answers: list = field(default_factory=list)  # status codes, or (status, {header: value}, body)
    requests: list = field(default_factory=list)
    port: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                status, headers, text = answer if isinstance(answer, tuple) else (answer, {}, b"ok")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll: shutdown() waits for it, at the end of every test that uses a receiver.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def down(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def ids(self):
        return [request.headers["webhook-id"] for request in self.requests]

    def verified(self, secret):
        """Each request's document, verified by the Standard Webhooks library (raises on a bad signature)."""
        return [Webhook(secret).verify(request.body, request.headers) for request in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = Receiver().up()
    yield receiver
    receiver.down()


@pytest.fixture
def integration(manager):
    from servicedesk.integrations.models import Integration

    return Integration.objects.create(name="Dispatch board", created_by=manager)


@pytest.fixture
def subscribe(integration, manager):
    """subscribe(url, event_types=every type) -> (subscription, secret), added as a manager would."""

    def subscribe(url, event_types=tuple(EVENT_TYPES)):
        return services.subscription_add(integration=integration, label="Dispatch board", url=url,
                                         event_types=list(event_types), by=manager)

    return subscribe


@pytest.fixture
def other_manager(db):
    from servicedesk import roles

    return UserFactory(username="manager2", role=roles.MANAGER)
