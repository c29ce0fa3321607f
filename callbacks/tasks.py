"""Beat sweeps over callbacks and follow-up calls: thin tasks, the work is in calls.py and reminders.py.

None retries: each is idempotent and the next scheduled run picks up whatever this one missed.
"""

from celery import shared_task

from . import calls, reminders


@shared_task
def schedule_follow_up_calls():
    return calls.schedule_follow_up_calls()


@shared_task
def release_abandoned_claims():
    return calls.release_abandoned_claims()


@shared_task
def remind_callback_owners():
    return reminders.remind_callback_owners()


@shared_task
def escalate_twice_overdue_callbacks():
    return reminders.escalate_twice_overdue_callbacks()


@shared_task
def send_briefing_digests():
    return reminders.send_briefing_digests()
