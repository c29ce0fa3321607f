"""The Celery app and the one beat schedule.

Beat uses django-celery-beat's DatabaseScheduler: the schedule lives in the database, where managers change
times or switch an entry off in the admin (Periodic tasks). `sync_beat_schedule` (run after every migrate)
writes the entries below that are missing and leaves the ones that exist alone, so an admin's change survives
restarts and deploys; `manage.py sync_beat_schedule --reset` puts this file's times back.

Every periodic job derives what is due from the database and is safe to run twice, concurrently or late
(DESIGN.md principle 1); each is also runnable by hand: `manage.py run_sweep NAME`.
"""

import logging
import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

log = logging.getLogger(__name__)

# Starts of one message after which a worker refuses it. acks_late + reject_on_worker_lost put a task whose
# worker died back in the queue, which is what saves work from a killed worker; Redis keeps no delivery count,
# so a task that itself kills its worker (out of memory, a crash in a C library) would otherwise loop forever.
MAX_TASK_STARTS = 5


class GuardedTask(Task):
    """The bounded-retry guard: each start of a message is counted in the database (TaskStart, committed before
    the task runs, so a start that kills the worker still counts); past MAX_TASK_STARTS the task is refused,
    logged and acknowledged instead of run. Tasks here are idempotent and periodic ones run again on schedule, so
    a refused run loses nothing that the next one will not do; the row stays for an operator to see."""

    def __call__(self, *args, **kwargs):
        request = self.request
        if request.called_directly or request.is_eager or not request.id:
            return super().__call__(*args, **kwargs)
        from django.db import connection
        from django.utils import timezone

        from .models import TaskStart

        now = timezone.now()
        table = connection.ops.quote_name(TaskStart._meta.db_table)
        with connection.cursor() as cursor:
            # One statement, atomic under concurrency: two workers given the same message count two starts.
            cursor.execute(
                f"INSERT INTO {table} (task_id, task_name, starts, first_started_at, last_started_at) "
                f"VALUES (%s, %s, 1, %s, %s) ON CONFLICT (task_id) DO UPDATE "
                f"SET starts = {table}.starts + 1, last_started_at = EXCLUDED.last_started_at RETURNING starts",
                [request.id, self.name, now, now],
            )
            starts = cursor.fetchone()[0]
        if starts > MAX_TASK_STARTS:
            TaskStart.objects.filter(task_id=request.id).update(refused_at=now)
            log.error("Refused %s[%s]: started %d times, its worker died each time", self.name, request.id, starts)
            return None
        try:
            return super().__call__(*args, **kwargs)
        finally:
            TaskStart.objects.filter(task_id=request.id).delete()


