"""The one clock of the callback targets (issue 23): a target runs around the clock or in business hours (the
company's opening hours per weekday, less public holidays from the `holidays` library for HOLIDAYS_COUNTRY and
HOLIDAYS_STATE, less the closures managers add). Due times at logging, the revisit target of a reopened callback
and the escalation threshold all come from `due_after` and `before`; the reminders, the overdue flags and the
lists' clocks read the due times they store.

Pure functions over a `Calendar` loaded once per request or sweep (`company_calendar`, two queries), so that no
row of a list or a sweep costs a query. Opening hours are wall-clock times in TIME_ZONE: a window is made aware
each day, and the time inside it is counted in real (UTC) time, so a daylight-saving change moves nothing but the
night it happens in.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings

# A target longer than this many days of closures in a row is a calendar with no opening hours at all.
SEARCH_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    """hours: {weekday (0 = Monday): (opens, closes)}; a weekday missing is closed. closed: dates closed all day
    (public holidays and the company's closures)."""

    hours: dict
    closed: frozenset = field(default_factory=frozenset)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def window(self, day):
        """(opens, closes) as aware datetimes on `day`, or None when closed all day."""
        if day in self.closed or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        return (datetime.combine(day, opens, tzinfo=self.zone), datetime.combine(day, closes, tzinfo=self.zone))


def due_after(start, within, *, calendar=None):
    """When a target of `within` started at `start` falls due: `start + within` around the clock (no calendar),
    or after `within` of opening hours."""
    if calendar is None:
        # In real time: an aware datetime in a zone with daylight saving adds wall-clock time.
        return start.astimezone(UTC) + within
    left = within
    day = start.astimezone(calendar.zone).date()
    for _ in range(SEARCH_DAYS):
        window = calendar.window(day)
        if window is not None:
            begin = max(start, window[0]).astimezone(UTC)
            end = window[1].astimezone(UTC)
            if begin < end:
                if left <= end - begin:
                    return begin + left
                left -= end - begin
            elif left == timedelta(0) and begin == end:
                return begin
        day += timedelta(days=1)
    raise ValueError("No opening hours in ten years: set the company's opening hours.")


def before(end, within, *, calendar=None):
    """The start from which a target of `within` falls due at `end`: `due_after` run backwards."""
    if calendar is None:
        return end.astimezone(UTC) - within
    left = within
    day = end.astimezone(calendar.zone).date()
    for _ in range(SEARCH_DAYS):
        window = calendar.window(day)
        if window is not None:
            finish = min(end, window[1]).astimezone(UTC)
            begin = window[0].astimezone(UTC)
            if begin < finish:
                if left <= finish - begin:
                    return finish - left
                left -= finish - begin
        day -= timedelta(days=1)
    raise ValueError("No opening hours in ten years: set the company's opening hours.")


def between(start, end, *, calendar=None):
    """How much of the target's clock runs from `start` to `end` (zero when `end` is not later): real time around
    the clock, opening hours in business hours. What is left of a target when its callback is paused."""
    if end <= start:
        return timedelta(0)
    if calendar is None:
        return end - start
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    while day <= last:
        window = calendar.window(day)
        if window is not None:
            begin, finish = max(start, window[0]), min(end, window[1])
            if begin < finish:
                total += finish.astimezone(UTC) - begin.astimezone(UTC)
        day += timedelta(days=1)
    return total


def public_holidays(years):
    """The public holidays of the company's country and state (settings) in `years`."""
    if not settings.HOLIDAYS_COUNTRY:
        return set()
    found = holidays.country_holidays(settings.HOLIDAYS_COUNTRY, subdiv=settings.HOLIDAYS_STATE or None,
                                      years=years)
    return set(found)


DEFAULT_HOURS = {weekday: (time(8), time(17)) for weekday in range(5)}


def company_calendar(*, today=None):
    """The company's calendar: its opening hours (the defaults, Monday to Friday 8 to 5, until a manager sets
    them), the public holidays of last year to two years on, and its closures. Two queries."""
    from .models import Closure, OpeningHours

    today = today or date.today()
    rows = list(OpeningHours.objects.values_list("weekday", "opens", "closes"))
    hours = {weekday: (opens, closes) for weekday, opens, closes in rows} if rows else dict(DEFAULT_HOURS)
    closed = public_holidays(range(today.year - 1, today.year + 3))
    closed |= set(Closure.objects.values_list("day", flat=True))
    return Calendar(hours=hours, closed=frozenset(closed))
