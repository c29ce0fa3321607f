"""The business-hours clock as a pure function: due times worked out by hand over a Friday evening, a public
holiday, a company closure and both daylight-saving changes (America/Chicago: Mar 8 and Nov 1, 2026), and the same
clock run backwards for the escalations' threshold. Opening hours Monday to Friday, 8 to 5."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from callbacks.business_clock import Calendar, before, between, due_after, public_holidays

CHICAGO = ZoneInfo("America/Chicago")
CALENDAR = Calendar(
    hours={weekday: (time(8), time(17)) for weekday in range(5)},
    # Independence Day (observed, a Friday), the company's Christmas Eve closure, Christmas Day.
    closed=frozenset({date(2026, 7, 3), date(2026, 12, 24), date(2026, 12, 25)}),
    zone=CHICAGO,
)


def local(*args):
    return datetime(*args, tzinfo=CHICAGO)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("start, hours, due", [
    # Friday 5:30 pm: nothing runs until Monday 8 am.
    (local(2026, 10, 16, 17, 30), 4, utc(2026, 10, 19, 17)),  # Mon 12:00 CDT
    (local(2026, 10, 16, 17, 30), 24, utc(2026, 10, 21, 19)),  # Mon 9 h, Tue 9 h, Wed 6 h: Wed 14:00 CDT
    (local(2026, 10, 16, 16, 0), 1, utc(2026, 10, 16, 22)),  # the last hour of Friday: Fri 17:00 CDT
    (local(2026, 10, 17, 10, 0), 1, utc(2026, 10, 19, 14)),  # logged on Saturday: Mon 9:00 CDT
    # A public holiday: Thursday 3 pm, two hours left that day, Friday Jul 3 off, Monday 10 am.
    (local(2026, 7, 2, 15, 0), 4, utc(2026, 7, 6, 15)),
    # A company closure and a holiday: Wednesday 4 pm, Thu 24 and Fri 25 closed: Monday Dec 28, 9 am CST.
    (local(2026, 12, 23, 16, 0), 2, utc(2026, 12, 28, 15)),
    # Spring forward (Sun Mar 8): Fri 4 pm CST, one hour Friday, two on Monday: 10:00 CDT = 15:00 UTC.
    (local(2026, 3, 6, 16, 0), 3, utc(2026, 3, 9, 15)),
    # Fall back (Sun Nov 1): Fri 4 pm CDT, one hour Friday, two on Monday: 10:00 CST = 16:00 UTC.
    (local(2026, 10, 30, 16, 0), 3, utc(2026, 11, 2, 16)),
    # A target ending exactly at closing time is due then, not the next morning.
    (local(2026, 10, 19, 8, 0), 9, utc(2026, 10, 19, 22)),
])
def test_business_hours_due_times(start, hours, due):
    assert due_after(start, timedelta(hours=hours), calendar=CALENDAR) == due


@pytest.mark.parametrize("start, hours, due", [
    (local(2026, 10, 16, 17, 30), 4, utc(2026, 10, 17, 2, 30)),  # Friday 9:30 pm, the office closed or not
    # Across the spring change the clock runs four real hours: Sat 11 pm CST is 05:00 UTC, due 09:00 UTC.
    (local(2026, 3, 7, 23, 0), 4, utc(2026, 3, 8, 9)),
    (local(2026, 10, 31, 23, 0), 4, utc(2026, 11, 1, 8)),  # and across the fall change: 04:00 UTC + 4 h
])
def test_around_the_clock_due_times_count_real_hours(start, hours, due):
    assert due_after(start, timedelta(hours=hours)) == due


@pytest.mark.parametrize("end, hours, start", [
    (local(2026, 10, 19, 12, 0), 4, utc(2026, 10, 19, 13)),  # Mon 12:00 less 4 h: Mon 8:00 CDT
    (local(2026, 10, 19, 10, 0), 4, utc(2026, 10, 16, 20)),  # Mon 2 h, Fri 2 h: Fri 15:00 CDT
    (local(2026, 7, 6, 10, 0), 4, utc(2026, 7, 2, 20)),  # over the holiday: Thu 15:00 CDT
    (local(2026, 3, 9, 10, 0), 3, utc(2026, 3, 6, 22)),  # over spring forward: Fri 16:00 CST
])
def test_the_clock_runs_backwards_for_the_escalation_threshold(end, hours, start):
    assert before(end, timedelta(hours=hours), calendar=CALENDAR) == start
    assert due_after(start, timedelta(hours=hours), calendar=CALENDAR) == end.astimezone(UTC)


def test_public_holidays_come_from_the_country_and_state_in_settings(settings):
    settings.HOLIDAYS_COUNTRY, settings.HOLIDAYS_STATE = "US", "IL"
    found = public_holidays([2026])
    assert {date(2026, 7, 3), date(2026, 11, 26), date(2026, 12, 25), date(2026, 3, 2)} <= found
    settings.HOLIDAYS_COUNTRY = ""
    assert public_holidays([2026]) == set()


def test_a_calendar_with_no_opening_hours_is_refused():
    with pytest.raises(ValueError, match="opening hours"):
        due_after(local(2026, 1, 5, 9), timedelta(hours=1), calendar=Calendar(hours={}, zone=CHICAGO))


@pytest.mark.parametrize("start, end, hours", [
    (local(2026, 10, 16, 15, 0), local(2026, 10, 19, 10, 0), 4),  # Fri 2 h, Mon 2 h
    (local(2026, 7, 2, 15, 0), local(2026, 7, 6, 10, 0), 4),  # over the holiday
    (local(2026, 3, 6, 16, 0), local(2026, 3, 9, 10, 0), 3),  # over spring forward
    (local(2026, 10, 19, 10, 0), local(2026, 10, 16, 15, 0), 0),  # backwards: nothing
])
def test_the_time_between_two_moments_on_the_clock(start, end, hours):
    assert between(start, end, calendar=CALENDAR) == timedelta(hours=hours)
    if hours:
        assert due_after(start, timedelta(hours=hours), calendar=CALENDAR) == end.astimezone(UTC)