app = Celery("servicedesk", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _use_fetch_safe_redis(sender, **kwargs):
    """On Redis, the transport that loses no message to a worker killed while fetching it (servicedesk/broker.py)."""
    url = sender.conf.broker_url
    if isinstance(url, str) and url.startswith(("redis://", "rediss://")) and not sender.conf.broker_transport:
        sender.conf.broker_transport = "servicedesk.broker:FetchSafeRedisTransport"


app.autodiscover_tasks()
# Empty on purpose: given a schedule here, the DatabaseScheduler would overwrite the admin's changes at each start.
app.conf.beat_schedule = {}

# name -> task, when ("every": seconds, or "crontab": fields in the TIME_ZONE setting's local time), why, and the
# name `manage.py run_sweep` knows it by ("sweep"): the one list of periodic work, for beat and for operators.
BEAT_SCHEDULE = {
    "record worker heartbeat": {
        "task": "servicedesk.tasks.record_heartbeat",
        # Lets the app show managers when the background worker was last alive, so a stopped
        # worker (no reminders, no follow-up calls queued) is noticed within minutes.
        "every": 60,
    },
    "schedule follow-up calls": {
        "task": "callbacks.tasks.schedule_follow_up_calls",
        "sweep": "schedule-follow-up-calls",
        # Calls fall due at completion + the rule's days; every ten minutes puts them in the queue
        # soon after, and a run missed (worker down) is made up by the next one.
        "crontab": {"minute": "*/10"},
    },
    "release abandoned call claims": {
        "task": "callbacks.tasks.release_abandoned_claims",
        "sweep": "release-abandoned-claims",
        # A CSR who closed the tab mid-call holds the call until its lease (FOLLOW_UP_CALL_CLAIM_MINUTES)
        # lapses; checking every minute returns it to the queue within a minute of that.
        "every": 60,
    },
    "remind callback owners": {
        "task": "callbacks.tasks.remind_callback_owners",
        "sweep": "remind-callback-owners",
        # An emergency's first contact is due within the hour, so every five minutes.
        "crontab": {"minute": "*/5"},
    },
    "escalate twice-overdue callbacks": {
        "task": "callbacks.tasks.escalate_twice_overdue_callbacks",
        "sweep": "escalate-twice-overdue-callbacks",
        "crontab": {"minute": "*/5"},
    },
    "remind unclassified potential callbacks": {
        "task": "callbacks.tasks.remind_unclassified_callbacks",
        "sweep": "remind-unclassified-callbacks",
        # Counted in days after the revisit: hourly is prompt enough.
        "crontab": {"minute": "20"},
    },
    "take callbacks off hold": {
        "task": "callbacks.tasks.resume_due_pauses",
        "sweep": "resume-due-pauses",
        # Expected dates are days: early each morning, so the day's clocks run from the office's opening.
        "crontab": {"minute": "10", "hour": "6"},
    },
    "remind warranty claims": {
        "task": "callbacks.tasks.remind_warranty_claims",
        "sweep": "remind-warranty-claims",
        # Counted in days: once a morning, before the office opens.
        "crontab": {"minute": "40", "hour": "7"},
    },
    "remind recommendation follow-ups": {
        "task": "recommendations.tasks.remind_follow_ups_due",
        "sweep": "remind-recommendation-follow-ups",
        # Follow-up dates are days, not times: once a morning, before the office opens.
        "crontab": {"minute": "0", "hour": "7"},
    },
    "escalate stale leads": {
        "task": "recommendations.tasks.escalate_stale_leads",
        "sweep": "escalate-stale-leads",
        "crontab": {"minute": "30", "hour": "7"},
    },
    "resend unsent e-mails": {
        "task": "servicedesk.tasks.resend_unsent_emails",
        "sweep": "resend-unsent-emails",
        # A reminder whose e-mail failed (mail server down) stays in the inbox; this sends it once the server is
        # back, within a day. Every ten minutes: soon enough for a reminder, and cheap when nothing is unsent.
        "crontab": {"minute": "*/10"},
    },
    "resend unsent reminder e-mails": {
        "task": "recommendations.tasks.resend_unsent_reminder_emails",
        "sweep": "resend-unsent-reminder-emails",
        # The customers' reminder e-mails the mail server refused, once it is back: each exactly once, within a day.
        "crontab": {"minute": "5-59/10"},
    },
    "count visits since recommendations were raised": {
        "task": "recommendations.tasks.count_later_visits",
        "sweep": "count-later-visits",
        # The recommendation dashboard's "visits since raised, never discussed" reads these counts and adds the
        # visits completed since the last run live: exact either way, and fast when this runs often.
        "crontab": {"minute": "*/10"},
    },
    "send recommendation reminders": {
        "task": "recommendations.tasks.send_recommendation_reminders",
        "sweep": "send-recommendation-reminders",
        # To customers who opted in; cadences are days, so once a day, mid-morning when people read their mail.
        "crontab": {"minute": "0", "hour": "10"},
    },
    "send review requests": {
        "task": "customers.tasks.send_review_requests",
        "sweep": "send-review-requests",
        # Every completed visit's neutral review request (customers/reviews.py), a manager's number of days after
        # the visit; hourly is prompt enough for a delay counted in days, and each run also sends again, within a
        # day, what the mail server refused.
        "crontab": {"minute": "15"},
    },
    "send technicians' briefing digests": {
        "task": "callbacks.tasks.send_briefing_digests",
        "sweep": "send-briefing-digests",
        # The evening before, once tomorrow's schedule is settled; read at home or first thing in the van.
        "crontab": {"minute": "0", "hour": "18"},
    },
    "refresh the dashboards' job rollup": {
        "task": "servicedesk.dashboards.rollup.refresh_dashboard_rollup",
        "sweep": "refresh-dashboard-rollup",
        # Recounts the last complete weeks (about 40,000 jobs at a large contractor, a second or less); the
        # current week is always counted live, so this only decides how soon a late-entered job shows. Each run
        # also rolls up a batch of older weeks not counted yet (a fresh install, a bulk import of history).
        "crontab": {"minute": "*/10"},
    },
    "refresh the follow-up dashboard's rollup": {
        "task": "servicedesk.dashboards.follow_up_rollup.refresh_follow_up_rollup",
        "sweep": "refresh-follow-up-rollup",
        # Recounts only the weeks whose calls changed since the last run (a few thousand calls); everything since
        # is counted live, so this only keeps the live part small.
        "crontab": {"minute": "2-59/10"},
    },
    "refresh the callback dashboard's rollup": {
        "task": "servicedesk.dashboards.callback_rollup.refresh_callback_rollup",
        "sweep": "refresh-callback-rollup",
        # Recounts only the weeks whose callbacks changed since the last run (logged by the database) and the weeks
        # never counted; those are counted live meanwhile, so this only keeps the live part small.
        "crontab": {"minute": "4-59/10"},
    },
    "process waiting webhook events": {
        "task": "servicedesk.integrations.intake.tasks.sweep_inbox",
        "sweep": "process-webhook-inbox",
        # A stored webhook event is handed to the worker at once; one still waiting a minute later (the message
        # lost, the broker down while it arrived) is processed by this, so within two minutes at most.
        "every": 60,
    },
    "send webhook deliveries due": {
        "task": "servicedesk.webhooks.tasks.sweep_webhook_deliveries",
        "sweep": "send-webhook-deliveries",
        # Retries fall due as rows (30 s after a first failure), and a delivery whose message was lost with Redis
        # or a killed worker is found here: every 30 seconds keeps the shortest retry close to its time.
        "every": 30,
    },
    "send due texts": {
        "task": "servicedesk.texting.tasks.send_due_texts",
        "sweep": "send-due-texts",
        # Texts held for quiet hours go at their end (08:00), and a text whose task was lost goes within minutes.
        "every": 60,
    },
    "escalate unanswered texts": {
        "task": "servicedesk.texting.tasks.escalate_unanswered_texts",
        "sweep": "escalate-unanswered-texts",
        # A reply is due an answer within TEXT_ANSWER_MINUTES (15 by default): checked every minute.
        "every": 60,
    },
    "send post-visit texts": {
        "task": "servicedesk.texting.tasks.send_post_visit_texts",
        "sweep": "send-post-visit-texts",
        # Right after the follow-up calls are scheduled: customers who prefer texts get the question instead.
        "crontab": {"minute": "1-59/10"},
    },
}

# `manage.py run_sweep NAME` -> task: every entry that names a sweep (all but the heartbeat).
SWEEPS = {entry["sweep"]: entry["task"] for entry in BEAT_SCHEDULE.values() if "sweep" in entry}


def sync_beat_schedule(reset=False, **kwargs):
    """Write BEAT_SCHEDULE into django-celery-beat's tables: missing entries only, or every one with `reset`."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    written = []
    for name, entry in BEAT_SCHEDULE.items():
        if "every" in entry:
            interval, _ = IntervalSchedule.objects.get_or_create(every=entry["every"], period=IntervalSchedule.SECONDS)
            when = {"interval": interval, "crontab": None}
        else:
            fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*",
                      **entry["crontab"]}
            crontab = CrontabSchedule.objects.filter(timezone=settings.TIME_ZONE, **fields).first()
            crontab = crontab or CrontabSchedule.objects.create(timezone=settings.TIME_ZONE, **fields)
            when = {"crontab": crontab, "interval": None}
        defaults = {"task": entry["task"], **when}
        if reset:
            PeriodicTask.objects.update_or_create(name=name, defaults={**defaults, "enabled": True})
            written.append(name)
        elif not PeriodicTask.objects.filter(name=name).exists():
            PeriodicTask.objects.create(name=name, **defaults)
            written.append(name)
    return written
