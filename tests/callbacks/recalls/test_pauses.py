"""A callback on hold: its clock stops (not overdue, not reminded), what was left of its target runs again when it
is taken off hold by hand or on the expected date (the sweep, run twice, takes it off once), and the dashboard
reports the time on hold per reason."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from callbacks import services
from callbacks.models import Callback, CallbackPause
from callbacks.pauses import callback_pause, callback_resume, resume_due_pauses
from callbacks.reminders import remind_callback_owners
from servicedesk.dashboards.callbacks import CallbackDashboard
from tests.callbacks.factories import targets_in_business_hours
from tests.servicedesk.dashboards.data import completed_job, ranges_and_filters

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
MONDAY_9 = datetime(2026, 10, 19, 9, tzinfo=CHICAGO)


@pytest.fixture(autouse=True)
def _chicago(settings):
    settings.TIME_ZONE, settings.HOLIDAYS_COUNTRY = "America/Chicago", "US"
    # As a manager sets them on the targets page; an emergency stays around the clock.
    targets_in_business_hours("high", "normal")


def test_on_hold_nothing_is_due_and_off_hold_what_was_left_runs_again(csr, technician):
    callback = services.callback_log(job=completed_job(technician), problem="Leak.", channel="phone",
                                     urgency="normal", logged_by=csr, now=MONDAY_9)
    services.callback_acknowledge(callback=callback, by=csr, now=MONDAY_9)
    # The revisit is due after 72 opening hours: Mon 8 h, Tue-Fri 36 h, Mon-Wed 27 h, Thu 1 h: Thu Oct 29, 9 am.
    assert callback.revisit_due_at == datetime(2026, 10, 29, 9, tzinfo=CHICAGO)

    # On hold Tuesday at 9 am (9 opening hours used, 63 left), waiting on a part until Monday the 26th.
    tuesday = MONDAY_9 + timedelta(days=1)
    with pytest.raises(ValidationError, match="expected"):
        callback_pause(callback=callback, by=csr, reason="parts", note="Valve on order.", expected_on=None,
                       now=tuesday)
    callback_pause(callback=callback, by=csr, reason="parts", note="Valve on order.", expected_on=date(2026, 10, 26),
                   now=tuesday)
    callback.refresh_from_db()
    assert callback.due_at is None and callback.clock(now=tuesday + timedelta(days=30)) is None
    assert not Callback.objects.overdue(now=tuesday + timedelta(days=30)).exists()
    assert remind_callback_owners(now=tuesday + timedelta(days=30)) == 0
    with pytest.raises(services.TransitionRefused, match="already on hold"):
        callback_pause(callback=callback, by=csr, reason="customer", note="x", expected_on=date(2026, 10, 26),
                       now=tuesday)

    # The sweep takes it off hold on the expected date, once: the 63 opening hours left run from Mon Oct 26,
    # 8 am: Mon-Fri 45 h, Mon 9 h, Tue 9 h: Tue Nov 3 at 5 pm.
    morning = datetime(2026, 10, 26, 6, tzinfo=CHICAGO)
    assert resume_due_pauses(now=morning - timedelta(days=1)) == 0
    assert resume_due_pauses(now=morning) == 1
    assert resume_due_pauses(now=morning) == 0
    callback.refresh_from_db()
    assert callback.paused_since is None
    assert callback.revisit_due_at == datetime(2026, 11, 3, 17, tzinfo=CHICAGO).astimezone(UTC)
    assert callback.due_at == callback.revisit_due_at
    assert list(callback.events.filter(action__in=["paused", "resumed"]).values_list("action", flat=True)) == [
        "paused", "resumed"]


def test_taken_off_hold_by_hand_and_the_time_on_hold_per_reason(client_for, csr, manager, technician):
    callback = services.callback_log(job=completed_job(technician), problem="Leak.", channel="phone",
                                     urgency="emergency", logged_by=csr)
    office = client_for(csr)
    page = office.post(reverse("callbacks:pause", args=[callback.pk]),
                       {"reason": "customer", "note": "Away until Friday.", "expected_on": "2099-01-01"})
    assert page.status_code == 302
    assert "On hold" in office.get(callback.get_absolute_url()).content.decode()
    pause = CallbackPause.objects.get()
    CallbackPause.objects.filter(pk=pause.pk).update(started_at=pause.started_at - timedelta(hours=5))
    Callback.objects.filter(pk=callback.pk).update(paused_since=pause.started_at - timedelta(hours=5))
    assert office.post(reverse("callbacks:resume", args=[callback.pk])).status_code == 302
    callback.refresh_from_db()
    assert callback.paused_since is None and callback.due_at is not None
    with pytest.raises(services.TransitionRefused, match="not on hold"):
        callback_resume(callback=callback, by=csr)

    rows = CallbackDashboard(ranges_and_filters(technician)[0]).paused().rows
    customer = next(row for row in rows if row["reason"] == "Waiting on the customer")
    assert (customer["holds"], customer["on_hold"]) == (1, 0)
    assert timedelta(hours=5) <= customer["total"] < timedelta(hours=5, minutes=5)


def test_a_callback_resolved_while_on_hold_has_its_closure_call_due_and_the_sweep_only_ends_the_hold(csr, technician):
    callback = services.callback_log(job=completed_job(technician), problem="Leak.", channel="phone",
                                     urgency="normal", logged_by=csr, now=MONDAY_9)
    services.callback_acknowledge(callback=callback, by=csr, now=MONDAY_9)
    callback_pause(callback=callback, by=csr, reason="parts", note="Valve.", expected_on=date(2026, 10, 21),
                   now=MONDAY_9)
    resolved = services.callback_resolve(callback=callback, by=csr, root_cause="workmanship", now=MONDAY_9)
    assert resolved.due_at == MONDAY_9 + timedelta(days=1)  # the closure call
    revisit_due = resolved.revisit_due_at
    assert resume_due_pauses(now=datetime(2026, 10, 21, 6, tzinfo=CHICAGO)) == 1
    resolved.refresh_from_db()
    assert resolved.paused_since is None and resolved.revisit_due_at == revisit_due
