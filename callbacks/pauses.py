"""Callbacks on hold (issue 23): waiting on the customer or on parts, with the reason and the expected date. The
clock stops while on hold (nothing is due, overdue, reminded or escalated); taken off hold, by hand or on the
expected date by the sweep, what was left of the target on its own clock (business_clock.py) runs from then."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from . import services
from .business_clock import between, due_after
from .models import PAUSABLE_STATES, Callback, CallbackEvent, CallbackPause

State = Callback.State
PAUSABLE = PAUSABLE_STATES


def callback_pause(*, callback, by, reason, note, expected_on, now=None):
    now = now or timezone.now()
    note = (note or "").strip()
    if reason not in CallbackPause.Reason.values:
        raise ValidationError({"reason": "Say what the callback waits on: the customer or parts."})
    if not note:
        raise ValidationError({"note": "Say what it waits for."})
    if expected_on is None or expected_on < timezone.localdate(now):
        raise ValidationError({"expected_on": "Give the date it is expected, today or later."})
    with transaction.atomic():
        callback = services._lock(callback)
        if callback.state not in PAUSABLE:
            raise services.TransitionRefused("Only a callback waiting for its first contact or its revisit is put "
                                             "on hold.")
        if callback.paused_since is not None:
            raise services.TransitionRefused("The callback is already on hold.")
        pause = CallbackPause.objects.create(callback=callback, reason=reason, note=note, expected_on=expected_on,
                                             started_at=now, started_by=by)
        callback.paused_since = now
        services._save(callback, now, ["paused_since"])
        CallbackEvent.objects.create(callback=callback, action=CallbackEvent.Action.PAUSED, by=by, at=now,
                                     note=f"{pause.get_reason_display()} until {expected_on:%b %d}: {note}")
    return pause


def _resume(callback, *, by, now, clocks):
    """Off hold: each target not yet met gets what was left of it when paused, counted from now."""
    pause = callback.pauses.get(ended_at=None)
    clock = clocks[callback.urgency]
    fields = ["paused_since"]
    for name in ("first_contact_due_at", "revisit_due_at"):
        # Moved on while on hold (the revisit done, resolved): its targets were met, nothing to move.
        if callback.state not in PAUSABLE or (name == "first_contact_due_at" and callback.state != State.NEW):
            continue
        left = between(callback.paused_since, getattr(callback, name), calendar=clock)
        setattr(callback, name, due_after(now, left, calendar=clock))
        fields.append(name)
    callback.paused_since = None
    services._save(callback, now, fields)
    pause.ended_at, pause.ended_by = now, by
    pause.save(update_fields=["ended_at", "ended_by"])
    held = now - pause.started_at
    days = held.days
    CallbackEvent.objects.create(callback=callback, action=CallbackEvent.Action.RESUMED, by=by, at=now,
                                 note=f"Off hold after {days} day{'' if days == 1 else 's'} "
                                      f"({pause.get_reason_display().lower()}); the clock runs again.")


def callback_resume(*, callback, by, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        callback = services._lock(callback)
        if callback.paused_since is None:
            raise services.TransitionRefused("The callback is not on hold.")
        _resume(callback, by=by, now=now, clocks=services.target_clocks())
    return callback


def resume_due_pauses(*, now=None):
    """The sweep: callbacks whose expected date has come are taken off hold (by nobody). Idempotent: one taken
    off hold is no longer on hold. The calendar is read once for all of them."""
    now = now or timezone.now()
    due = CallbackPause.objects.filter(ended_at=None, expected_on__lte=timezone.localdate(now)).values("callback_id")
    clocks = None
    resumed = 0
    with transaction.atomic():
        for callback in Callback.objects.select_for_update().filter(pk__in=due, paused_since__isnull=False):
            clocks = clocks or services.target_clocks()
            _resume(callback, by=None, now=now, clocks=clocks)
            resumed += 1
    return resumed
