"""Every write of the webhook intake: storing a verified delivery, processing a stored event, the sweep that
processes what waits, a manager's retry, and an integration's webhook secret."""

import json
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from customers.importing import KINDS, ImportRejected
from customers.models import Job
from customers.upserts import apply_records
from recommendations.models import Recommendation
from recommendations.services import recommendation_accept
from servicedesk import roles
from servicedesk.audit import Via
from servicedesk.integrations.models import Integration
from servicedesk.integrations.services import integration_account

from . import signatures
from .adapters import Accept, AdapterError, Upsert, adapter_for
from .models import InboxEvent, RecordVersion, WebhookSecret

log = logging.getLogger(__name__)

# The task is a hint; an event still waiting after this long is processed by the sweep.
SWEEP_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 500


def webhook_secret_set(*, integration: Integration, by, secret: str = "", now=None) -> WebhookSecret:
    """The integration's webhook secret: `secret` as the dispatch system shows it, or a new one made here."""
    if not roles.has_role(by, roles.MANAGER):
        raise PermissionDenied("Only a manager sets an integration's webhook secret.")
    secret = (secret or "").strip() or signatures.new_secret(integration.kind)
    problem = signatures.secret_problem(integration.kind, secret)
    if problem:
        raise ValidationError({"secret": problem})
    row, _ = WebhookSecret.objects.update_or_create(
        integration=integration, defaults={"secret": secret, "set_at": now or timezone.now(), "set_by": by})
    return row


class Refused(Exception):
    """A delivery answered with `status` and stored nowhere."""

    def __init__(self, status, message):
        self.status = status
        super().__init__(message)


