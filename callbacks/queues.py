"""The office's queues of work due today (issue 5, "Today" for a CSR): read-only querysets, counted together.

The follow-up call queue's querysets come from follow_ups/selectors.py."""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Exists, Q
from django.urls import reverse
from django.utils import timezone

from servicedesk import roles
from servicedesk.bulk import count_each

from .follow_ups.selectors import queue_counts
from .models import Callback, Triage, with_jobs_and_people

State = Callback.State


def _end_of_today(now):
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.min))


def office_queues(now=None, **extra_counts):
    """[(queue dict)] with counts, the queues with overdue work first; one query (plus `extra_counts`, counted in
    the same query, returned as the second value)."""
    now = now or timezone.now()
    end = _end_of_today(now)
    new = Callback.objects.filter(state=State.NEW)
    updates = Callback.objects.filter(state__in=[State.ACKNOWLEDGED, State.REVISIT_SCHEDULED, State.REVISIT_DONE],
                                      next_update_due_at__lt=end)
    closures = Callback.objects.filter(state=State.RESOLVED, next_update_due_at__lt=end)
    triage = Callback.objects.in_triage()
    counts = count_each(
        triage=triage, triage_overdue=triage.filter(due_at__lt=now),
        new=new, new_overdue=new.filter(first_contact_due_at__lt=now),
        updates=updates, updates_overdue=updates.filter(next_update_due_at__lt=now),
        closures=closures, closures_overdue=closures.filter(next_update_due_at__lt=now),
        **queue_counts(now),
        **extra_counts,
    )
    callbacks = reverse("callbacks:list")
    queues = [
        {"name": "New from customers", "count": counts["triage"], "overdue": counts["triage_overdue"],
         "url": reverse("callbacks:triage")},
        {"name": "New callbacks to acknowledge", "count": counts["new"], "overdue": counts["new_overdue"],
         "url": f"{callbacks}?state=new"},
        {"name": "Customer updates due", "count": counts["updates"], "overdue": counts["updates_overdue"],
         "url": f"{callbacks}?overdue=true"},
        {"name": "Follow-up calls due", "count": counts["calls"], "overdue": counts["calls_overdue"],
         "url": reverse("callbacks:calls"), "next_call": True},
        {"name": "Closure confirmations due", "count": counts["closures"], "overdue": counts["closures_overdue"],
         "url": f"{callbacks}?state=resolved"},
    ]
    queues.sort(key=lambda queue: (-queue["overdue"], -queue["count"]))
    return queues, {name: counts[name] for name in extra_counts}


# The panel below joins only what its row template shows (callbacks/_callback_rows.html; the due calls' panel is
# follow_ups.selectors.calls_due): every extra join multiplies PostgreSQL's search for a join order, and with the
# full `with_related()` planning took 15-20 ms of a query that runs in under 1 ms, on every load of the CSR's
# start page.


def open_callbacks(limit=10):
    """The first open callbacks, overdue first, as the list shows them (for_rows: joining every related table
    made PostgreSQL plan for ~25 ms a query it ran in 1)."""
    return with_jobs_and_people(Callback.objects.open().for_rows().overdue_first()[:limit])


def triage_recipients():
    """Who hears of the callbacks nobody owns: the triage owner the managers set, while still here; else every
    active CSR."""
    owner = Triage.objects.filter(pk=1, owner__is_active=True).values("owner")
    return get_user_model().objects.filter(
        Q(pk__in=owner) | (Q(groups__name=roles.CSR) & ~Exists(owner)), is_active=True
    ).distinct()


def triage_queue():
    """The callbacks nobody owns, overdue first, as the list shows them."""
    return Callback.objects.in_triage().for_rows().overdue_first()
