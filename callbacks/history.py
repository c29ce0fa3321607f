"""The callbacks' entries in the customer's history timeline (see customers/history.py)."""

from customers.history import HistoryEntry

from .models import Callback


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
