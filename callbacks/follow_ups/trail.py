"""The follow-up call's trail (FollowUpCallEvent): who claimed a call, and when it went back to the queue or was
cancelled. Written by callbacks/follow_ups/services.py inside its transactions."""

from django.db import transaction
from django.utils import timezone

from servicedesk.audit import Via

from .models import FollowUpCall, FollowUpCallEvent

Action = FollowUpCallEvent.Action


def call_event_record(*, call, action, by=None, via=Via.PAGE, note="", now=None):
    return FollowUpCallEvent.objects.create(call=call, action=action, at=now or timezone.now(), by=by, via=via,
                                            note=note)


def calls_update_recorded(calls, *, action, by=None, via=Via.SYSTEM, note="", now=None, **changes):
    """`calls.update(**changes)` with one event per call changed (its note the cancel reason unless given);
    returns how many.

    The calls are locked first (those another transaction holds right now are left for the next run), so the
    events name exactly the rows updated: three statements whatever the number of calls, one when there are none
    (and no savepoint inside a sweep's transaction, so a sweep's query count stays what it was)."""
    with transaction.atomic(savepoint=False):
        ids = list(calls.select_for_update(skip_locked=True, of=("self",)).order_by().values_list("pk", flat=True))
        if not ids:
            return 0
        changed = FollowUpCall.objects.filter(pk__in=ids).update(**changes)
        now, note = now or timezone.now(), note or changes.get("cancel_reason", "")
        FollowUpCallEvent.objects.bulk_create(
            [FollowUpCallEvent(call_id=pk, action=action, at=now, by=by, via=via, note=note) for pk in ids]
        )
    return changed
