"""The customer's history: one chronological timeline built from what each app records.

`customers` imports no other app, so each app contributes its entries through this registry
(from its AppConfig.ready). A provider takes the customer and a limit and returns HistoryEntry
objects from one query, so the page's query count does not grow with the customer's history.
"""

from dataclasses import dataclass, field
from datetime import datetime
from heapq import merge
from itertools import islice

from django.db import models
from django.utils import timezone

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


def job_event_entries(customer, *, limit):
    """Each job's trail (customers/events.py): booked, status changes, completed, who and through which door."""
    from .models import JobEvent

    events = (
        JobEvent.objects.filter(job__customer=customer).select_related("job", "by").order_by("-at", "-pk")[:limit]
    )
    for event in events:
        yield HistoryEntry(
            when=event.at,
            kind="job",
            title=f"{job_label(event.job)} {job_event_text(event)} {event.get_via_display()}",
            url=event.job.get_absolute_url(),
            detail=event.note,
            people=[_person(event.by)] if event.by_id else [],
        )


def job_label(job):
    return f"{job.get_kind_display()} #{job.invoice_number or job.pk}"


def job_event_text(event):
    if event.action == event.Action.STATUS_CHANGED:
        return f"{event.get_from_status_display().lower()} → {event.get_to_status_display().lower()}"
    return event.get_action_display().lower()


def consent_entries(customer, *, limit):
    """Reminder e-mails turned on or off, unsubscribed, opted out of contact or back in: who and which door."""
    for event in customer.consent_events.select_related("by").order_by("-at", "-pk")[:limit]:
        yield HistoryEntry(
            when=event.at,
            kind="consent",
            title=f"{event.get_action_display()} {event.get_via_display()}",
            detail=event.note,
            people=[_person(event.by)] if event.by_id else [],
        )


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
    """Feedback from the public page, calls ended for abuse, and do-not-service decisions: three queries."""
    from .models import AbusiveCall

    for feedback in customer.feedback.order_by("-created_at")[:limit]:
        stars = f" · {feedback.rating}/5" if feedback.rating else ""
        yield HistoryEntry(
            when=feedback.created_at,
            kind="feedback",
            title=f"{feedback.get_kind_display()} on the feedback page{stars}",
            detail=feedback.text + (" (asked to be called back)" if feedback.wants_call_back else ""),
            badge="Call back" if feedback.wants_call_back else "",
        )
    for call in AbusiveCall.objects.filter(customer=customer).select_related("recorded_by")[:limit]:
        yield HistoryEntry(
            when=call.ended_at,
            kind="abuse",
            title="Call ended for abuse, after a warning",
            detail=call.what_happened,
            people=[call.recorded_by.get_full_name() or call.recorded_by.username],
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
