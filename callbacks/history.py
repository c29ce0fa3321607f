"""The callbacks' entries in the customer's history timeline (see customers/history.py)."""

from django.urls import reverse

from customers.history import HistoryEntry, trail_columns, trail_job_label, trail_person, trail_via

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


def follow_up_call_rows(customer):
    return FollowUpCallEvent.objects.filter(call__customer=customer).annotate(
        **trail_columns("follow_up_call", job="call__job", about="call_id")
    )


def follow_up_call_entry(row):
    """Follow-up calls claimed, released to the queue and cancelled (callbacks/follow_ups/trail.py), on the
    customer's trail (one query with the other apps' trails)."""
    action = FollowUpCallEvent.Action(row["trail_action"]).label.lower()
    return HistoryEntry(
        when=row["trail_at"], kind="call",
        title=f"Follow-up call on {trail_job_label(row)} {action} {trail_via(row)}",
        url=reverse("callbacks:call", args=[row["trail_about_id"]]), detail=row["trail_note"],
        people=trail_person(row),
    )
