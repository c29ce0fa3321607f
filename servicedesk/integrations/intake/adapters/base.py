import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime


class AdapterError(Exception):
    """The event cannot be applied as it is (a field missing, a record it names not here yet): it stays in the inbox
    as failed, with this message, for a manager to retry."""


@dataclass(frozen=True)
class Envelope:
    event_id: str
    kind: str
    occurred_at: datetime | None


@dataclass
class Upsert:
    """A record in the API's shape (customers.upserts): a dict of the kind's field keys, `external_id` first."""

    kind: str  # customers, sites, equipment or jobs
    record: dict
    # A record nested in another's event (a job's customer) may carry its own modified-on, older than the event's.
    occurred_at: datetime | None = None


@dataclass
class Accept:
    """An estimate the customer approved: the matching open recommendation at the job's site is accepted, linked to
    that job. `what` is the estimate's name, matched against the recommendations' own words."""

    job: str  # the dispatch system's job id
    what: str = ""
    recommendation: int | None = None  # servicedesk's id, where the sender knows it
    notes: list = field(default_factory=list)


@dataclass
class Adapter:
    """`envelope(payload, headers, body)` -> Envelope; `handlers`: event type -> handler(payload, envelope) ->
    list of Upsert / Accept."""

    envelope: object
    handlers: dict

    def knows(self, kind):
        return kind in self.handlers

    def changes(self, kind, payload, envelope):
        return self.handlers[kind](payload, envelope)


def moment(value):
    """A vendor's timestamp (ISO 8601, or Unix seconds) as an aware datetime, or None."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        seconds = float(value)
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, tz=UTC)
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.strip())
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def body_digest(body):
    """An event id for a vendor that sends none: a retry of a delivery carries the same body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def need(mapping, key, what):
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if value in (None, "", [], {}):
        raise AdapterError(f"The event's {what} has no {key!r}.")
    return value


def text(value):
    return "" if value is None else str(value)


def record(**fields):
    """The API record with the fields the vendor gave (None: not given, so left as it is here)."""
    return {key: value for key, value in fields.items() if value is not None}
