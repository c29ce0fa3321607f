"""Beat sweeps over callbacks and follow-up calls: thin tasks, the work is in follow_ups/services.py and
reminders.py. The follow-up sweeps stay here so their task names (named by deployed beat entries) do not change.

None retries: each is idempotent and the next scheduled run picks up whatever this one missed.
"""

from celery import shared_task

from . import pauses, reminders
from .follow_ups import services as follow_ups
from .recalls import claim_reminders
from .recalls import reminders as recalls


@shared_task
def schedule_follow_up_calls():
    return follow_ups.schedule_follow_up_calls()


@shared_task
def release_abandoned_claims():
    return follow_ups.release_abandoned_claims()


@shared_task
def remind_callback_owners():
    return reminders.remind_callback_owners()


@shared_task
def escalate_twice_overdue_callbacks():
    return reminders.escalate_twice_overdue_callbacks()


@shared_task
def send_briefing_digests():
    return reminders.send_briefing_digests()


@shared_task
def remind_unclassified_callbacks():
    return recalls.remind_unclassified_callbacks()


@shared_task
def remind_warranty_claims():
    return claim_reminders.remind_warranty_claims()


@shared_task
def resume_due_pauses():
    return pauses.resume_due_pauses()
