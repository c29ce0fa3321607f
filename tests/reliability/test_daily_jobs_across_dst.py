"""A daily job fires exactly once per local day, also on the days daylight saving time starts and ends in the
company's time zone (America/Chicago: 2026-11-01 has 25 hours, 2027-03-14 has 23)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from callbacks import reminders as callback_reminders
from recommendations import sweeps
from recommendations.models import CustomerReminder, Risk
from recommendations.reminders import send_recommendation_reminders
from servicedesk import roles
from servicedesk.celery import BEAT_SCHEDULE
from servicedesk.models import Notification
from tests.factories import CustomerFactory, JobFactory, SiteFactory, TechnicianFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory

pytestmark = [pytest.mark.django_db]

CHICAGO = ZoneInfo("America/Chicago")
FALL_BACK, SPRING_FORWARD = date(2026, 11, 1), date(2027, 3, 14)
DAILY = {name: entry for name, entry in BEAT_SCHEDULE.items()
         if "crontab" in entry and entry["crontab"].get("hour", "*").isdigit()}


@pytest.fixture(autouse=True)
def _chicago(settings):
    assert settings.TIME_ZONE == "America/Chicago"


def local(day, hour, minute=0, second=0, microsecond=0):
    return datetime(day.year, day.month, day.day, hour, minute, second, microsecond, tzinfo=CHICAGO)


def days_around(change, before=2, after=2):
    return [change + timedelta(days=n) for n in range(-before, after + 1)]


@pytest.mark.parametrize("change", [FALL_BACK, SPRING_FORWARD])
@pytest.mark.parametrize("name", DAILY)
def test_beat_fires_each_daily_entry_once_per_local_day_at_its_local_time(name, change):
    """The beat's own clock: django-celery-beat's crontab in the company's zone, stepped minute by minute."""
    from servicedesk.celery import sync_beat_schedule

    sync_beat_schedule()
    schedule = PeriodicTask.objects.get(name=name).crontab.schedule
    clock = local(change - timedelta(days=2), 0)
    schedule.nowfun = lambda: clock
    last_run, fired = clock, []
    while clock < local(change + timedelta(days=2), 0):
        clock += timedelta(minutes=1)
        if schedule.is_due(last_run).is_due:
            fired.append(clock.astimezone(CHICAGO))
            last_run = clock

    hour, minute = int(DAILY[name]["crontab"]["hour"]), int(DAILY[name]["crontab"]["minute"])
    assert [(t.date(), t.hour, t.minute) for t in fired] == [
        (day, hour, minute) for day in days_around(change, 2, 1)
    ]


@pytest.mark.parametrize("change", [FALL_BACK, SPRING_FORWARD])
def test_one_briefing_digest_per_technician_per_local_day(change):
    technician = TechnicianFactory()
    days = days_around(change)
    for day in days:
        # Just after local midnight and just before the next: both are that day's visits (in UTC the latter is
        # already the next day).
        for hour, minute in ((0, 30), (23, 30)):
            JobFactory(lead_technician=technician, scheduled_start=local(day + timedelta(days=1), hour, minute))

    for day in days:
        # At 18:00 as beat sends it, a second beat a minute later, and late in the evening (next day in UTC).
        for run in (local(day, 18), local(day, 18, 1), local(day, 23, 45)):
            callback_reminders.send_briefing_digests(now=run)

    digests = Notification.objects.filter(kind=Notification.Kind.BRIEFING).order_by("created_at")
    assert [d.key for d in digests] == [f"briefing:{day + timedelta(days=1)}:to:{technician.pk}" for day in days]
    assert all(" 2 visits," in d.text for d in digests)


@pytest.mark.parametrize("change", [FALL_BACK, SPRING_FORWARD])
def test_a_follow_up_due_on_the_change_day_reminds_on_that_local_day_once(change):
    sales = UserFactory(role=roles.SALES)
    RecommendationFactory(owner=sales, next_follow_up_on=change)
    reminded = {}
    for day in days_around(change):
        for run in (local(day, 7), local(day, 7, 1), local(day, 22)):  # 22:00 is already tomorrow in UTC
            reminded[run] = sweeps.remind_follow_ups_due(now=run)

    assert {run: n for run, n in reminded.items() if n} == {local(change, 7): 1}


@pytest.mark.parametrize("change", [FALL_BACK, SPRING_FORWARD])
def test_a_stale_lead_is_escalated_on_its_local_day_once(change, settings):
    settings.STALE_LEAD_DAYS = 7
    managers = [UserFactory(role=roles.MANAGER) for _ in range(2)]
    RecommendationFactory(next_follow_up_on=change - timedelta(days=8))
    escalated = {}
    for day in days_around(change):
        for run in (local(day, 7, 30), local(day, 7, 31), local(day, 22)):
            escalated[run] = sweeps.escalate_stale_leads(now=run)

    assert {run: n for run, n in escalated.items() if n} == {local(change, 7, 30): len(managers)}


@pytest.mark.parametrize("first, second", [
    (date(2026, 10, 25), date(2026, 11, 8)),  # the fourteen days hold the 25-hour day
    (date(2027, 2, 28), date(2027, 3, 14)),   # the second reminder falls on the 23-hour day
    (date(2027, 3, 7), date(2027, 3, 21)),    # the fourteen days hold the 23-hour day
    (date(2026, 6, 1), date(2026, 6, 15)),    # no change: only the worker starting a little earlier than last time
])
def test_customer_reminders_come_every_fourteen_local_days_across_the_change(first, second, settings):
    settings.RECOMMENDATION_REMINDER_DAYS = {**settings.RECOMMENDATION_REMINDER_DAYS, Risk.FAILURE_LIKELY: 14}
    site = SiteFactory(customer=CustomerFactory(reminders_opt_in=True, email="pat@example.com"))
    RecommendationFactory(site=site, risk=Risk.FAILURE_LIKELY, created_at=local(first - timedelta(days=14), 9),
                          next_follow_up_on=second + timedelta(days=60))
    day = first
    while day <= second + timedelta(days=2):
        # Beat sends at 10:00; the worker picks it up a little earlier or later in the second each day.
        jitter = 900_000 if day == first else 100_000
        send_recommendation_reminders(now=local(day, 10, 0, 0, jitter))
        send_recommendation_reminders(now=local(day, 23, 30))  # a second beat, late: tomorrow in UTC
        day += timedelta(days=1)

    sent = [timezone.localtime(r.sent_at) for r in CustomerReminder.objects.order_by("sent_at")]
    assert [(t.date(), t.hour) for t in sent] == [(first, 10), (second, 10)]
