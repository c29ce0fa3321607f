"""The customer's history: one chronological timeline built from what each app records.

`customers` imports no other app, so each app contributes its entries through this registry
(from its AppConfig.ready). A provider takes the customer and a limit and returns HistoryEntry
objects from one query, so the page's query count does not grow with the customer's history.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from heapq import merge
from itertools import islice

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from servicedesk.audit import Via

_providers = []


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime
    kind: str  # "job", "callback", "recommendation", "call", "feedback", ...
    title: str
    url: str = ""
    detail: str = ""
    badge: str = ""
    people: list = field(default_factory=list)


def register(provider):
    if provider not in _providers:
        _providers.append(provider)
    return provider


def customer_history(customer, *, limit=100):
    """The newest `limit` entries across every app, newest first."""
    streams = [sorted(provider(customer, limit=limit), key=lambda e: e.when, reverse=True) for provider in _providers]
    return list(islice(merge(*streams, key=lambda e: e.when, reverse=True), limit))


def job_entries(customer, *, limit):
    from .models import Job

    # The review request rides along (one per job): the history shows who was asked and who was not, and why.
    jobs = customer.jobs.select_related(
        "site", "lead_technician", "review_request", "review_request__technician"
    ).order_by("-scheduled_start")[:limit]
    for job in jobs:
        request = getattr(job, "review_request", None)
        if request is not None:
            yield review_request_entry(request, job)
        when = job.completed_at or job.scheduled_start
        title = f"{job.get_kind_display()} — {job.get_status_display().lower()}"
        technician = job.lead_technician.get_full_name() if job.lead_technician else ""
        yield HistoryEntry(
            when=when,
            kind="job",
            title=title,
            url=job.get_absolute_url(),
            detail=job.summary,
            badge=job.get_status_display() if job.status != Job.Status.COMPLETED else "",
            people=[technician] if technician else [],
        )


# The trail: the apps' event rows (a job booked or moved on, consent changed, a follow-up call claimed, a call ended
# for abuse) have one shape — when, what, through which door, a note, by whom, about which job — so they are read in
# ONE union query however many apps keep a trail: a new trail costs the customer page no query.
TRAIL_COLUMNS = (
    "trail_source", "trail_id", "trail_at", "trail_action", "trail_via", "trail_note", "trail_by_first_name",
    "trail_by_last_name", "trail_by_username", "trail_job_id", "trail_job_kind", "trail_job_invoice_number",
    "trail_about_id", "trail_from", "trail_to",
)


@dataclass(frozen=True)
class Trail:
    rows: Callable  # customer -> the trail's rows about that customer, annotated with trail_columns()
    entry: Callable  # one row, a dict keyed by TRAIL_COLUMNS -> HistoryEntry


_trails = {}


def register_trail(source, *, rows, entry):
    _trails[source] = Trail(rows, entry)


def trail_columns(source, *, at="at", action="action", via="via", note="note", by="by", job=None, about=None,
                  from_status=None, to_status=None):
    """The annotations that give one trail's rows the common shape; each argument names the field that holds it
    (None: the trail has no such thing)."""

    def column(path, output_field):
        # A typed NULL: PostgreSQL takes an untyped one in the first branch of a union for text.
        return F(path) if path else Cast(Value(None), output_field=output_field)

    text, number = models.CharField(), models.BigIntegerField()
    return {
        "trail_source": Value(source, output_field=text),
        "trail_id": F("pk"),
        "trail_at": F(at),
        "trail_action": column(action, text),
        "trail_via": column(via, text),
        "trail_note": column(note, models.TextField()),
        "trail_by_first_name": column(by and f"{by}__first_name", text),
        "trail_by_last_name": column(by and f"{by}__last_name", text),
        "trail_by_username": column(by and f"{by}__username", text),
        "trail_job_id": column(job and f"{job}_id", number),
        "trail_job_kind": column(job and f"{job}__kind", text),
        "trail_job_invoice_number": column(job and f"{job}__invoice_number", text),
        "trail_about_id": column(about, number),
        "trail_from": column(from_status, text),
        "trail_to": column(to_status, text),
    }


def trail_entries(customer, *, limit):
    """The newest `limit` rows of every registered trail, in one query."""
    if not _trails:
        return
    querysets = [trail.rows(customer).order_by().values(*TRAIL_COLUMNS) for trail in _trails.values()]
    rows = querysets[0].union(*querysets[1:], all=True).order_by("-trail_at", "-trail_id")[:limit]
    for row in rows:
        yield _trails[row["trail_source"]].entry(row)


def trail_person(row):
    """The name of who made the change, or no one (a nightly import, a message from the dispatch system)."""
    name = f"{row['trail_by_first_name'] or ''} {row['trail_by_last_name'] or ''}".strip()
    name = name or row["trail_by_username"]
    return [name] if name else []


def trail_job_label(row):
    from .models import Job

    return f"{Job.Kind(row['trail_job_kind']).label} #{row['trail_job_invoice_number'] or row['trail_job_id']}"


def trail_via(row):
    return Via(row["trail_via"]).label if row["trail_via"] else ""


def job_event_rows(customer):
    from .models import JobEvent

    return JobEvent.objects.filter(job__customer=customer).annotate(
        **trail_columns("job_event", job="job", from_status="from_status", to_status="to_status")
    )


def job_event_entry(row):
    """Each job's trail (customers/events.py): booked, status changes, completed, who and through which door."""
    from .models import Job, JobEvent

    if row["trail_action"] == JobEvent.Action.STATUS_CHANGED:
        what = f"{Job.Status(row['trail_from']).label.lower()} → {Job.Status(row['trail_to']).label.lower()}"
    else:
        what = JobEvent.Action(row["trail_action"]).label.lower()
    return HistoryEntry(
        when=row["trail_at"], kind="job", title=f"{trail_job_label(row)} {what} {trail_via(row)}",
        url=reverse("customers:job_detail", args=[row["trail_job_id"]]), detail=row["trail_note"],
        people=trail_person(row),
    )


