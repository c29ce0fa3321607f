"""Quiet hours (TEXT_QUIET_HOURS, default 21:00-08:00 in the company's time zone): no text leaves in them. Computed
on local wall-clock times and made aware again, so "08:00" is 08:00 on the morning after a daylight-saving change
too. A reply's answer clock runs in the office's opening hours instead (`answer_due_at`): nobody is there to answer
in the evening or at the weekend, whether or not a text may be sent then."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from callbacks.business_clock import company_calendar, due_after


def _bounds():
    start, end = settings.TEXT_QUIET_HOURS.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def _aware(day, at):
    return timezone.make_aware(datetime.combine(day, at))


def quiet_until(moment):
    """The end of the quiet hours `moment` falls in, or None when texts may go at `moment`."""
    start, end = _bounds()
    local = timezone.localtime(moment)
    now = local.time()
    if start <= end:
        quiet = start <= now < end
        end_day = local.date()
    else:  # across midnight: 21:00-08:00
        quiet = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    return _aware(end_day, end) if quiet else None


def answer_due_at(moment, minutes, *, calendar=None):
    """When a customer's reply received at `moment` has waited `minutes` of the office's opening hours: the clock of
    the callback targets counted in business hours (callbacks/business_clock.py: opening hours per weekday, less
    public holidays and the company's closures). A reply at 20:50 on a Wednesday with 15 minutes is due at 08:15 on
    Thursday; one at 16:50 on a Friday, at 08:05 on Monday."""
    return due_after(moment, timedelta(minutes=minutes), calendar=calendar or company_calendar())