def inbox_store(*, integration: Integration, secret: str, body: bytes, headers: dict, now=None):
    """A delivery checked and stored: its signature first (on the raw body), then its JSON, then one row per
    (integration, event id). Returns (event, created); raises Refused with the answer for what is not stored.
    An event kind the adapter does not know is stored as ignored. The caller hands a new waiting event to the
    worker after commit (tasks.hand_over: a hint, the sweep processes it anyway)."""
    try:
        signatures.verify(kind=integration.kind, secret=secret, body=body, headers=headers)
    except signatures.BadSignature as exc:
        raise Refused(401, f"Bad signature: {exc}") from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise Refused(400, "The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refused(400, "The body is not a JSON object.")
    adapter = adapter_for(integration.kind)
    try:
        envelope = adapter.envelope(payload, headers, body)
    except (ValueError, TypeError, OverflowError, OSError):  # a date no calendar has, a timestamp out of range
        raise Refused(400, "The event's timestamp is not a date and time.") from None
    if not envelope.event_id or len(envelope.event_id) > InboxEvent._meta.get_field("event_id").max_length:
        raise Refused(400, "The event has no id, or one longer than 200 characters.")
    now = now or timezone.now()
    known = adapter.knows(envelope.kind)
    event = InboxEvent(
        integration=integration, event_id=envelope.event_id, kind=envelope.kind or "(none)",
        occurred_at=envelope.occurred_at or now, received_at=now, body=body.decode("utf-8", "replace"),
        headers=signatures.kept_headers(headers),
        state=InboxEvent.State.WAITING if known else InboxEvent.State.IGNORED,
        result="" if known else f"servicedesk does not use {envelope.kind or 'events without a type'!r} events.",
    )
    event.pk = _insert_once(event)
    if event.pk is None:
        return InboxEvent.objects.get(integration=integration, event_id=envelope.event_id), False
    return event, True


def _insert_once(event):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: of twenty concurrent copies of one delivery one inserts and
    the others get None, without an error (a duplicate is answered 2xx like the first)."""
    fields = [field for field in InboxEvent._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    params = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(InboxEvent._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            f"ON CONFLICT ({quote('integration_id')}, {quote('event_id')}) DO NOTHING RETURNING {quote('id')}",
            params,
        )
        row = cursor.fetchone()
    return row[0] if row else None


def inbox_event_process(*, event_pk: int, now=None) -> InboxEvent | None:
    """Processes one waiting event, once: claimed under a row lock (skip_locked, so a second worker or the sweep
    passes it by), its changes applied in a savepoint; a failure rolls back its changes and keeps the error."""
    with transaction.atomic():
        event = (InboxEvent.objects.select_for_update(skip_locked=True, of=("self",))
                 .select_related("integration").filter(pk=event_pk, state=InboxEvent.State.WAITING).first())
        if event is None:
            return None
        event.attempts += 1
        event.processed_at = now or timezone.now()
        try:
            with transaction.atomic():
                notes = _apply(event)
        except (AdapterError, ImportRejected, ValidationError) as exc:
            event.state, event.result = InboxEvent.State.FAILED, _error_text(exc)
        except DatabaseError as exc:
            if not isinstance(exc, IntegrityError | DataError):
                raise  # the database went away: nothing is kept, the event still waits for the sweep
            event.state, event.result = InboxEvent.State.FAILED, f"The database refused it: {exc}"[:2000]
        except Exception as exc:
            log.exception("Inbox event %s failed", event.pk)
            event.state, event.result = InboxEvent.State.FAILED, f"Unexpected error: {exc!r}"[:2000]
        else:
            event.state, event.result = InboxEvent.State.PROCESSED, "; ".join(notes)[:2000]
        event.save(update_fields=["state", "result", "attempts", "processed_at"])
        return event


def _error_text(exc):
    if isinstance(exc, ImportRejected):
        return "; ".join(f"{error.column or 'record'}: {error.message}" for error in exc.errors)[:2000]
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:2000]
    return str(exc)[:2000]


def _apply(event):
    adapter = adapter_for(event.integration.kind)
    payload = json.loads(event.body)
    envelope = adapter.envelope(payload, event.headers, event.body.encode())
    notes = []
    for change in adapter.changes(event.kind, payload, envelope):
        if isinstance(change, Upsert):
            notes.append(_upsert(change, change.occurred_at or event.occurred_at))
        elif isinstance(change, Accept):
            notes.append(_accept(change, event.integration))
    return notes or ["nothing to change"]


def _upsert(change, occurred_at):
    """The record written through the API's path, unless an event newer than this one was applied to it."""
    external_id = str(change.record.get("external_id", ""))
    noun = KINDS[change.kind].singular
    RecordVersion.objects.bulk_create(
        [RecordVersion(kind=change.kind, external_id=external_id, occurred_at=occurred_at)], ignore_conflicts=True)
    version = RecordVersion.objects.select_for_update().get(kind=change.kind, external_id=external_id)
    if version.occurred_at > occurred_at:
        return f"{noun} {external_id}: left as it is (a later change is applied)"
    # The dispatch system reports a booking already made: one for a do-not-service customer is flagged and the
    # managers told, as a file's is, not refused as the API refuses a request to book.
    plan = apply_records(kind=change.kind, records=[change.record], by=None, via=Via.WEBHOOK,
                         refuses_bookings=False)
    if version.occurred_at != occurred_at:
        version.occurred_at = occurred_at
        version.save(update_fields=["occurred_at"])
    return f"{noun} {external_id}: {plan.records[0].status}"


def _accept(change, integration):
    """The approved estimate's recommendation accepted: the one named, else the open one at the job's site raised
    on that job or worded as the estimate, else the only open one there."""
    job = Job.objects.filter(external_id=change.job).first()
    if job is None:
        raise AdapterError(f"Job {change.job!r} is not in servicedesk yet: retry once it has arrived.")
    at_site = Recommendation.objects.filter(site_id=job.site_id)
    if change.recommendation:
        at_site = at_site.filter(pk=change.recommendation)
    elif change.what:
        worded = at_site.filter(what__iexact=change.what.strip())
        if worded.exists():
            at_site = worded
    if at_site.filter(state=Recommendation.State.ACCEPTED, accepted_job=job).exists() and not at_site.filter(
            state__in=Recommendation.OUTSTANDING_STATES).exists():
        return f"recommendation at job {change.job}: accepted already"
    open_ones = list(at_site.filter(state__in=Recommendation.OUTSTANDING_STATES).order_by("pk"))
    raised_here = [recommendation for recommendation in open_ones if recommendation.raised_on_job_id == job.pk]
    candidates = raised_here if len(raised_here) == 1 else open_ones
    if len(candidates) != 1:
        return (f"estimate {change.what or ''!r} approved at job {change.job}: "
                f"{'no' if not candidates else len(candidates)} open recommendations match; none accepted")
    recommendation = recommendation_accept(recommendation=candidates[0], by=integration_account(integration),
                                           job=job, note=f"Estimate approved in {integration.name}.")
    return f"recommendation {recommendation.pk} accepted"


def inbox_sweep(*, now=None, older_than=SWEEP_AFTER) -> int:
    """Processes every event still waiting a minute after it arrived (the worker never got the hint, or the broker
    was down): safe to run twice at once, each event is claimed under its row lock."""
    now = now or timezone.now()
    ids = list(InboxEvent.objects.waiting().filter(received_at__lte=now - older_than)
               .order_by("received_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    return sum(1 for pk in ids if inbox_event_process(event_pk=pk) is not None)


def inbox_retry(*, integration: Integration, by, event_pk: int | None = None, now=None) -> list[int]:
    """A manager's retry of one failed event, or of all the integration's: put back to waiting, who and when
    recorded on it. Returns the ids put back, for the caller to hand to the worker after commit."""
    if not roles.has_role(by, roles.MANAGER):
        raise PermissionDenied("Only a manager retries an integration's events.")
    now = now or timezone.now()
    with transaction.atomic():
        failed = InboxEvent.objects.filter(integration=integration, state=InboxEvent.State.FAILED)
        if event_pk is not None:
            failed = failed.filter(pk=event_pk)
        ids = list(failed.select_for_update().values_list("pk", flat=True))
        InboxEvent.objects.filter(pk__in=ids).update(state=InboxEvent.State.WAITING, retried_at=now, retried_by=by)
    return ids
