"""Beat sweeps over recommendations: thin tasks, the work is in sweeps.py (idempotent; the next run catches up)."""

from celery import shared_task

from . import sweeps


@shared_task
def remind_follow_ups_due():
    return sweeps.remind_follow_ups_due()


@shared_task
def escalate_stale_leads():
    return sweeps.escalate_stale_leads()


@shared_task
def send_recommendation_reminders():
    from . import reminders

    return reminders.send_recommendation_reminders()


@shared_task
def resend_unsent_reminder_emails():
    from . import reminders

    return reminders.resend_unsent_reminder_emails()


@shared_task
def count_later_visits():
    from . import services

    return services.recommendation_count_later_visits()
