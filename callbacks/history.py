"""The callbacks' entries in the customer's history timeline (see customers/history.py)."""

from customers.history import HistoryEntry, job_label

from .models import Callback, FollowUpCallEvent


def callback_entries(customer, *, limit):
    callbacks = (
        Callback.objects.filter(customer=customer)
        .select_related("job", "job__lead_technician")
        .order_by("-logged_at")[:limit]
    )
    for callback in callbacks:
        technician = callback.job.lead_technician
        repeat = " (repeat)" if callback.is_repeat else ""
        yield HistoryEntry(
            when=callback.logged_at,
            kind="callback",
            title=f"Callback #{callback.pk}{repeat} on {callback.job.get_kind_display().lower()} "
                  f"#{callback.job.invoice_number or callback.job_id}",
            url=callback.get_absolute_url(),
            detail=callback.problem,
            badge=callback.get_state_display(),
            people=[technician.get_full_name()] if technician else [],
        )


def follow_up_call_entries(customer, *, limit):
    """Follow-up calls claimed, released to the queue and cancelled (callbacks/follow_ups/trail.py)."""
    events = (
        FollowUpCallEvent.objects.filter(call__customer=customer)
        .select_related("call__job", "by")
        .order_by("-at", "-pk")[:limit]
    )
    for event in events:
        yield HistoryEntry(
            when=event.at,
            kind="call",
            title=f"Follow-up call on {job_label(event.call.job)} {event.get_action_display().lower()} "
                  f"{event.get_via_display()}",
            url=event.call.get_absolute_url(),
            detail=event.note,
            people=[event.by.get_full_name() or event.by.username] if event.by_id else [],
        )
