"""The beat sweeps: each derives what is due from the rows and writes it once, however often it runs."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from callbacks import reminders
from callbacks.follow_ups import services as calls
from callbacks.models import FollowUpCall
from customers.models import Job
from recommendations import sweeps
from servicedesk import roles
from servicedesk.models import Notification
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.callbacks.follow_ups.test_calls_concurrency import _completed_jobs, _in_threads
from tests.factories import JobFactory, TechnicianFactory, UserFactory
from tests.recommendations.factories import RecommendationFactory
from tests.servicedesk.test_worker import worker  # noqa: F401  (the worker fixture)
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def _overdue_callback(hours_overdue=2, **kwargs):
    logged = timezone.now() - timedelta(hours=24 + hours_overdue)
    return CallbackFactory(logged_at=logged, **kwargs)  # normal urgency: first contact due 24 hours after logging


# --- callbacks ------------------------------------------------------------------------------------------------------


def test_an_overdue_first_contact_reminds_the_owner_once_with_a_link_to_the_callback(csr):
    callback = _overdue_callback(assigned_to=csr)
    CallbackFactory(assigned_to=csr)  # due tomorrow

    assert reminders.remind_callback_owners() == 1
    assert reminders.remind_callback_owners() == 0

    reminder = Notification.objects.get()
    assert reminder.recipient == csr and reminder.kind == Kind.REMINDER
    assert reminder.url == callback.get_absolute_url()
    assert f"callback #{callback.pk}" in reminder.text and "first contact overdue" in reminder.text
    assert reminder.key.startswith(f"callback:{callback.pk}:first contact:")


def test_each_new_promise_to_the_customer_is_reminded_afresh(csr):
    callback = _overdue_callback(assigned_to=csr)
    reminders.remind_callback_owners()
    promised = timezone.now() - timedelta(minutes=5)
    type(callback).objects.filter(pk=callback.pk).update(state="acknowledged", next_update_due_at=promised,
                                                         due_at=promised)

    assert reminders.remind_callback_owners() == 1
    assert "customer update overdue" in Notification.objects.latest("pk").text


def test_a_closure_call_due_reminds_the_owner(csr):
    due = timezone.now() - timedelta(minutes=1)
    CallbackFactory(assigned_to=csr, state="resolved", root_cause="workmanship", next_update_due_at=due, due_at=due)

    reminders.remind_callback_owners()

    assert "closure call overdue" in Notification.objects.get(recipient=csr).text


def test_a_twice_overdue_callback_is_escalated_to_every_manager_once(csr, manager):
    _overdue_callback(hours_overdue=2, assigned_to=csr)  # overdue, not yet twice
    late = _overdue_callback(hours_overdue=25, assigned_to=csr)  # past due by more than its 24-hour promise

    assert reminders.escalate_twice_overdue_callbacks() == 1
    assert reminders.escalate_twice_overdue_callbacks() == 0

    escalation = Notification.objects.get(recipient=manager)
    assert escalation.kind == Kind.ESCALATION and escalation.url == late.get_absolute_url()
    assert "Twice overdue" in escalation.text


@pytest.mark.parametrize("due", [1, 20])
def test_callback_sweeps_are_a_fixed_number_of_queries(due, csr, manager, django_assert_num_queries):
    for _ in range(due):
        _overdue_callback(hours_overdue=30, assigned_to=csr)

    # savepoint, the owners' insert, who hears of those nobody owns, one insert for each of them (one CSR), release
    with django_assert_num_queries(5):
        assert reminders.remind_callback_owners() == due
    with django_assert_num_queries(5):  # savepoint, targets, managers, one insert per manager, release
        assert reminders.escalate_twice_overdue_callbacks() == due


# --- recommendations ------------------------------------------------------------------------------------------------


def test_a_follow_up_due_reminds_its_owner_once_per_follow_up_date(sales):
    today = timezone.localdate()
    recommendation = RecommendationFactory(owner=sales, next_follow_up_on=today)
    RecommendationFactory(owner=sales, next_follow_up_on=today + timedelta(days=1))
    RecommendationFactory(owner=sales, next_follow_up_on=today, state="declined", decline_reason="Too dear")

    assert sweeps.remind_follow_ups_due() == 1
    assert sweeps.remind_follow_ups_due() == 0
    reminder = Notification.objects.get()
    assert reminder.recipient == sales and reminder.url == recommendation.get_absolute_url()
    assert recommendation.what in reminder.text

    type(recommendation).objects.filter(pk=recommendation.pk).update(next_follow_up_on=today - timedelta(days=1))
    assert sweeps.remind_follow_ups_due() == 1  # a different date is a different reminder


def test_a_lead_its_owner_left_silent_past_the_follow_up_date_goes_to_the_managers(sales, manager, settings):
    settings.STALE_LEAD_DAYS = 7
    today = timezone.localdate()
    RecommendationFactory(owner=sales, next_follow_up_on=today - timedelta(days=3))
    stale = RecommendationFactory(owner=sales, next_follow_up_on=today - timedelta(days=8))

    assert sweeps.escalate_stale_leads() == 1
    assert sweeps.escalate_stale_leads() == 0
    escalation = Notification.objects.get(recipient=manager)
    assert escalation.kind == Kind.ESCALATION and escalation.url == stale.get_absolute_url()
    assert "owner Sam Park" in escalation.text


@pytest.mark.parametrize("due", [1, 20])
def test_recommendation_sweeps_are_a_fixed_number_of_queries(due, sales, manager, django_assert_num_queries):
    RecommendationFactory.create_batch(due, owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=30))

    # The stamp (returning what a one-item reminder names) and the insert, in a savepoint; the managers first.
    with django_assert_num_queries(4):
        assert sweeps.remind_follow_ups_due() == 1  # one per person per run: a digest when there are several
    with django_assert_num_queries(5):
        assert sweeps.escalate_stale_leads() == 1


def test_a_sweep_finding_many_stale_leads_sends_each_manager_one_digest_not_one_e_mail_each(
    sales, manager, settings, django_capture_on_commit_callbacks
):
    """Issue 18: the first stale-lead sweep sent 970 e-mails (485 leads to each of two managers)."""
    settings.STALE_LEAD_DAYS = 7
    other_manager = UserFactory(role=roles.MANAGER)
    RecommendationFactory.create_batch(30, owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.escalate_stale_leads() == 2

    for person in (manager, other_manager):
        digest = Notification.objects.get(recipient=person)
        assert digest.text == "30 leads are past their follow-up date"
        assert digest.url == reverse("recommendations:list") + "?overdue=true"
    assert sorted(message.to[0] for message in mail.outbox) == sorted([manager.email, other_manager.email])
    assert all("30 leads are past their follow-up date" in message.subject for message in mail.outbox)
    assert sweeps.escalate_stale_leads() == 0  # each lead escalated once per follow-up date


def test_an_owner_with_many_follow_ups_due_gets_one_digest(sales, django_capture_on_commit_callbacks):
    RecommendationFactory.create_batch(12, owner=sales, next_follow_up_on=timezone.localdate())

    with django_capture_on_commit_callbacks(execute=True):
        assert sweeps.remind_follow_ups_due() == 1

    digest = Notification.objects.get()
    assert digest.text == "12 recommendation follow-ups are due" and digest.url == reverse("recommendations:mine")
    [message] = mail.outbox
    assert message.to == [sales.email]


# --- the evening briefing -------------------------------------------------------------------------------------------


def test_a_technician_with_visits_tomorrow_gets_one_digest_of_what_is_open_there(django_capture_on_commit_callbacks):
    technician = TechnicianFactory(email="tom@example.com")
    tomorrow = timezone.localtime() + timedelta(days=1)
    visit = JobFactory(lead_technician=technician, scheduled_start=tomorrow.replace(hour=9, minute=0))
    RecommendationFactory(site=visit.site, what="Replace the cracked heat exchanger")
    CallbackFactory(job=CompletedJobFactory(site=visit.site, equipment=None), problem="Drain still slow")
    JobFactory(scheduled_start=tomorrow + timedelta(days=2))  # another technician, another day

    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_briefing_digests() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.send_briefing_digests() == 0

    digest = Notification.objects.get()
    assert digest.recipient == technician and digest.kind == Kind.BRIEFING
    assert "1 visits, 1 open recommendations, 1 open callbacks" in digest.text
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert visit.customer.name in body and "Replace the cracked heat exchanger" in body and "Drain still slow" in body


# --- e-mail only for what was inserted --------------------------------------------------------------------------


def test_a_sweep_run_twice_sends_each_e_mail_once(csr, django_capture_on_commit_callbacks):
    csr.email = "carla@example.com"
    csr.save()
    _overdue_callback(assigned_to=csr)

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            reminders.remind_callback_owners()

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["carla@example.com"]
    assert "http://" in mail.outbox[0].body  # the link works from the mail client


# --- the queue's housekeeping and the operators' command ------------------------------------------------------------


def test_release_sweep_returns_lapsed_claims_only(csr):
    lapsed = FollowUpCallFactory(state="claimed", claimed_by=csr, claimed_until=timezone.now() - timedelta(seconds=1))
    held = FollowUpCallFactory(state="claimed", claimed_by=csr, claimed_until=timezone.now() + timedelta(minutes=5))

    assert calls.release_abandoned_claims() == 1
    lapsed.refresh_from_db()
    held.refresh_from_db()
    assert lapsed.state == "due" and held.state == "claimed"


def test_operators_run_a_sweep_by_hand(capsys):
    done = timezone.now() - timedelta(days=3)
    CompletedJobFactory(kind=Job.Kind.SERVICE_CALL, scheduled_start=done - timedelta(hours=2), completed_at=done)

    call_command("run_sweep", "schedule-follow-up-calls")

    assert FollowUpCall.objects.count() == 1
    assert "schedule-follow-up-calls: 1" in capsys.readouterr().out


# --- for real: concurrently on PostgreSQL, and run by beat in a Celery worker ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_reminder_sweeps_write_each_reminder_once(postgres, csr, manager, sales):
    for _ in range(20):
        _overdue_callback(hours_overdue=30, assigned_to=csr)
    RecommendationFactory.create_batch(20, owner=sales, next_follow_up_on=timezone.localdate() - timedelta(days=30))

    def sweep(i):
        return (reminders.remind_callback_owners() + reminders.escalate_twice_overdue_callbacks()
                + sweeps.remind_follow_ups_due() + sweeps.escalate_stale_leads())

    _in_threads(10, sweep)

    # Callbacks: one reminder per promise (grouped in the inbox and the e-mail). Recommendations: one digest per
    # person per run, so the runs between them cover each follow-up and each stale lead exactly once.
    assert Notification.objects.filter(key__startswith="callback:").count() == 40
    assert Notification.objects.values("key").distinct().count() == Notification.objects.count()
    digests = Notification.objects.exclude(key__startswith="callback:")
    covered = {"follow-up": 0, "stale": 0}
    for text in digests.values_list("text", flat=True):
        count = int(text.split()[0]) if text[0].isdigit() else 1
        covered["stale" if "lead" in text.lower() else "follow-up"] += count
    assert covered == {"follow-up": 20, "stale": 20}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_in_a_real_worker_schedules_the_follow_up_calls(worker):  # noqa: F811
    _completed_jobs(25)
    # As a manager would in the admin: run the sweep every second rather than every ten minutes.
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="schedule follow-up calls",
        defaults={"task": "callbacks.tasks.schedule_follow_up_calls", "interval": every_second, "crontab": None},
    )

    assert wait_for(lambda: FollowUpCall.objects.count() == 25, timeout=45)
    # Beat keeps running it: later jobs get their calls, and the earlier ones still have exactly one each.
    _completed_jobs(5)
    assert wait_for(lambda: FollowUpCall.objects.count() == 30, timeout=45)
    time.sleep(3)
    assert FollowUpCall.objects.count() == 30
    assert FollowUpCall.objects.values("job").distinct().count() == 30
