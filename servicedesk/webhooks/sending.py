"""Posting one event to a subscriber, safely: the URL checked at save and again at send (its name resolved, every
address checked, then the connection made to the address checked, so a name that changes its answer between the
check and the connect, DNS rebinding, reaches nothing it should not); no redirect followed; at most 64 KiB of the
answer read; 10 seconds for the connection and for each read. Signed to the Standard Webhooks spec.

Loopback, private, link-local (the cloud's metadata address 169.254.169.254 among them), shared, reserved and
multicast addresses are refused, unless WEBHOOK_ALLOWED_HOSTS lists the URL's host, which also allows plain http
to it (tests, an on-premise receiver).
"""

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from urllib.parse import urlsplit

from django.conf import settings
from standardwebhooks.webhooks import Webhook

log = logging.getLogger(__name__)

TIMEOUT = 10
MAX_RESPONSE = 64 * 1024
EXCERPT = 1024


def _version():
    try:
        return metadata.version("servicedesk")
    except metadata.PackageNotFoundError:  # run from a checkout that was not installed
        return "0"


USER_AGENT = f"servicedesk-webhooks/{_version()}"


class Refused(Exception):
    """The URL may not be posted to; the message says why, for the manager."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _allowed(host):
    return host.lower() in {allowed.lower() for allowed in settings.WEBHOOK_ALLOWED_HOSTS}


def _forbidden(address):
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (the cloud's metadata service among them)"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


def check_url(url) -> Target:
    """The address to connect to for `url`, or Refused. Resolves the name: run at save and again at every send."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if not host:
        raise Refused("The URL needs a host name.")
    if parts.username or parts.password:
        raise Refused("The URL may not carry a user name or password: the signature authenticates us.")
    allowed = _allowed(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and allowed):
        raise Refused("The URL must start with https://.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("The URL's port is not a number from 1 to 65535.") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{host} could not be resolved.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allowed:
        for address in addresses:
            why = _forbidden(address)
            if why:
                # Every address must be public: a name answering one public and one private address is refused.
                raise Refused(f"{host} resolves to {address}, {why}: refused.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address checked, whatever the name resolves to by now; Host names the URL's host."""

    def __init__(self, target, timeout):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target, timeout):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Result:
    delivered: bool
    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str = ""
    error: str = ""


def signature(*, secrets, webhook_id, timestamp, body):
    """The `webhook-signature` header: one `v1,` signature per secret (two during a rotation's overlap)."""
    return " ".join(Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets)


def headers_for(*, secrets, webhook_id, body, timestamp=None):
    timestamp = timestamp or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(secrets=secrets, webhook_id=webhook_id, timestamp=timestamp, body=body),
    }


def post(*, url, body: str, webhook_id: str, secrets) -> Result:
    """One attempt: 2xx is delivered; any other status, a refusal or no answer is a failure to retry."""
    started = time.monotonic()

    def took():
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except Refused as exc:
        log.warning("Webhook to %s refused: %s", url, exc)
        return Result(delivered=False, error=f"Refused: {exc}"[:200])
    data = body.encode()
    headers = headers_for(secrets=secrets, webhook_id=webhook_id, body=data)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=TIMEOUT)
    try:
        connection.request("POST", target.path, body=data, headers=headers)
        response = connection.getresponse()
        # A redirect is an answer like any other non-2xx: never followed (it could point anywhere).
        answer = response.read(MAX_RESPONSE)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Result(delivered=False, duration_ms=took(), error=f"{type(exc).__name__}: {exc}"[:200])
    finally:
        connection.close()
    excerpt = answer[:EXCERPT].decode("utf-8", errors="replace")[:EXCERPT]
    return Result(delivered=200 <= status < 300, status_code=status, duration_ms=took(), excerpt=excerpt)
