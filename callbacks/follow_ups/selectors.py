"""Read-only querysets of the follow-up call queue for the office's Today page (issue 5)."""

from datetime import datetime, time

from django.utils import timezone

from .models import FollowUpCall


def _start_of_today(now):
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def queue_counts(now):
    """The call queue's part of the office's queues, as querysets for callbacks.queues.office_queues to count in
    its one query."""
    calls = FollowUpCall.objects.in_queue(now)
    # A follow-up call is late once it has waited past the day it fell due.
    return {"calls": calls, "calls_overdue": calls.filter(due_at__lt=_start_of_today(now))}


# Joins only what follow_ups/_call_rows.html shows: with the full `with_related()` PostgreSQL took 15-20 ms to
# plan a query that runs in under 1 ms, on every load of the CSR's start page.
def calls_due(now=None, limit=5):
    return FollowUpCall.objects.in_queue(now).select_related("customer", "job__site", "job__lead_technician")[:limit]