def consent_rows(customer):
    return customer.consent_events.annotate(**trail_columns("consent"))


def consent_entry(row):
    """Reminder e-mails turned on or off, unsubscribed, opted out of contact or back in: who and which door."""
    from .models import ConsentEvent

    return HistoryEntry(
        when=row["trail_at"], kind="consent",
        title=f"{ConsentEvent.Action(row['trail_action']).label} {trail_via(row)}", detail=row["trail_note"],
        people=trail_person(row),
    )


def abusive_call_rows(customer):
    from .models import AbusiveCall

    return AbusiveCall.objects.filter(customer=customer).annotate(
        **trail_columns("abusive_call", at="ended_at", action=None, via=None, note="what_happened", by="recorded_by")
    )


def abusive_call_entry(row):
    return HistoryEntry(when=row["trail_at"], kind="abuse", title="Call ended for abuse, after a warning",
                        detail=row["trail_note"], people=trail_person(row))


def review_request_entry(request, job):
    if request.was_asked:
        title = f"Review link sent by {request.get_channel_display().lower()} to {request.address}"
        badge = "" if request.emailed_at else "Not sent yet"
    else:
        title = f"Review request skipped: {request.get_skipped_display()}"
        badge = "Skipped"
    return HistoryEntry(
        when=request.created_at, kind="review", title=title, url=job.get_absolute_url(),
        detail=f"After the visit of {timezone.localtime(job.completed_at):%b %-d, %Y}", badge=badge,
        people=[request.technician.get_full_name() or request.technician.username] if request.technician else [],
    )


def relationship_entries(customer, *, limit):
    """Feedback from the public page and do-not-service decisions: two queries."""
    for feedback in customer.feedback.order_by("-created_at")[:limit]:
        stars = f" · {feedback.rating}/5" if feedback.rating else ""
        yield HistoryEntry(
            when=feedback.created_at,
            kind="feedback",
            title=f"{feedback.get_kind_display()} on the feedback page{stars}",
            detail=feedback.text + (" (asked to be called back)" if feedback.wants_call_back else ""),
            badge="Call back" if feedback.wants_call_back else "",
        )
    for decision in do_not_service_decisions(customer)[:limit]:
        attempts = "; ".join(str(attempt) for attempt in decision.documented_attempts.all()) or decision.attempts
        yield HistoryEntry(
            when=decision.proposed_at, kind="do_not_service", title="Do-not-service proposed",
            detail=f"{decision.reasons} — Attempts: {attempts}", people=[_person(decision.proposed_by)],
        )
        if decision.decided_at:
            yield HistoryEntry(
                when=decision.decided_at, kind="do_not_service",
                title=f"Do-not-service {'declined' if decision.state == 'declined' else 'approved'}",
                detail=decision.decision_note, people=[_person(decision.decided_by)],
            )
        if decision.lifted_at:
            yield HistoryEntry(
                when=decision.lifted_at, kind="do_not_service", title="Do-not-service lifted",
                detail=decision.lift_reason, people=[_person(decision.lifted_by)],
            )


def do_not_service_decisions(customer):
    """The customer's decisions, newest first, read once per request: the history and the customer page's
    relationship card both show them."""
    if "do_not_service_decisions" not in getattr(customer, "_prefetched_objects_cache", {}):
        from django.db.models import prefetch_related_objects

        from .models import DoNotServiceDecision

        prefetch_related_objects([customer], models.Prefetch(
            "do_not_service_decisions",
            queryset=DoNotServiceDecision.objects.select_related("proposed_by", "decided_by", "lifted_by")
            .prefetch_related("documented_attempts"),
        ))
    return list(customer.do_not_service_decisions.all())


def _person(user):
    return user.get_full_name() or user.username
