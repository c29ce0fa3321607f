"""The business-hours clock in the callbacks: the due times stored at logging and at a reopen, the overdue flag, a
company closure, the escalations' "twice overdue", and the managers' choice of clock per urgency on the trail."""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse

from callbacks import services
from callbacks.models import DEFAULT_BUSINESS_HOURS, Closure, UrgencyTarget
from callbacks.reminders import twice_overdue
from servicedesk.audit import setting_changes
from tests.callbacks.factories import targets_in_business_hours
from tests.servicedesk.dashboards.data import completed_job

pytestmark = pytest.mark.django_db
# Read when the tests are collected, before the suite sets its company's targets around the clock.
DEFAULTS = {urgency.value: flag for urgency, flag in DEFAULT_BUSINESS_HOURS.items()}
CHICAGO = ZoneInfo("America/Chicago")
FRIDAY_EVENING = datetime(2026, 10, 16, 17, 30, tzinfo=CHICAGO)


@pytest.fixture(autouse=True)
def _chicago(settings):
    settings.TIME_ZONE, settings.HOLIDAYS_COUNTRY, settings.HOLIDAYS_STATE = "America/Chicago", "US", ""
    # The defaults (the suite's company keeps them around the clock, tests/conftest.py): an emergency stays
    # around the clock.
    targets_in_business_hours("high", "normal")


def test_by_default_an_emergency_runs_around_the_clock_and_high_and_normal_in_business_hours(csr, technician):
    assert DEFAULTS == {"emergency": False, "high": True, "normal": True}  # when a row is missing
    UrgencyTarget.objects.update(business_hours=False)
    # The rows of an install, when it migrates to 0026.
    import_module("callbacks.migrations.0026_business_hours_by_default").business_hours_for_high_and_normal(
        apps, None)

    assert dict(UrgencyTarget.objects.values_list("urgency", "business_hours")) == DEFAULTS
    assert _log(csr, technician).first_contact_due_at == datetime(2026, 10, 21, 14, tzinfo=CHICAGO)  # Wednesday
    assert _log(csr, technician, urgency="emergency").first_contact_due_at == FRIDAY_EVENING + timedelta(hours=1)


def _log(csr, technician, urgency="normal", now=FRIDAY_EVENING):
    return services.callback_log(job=completed_job(technician), problem="Leak.", channel="phone", urgency=urgency,
                                 logged_by=csr, now=now)


def test_a_normal_callback_logged_friday_evening_is_not_overdue_over_the_weekend(csr, technician):
    normal = _log(csr, technician)
    # 24 opening hours: Monday 9, Tuesday 9, Wednesday 6: Wed 2 pm. 72: the next Wednesday at closing.
    assert normal.first_contact_due_at == datetime(2026, 10, 21, 19, tzinfo=UTC)
    assert normal.revisit_due_at == datetime(2026, 10, 28, 22, tzinfo=UTC)
    assert not normal.is_overdue(now=datetime(2026, 10, 17, 9, tzinfo=CHICAGO))
    # An emergency runs around the clock: an hour after logging.
    emergency = _log(csr, technician, urgency="emergency")
    assert emergency.first_contact_due_at == datetime(2026, 10, 16, 23, 30, tzinfo=UTC)

    # A closure on Monday pushes the next one a day.
    Closure.objects.create(day=datetime(2026, 10, 19).date(), reason="Flooded shop")
    later = _log(csr, technician)
    assert later.first_contact_due_at == datetime(2026, 10, 22, 19, tzinfo=UTC)


def test_twice_overdue_counts_on_the_same_clock(csr, technician):
    normal = _log(csr, technician)  # due Wed Oct 21, 2 pm; as long again in opening hours: Mon Oct 26, 11 am
    assert normal not in twice_overdue(datetime(2026, 10, 26, 10, 59, tzinfo=CHICAGO))
    assert normal in twice_overdue(datetime(2026, 10, 26, 11, 0, tzinfo=CHICAGO))


def test_a_reopened_callback_gets_its_new_revisit_target_in_business_hours(csr, technician):
    normal = _log(csr, technician)
    services.callback_acknowledge(callback=normal, by=csr, now=FRIDAY_EVENING)
    services.callback_resolve(callback=normal, by=csr, root_cause="workmanship", now=FRIDAY_EVENING)
    reopened = services.callback_reopen(callback=normal, by=csr, reason="Still dripping.", now=FRIDAY_EVENING)
    assert reopened.revisit_due_at == datetime(2026, 10, 28, 22, tzinfo=UTC)


def test_managers_choose_each_targets_clock_on_the_trail(client_for, manager, csr, technician):
    form = {}
    for urgency, first, revisit, clock in (("emergency", 1, 4, "around"), ("high", 4, 24, "business"),
                                           ("normal", 24, 72, "around")):
        form.update({f"{urgency}-first_contact_hours": first, f"{urgency}-revisit_hours": revisit,
                     f"{urgency}-clock": clock})
    assert client_for(manager).post(reverse("callbacks:targets"), form).status_code == 302
    assert dict(UrgencyTarget.objects.values_list("urgency", "business_hours")) == {
        "emergency": False, "high": True, "normal": False}
    assert [(c.item, c.before, c.after) for c in setting_changes("urgency_targets")] == [
        ("Normal: clock", "business hours", "around the clock")]
    assert _log(csr, technician).first_contact_due_at == FRIDAY_EVENING + timedelta(hours=24)
