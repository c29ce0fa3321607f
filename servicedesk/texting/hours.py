"""Quiet hours (TEXT_QUIET_HOURS, default 21:00-08:00 in the company's time zone): no text leaves in them, and a
reply's answer clock does not run in them. Computed on local wall-clock times and made aware again, so "08:00" is
08:00 on the morning after a daylight-saving change too."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


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


def next_quiet_start(moment):
    start, _ = _bounds()
    local = timezone.localtime(moment)
    candidate = _aware(local.date(), start)
    return candidate if candidate > moment else _aware(local.date() + timedelta(days=1), start)


def add_open_minutes(moment, minutes):
    """`moment` plus `minutes` counted outside quiet hours: a reply at 20:50 with 15 minutes is due at 08:05."""
    left = timedelta(minutes=minutes)
    while True:
        moment = quiet_until(moment) or moment
        quiet_start = next_quiet_start(moment)
        if moment + left <= quiet_start:
            return moment + left
        left -= quiet_start - moment
        moment = quiet_start
