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
from time import monotonic, time

from celery import Celery, Task
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads
from kombu.utils.uuid import uuid

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


# Redis: a worker killed between taking a message off the queue (BRPOP) and writing it to `unacked` (a millisecond
# or two per message) lost it for good, neither queued nor unacked, so nothing ever ran it again. This transport
# takes each message with BRPOPLPUSH into an in-flight list of the consumer's own, atomically, and moves it from
# there to `unacked` in one transaction; the restore sweep that puts back what a dead worker left unacked also puts
# back what it left in flight. One queue per consumer and no message priorities (this app uses neither); other
# set-ups fall back to kombu's BRPOP.
INFLIGHT_INDEX = "_kombu.inflight"  # sorted set: each consumer's in-flight list -> when that consumer last fetched


class _FetchSafeQoS(kombu_redis.QoS):
    def append(self, message, delivery_tag):
        fetched, self.channel._fetched = self.channel._fetched, None
        if fetched is None:
            return super().append(message, delivery_tag)
        inflight, item = fetched
        delivery = message.delivery_info
        with self.pipe_or_acquire() as pipe:  # a MULTI/EXEC: in `unacked` and out of the in-flight list at once
            pipe.zadd(self.unacked_index_key, {delivery_tag: time()}).hset(
                self.unacked_key, delivery_tag, dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
            ).lrem(inflight, 1, item).execute()
        virtual.QoS.append(self, message, delivery_tag)

    def restore_visible(self, start=0, num=10, interval=10):
        sweeps = not self._vrestore_count % (interval or 1)  # the parent's throttle: it sweeps on this call
        super().restore_visible(start, num, interval)
        if sweeps:
            self._restore_abandoned_fetches()

    def _restore_abandoned_fetches(self):
        """Put back the messages of in-flight lists whose consumer has not fetched for longer than the visibility
        timeout (a live consumer marks its list as it sends each fetch, which waits at most brpop_timeout; its
        list is empty between fetches)."""
        channel = self.channel
        stale = time() - max(channel.visibility_timeout, (channel.brpop_timeout or 1) + 1)

        def restore_one(inflight):
            def transaction(pipe):
                raw = pipe.lindex(inflight, -1)
                pipe.multi()
                if raw is None:
                    pipe.zrem(INFLIGHT_INDEX, inflight)
                    return False
                pipe.rpop(inflight)
                payload = loads(bytes_to_str(raw))
                info = payload["properties"]["delivery_info"]
                channel._do_restore_message(payload, info["exchange"], info["routing_key"], pipe)
                return True

            return transaction

        with channel.conn_or_acquire() as client:
            try:
                with kombu_redis.Mutex(client, self.unacked_mutex_key, self.unacked_mutex_expire):
                    for inflight in client.zrange(INFLIGHT_INDEX, 0, stale, byscore=True):
                        while client.transaction(restore_one(inflight), inflight, value_from_callable=True):
                            log.warning("Restored a message a dead worker had taken from the queue: %s", inflight)
            except kombu_redis.MutexHeld:
                pass


class _FetchSafeChannel(kombu_redis.Channel):
    QoS = _FetchSafeQoS
    priority_steps = [0]
    _fetch = None  # (queue, in-flight list) of the BRPOPLPUSH sent, None for a BRPOP
    _fetched = None  # (in-flight list, raw message) being delivered, for QoS.append

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inflight = f"{INFLIGHT_INDEX}.{uuid()}"

    def _brpop_start(self, timeout=None):
        queues = self._queue_cycle.consume(len(self.active_queues))
        if len(queues) != 1 or self.global_keyprefix or len(self.priority_steps) != 1:
            self._fetch = None
            return super()._brpop_start(timeout)
        if timeout is None:
            timeout = self.brpop_timeout
        with self.conn_or_acquire() as client:
            client.zadd(INFLIGHT_INDEX, {self._inflight: time()})
        self._fetch = (queues[0], self._inflight)
        self._in_poll = self.client.connection
        self._brpop_sent_at = monotonic()
        self.client.connection.send_command("BRPOPLPUSH", queues[0], self._inflight, timeout or 0)

    def _brpop_read(self, **options):
        if self._fetch is None:
            return super()._brpop_read(**options)
        (queue, inflight), self._fetch = self._fetch, None
        try:
            try:
                item = self.client.parse_response(self.client.connection, "BRPOPLPUSH", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if item is None:
                raise kombu_redis.Empty()
            self._queue_cycle.rotate(queue)
            self._fetched = (inflight, item)
            try:
                self.connection._deliver(loads(bytes_to_str(item)), queue)
            except Exception:
                self._fetched = None  # left in flight: put back once this consumer is gone
                raise
            if self._fetched is not None:  # delivered without acknowledgement (no_ack): nothing to keep
                self._fetched = None
                with self.conn_or_acquire() as client:
                    client.lrem(inflight, 1, item)
            return True
        finally:
            self._in_poll = None
            self._flush_brpop_reauth()


class FetchSafeRedisTransport(kombu_redis.Transport):
    Channel = _FetchSafeChannel


app = Celery("servicedesk", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _use_fetch_safe_redis(sender, **kwargs):
    url = sender.conf.broker_url
    if isinstance(url, str) and url.startswith(("redis://", "rediss://")) and not sender.conf.broker_transport:
        sender.conf.broker_transport = "servicedesk.celery:FetchSafeRedisTransport"


app.autodiscover_tasks()
# Empty on purpose: given a schedule here, the DatabaseScheduler would overwrite the admin's changes at each start.
app.conf.beat_schedule = {}

# name -> task, when ("every": seconds, or "crontab": fields in the TIME_ZONE setting's local time), and why.
BEAT_SCHEDULE = {
    "record worker heartbeat": {
        "task": "servicedesk.tasks.record_heartbeat",
        # Lets the app show managers when the background worker was last alive, so a stopped
        # worker (no reminders, no follow-up calls queued) is noticed within minutes.
        "every": 60,
    },
    "schedule follow-up calls": {
        "task": "callbacks.tasks.schedule_follow_up_calls",
        # Calls fall due at completion + the rule's days; every ten minutes puts them in the queue
        # soon after, and a run missed (worker down) is made up by the next one.
        "crontab": {"minute": "*/10"},
    },
    "release abandoned call claims": {
        "task": "callbacks.tasks.release_abandoned_claims",
        # A CSR who closed the tab mid-call holds the call until its lease (FOLLOW_UP_CALL_CLAIM_MINUTES)
        # lapses; checking every minute returns it to the queue within a minute of that.
        "every": 60,
    },
    "remind callback owners": {
        "task": "callbacks.tasks.remind_callback_owners",
        # An emergency's first contact is due within the hour, so every five minutes.
        "crontab": {"minute": "*/5"},
    },
    "escalate twice-overdue callbacks": {
        "task": "callbacks.tasks.escalate_twice_overdue_callbacks",
        "crontab": {"minute": "*/5"},
    },
    "remind recommendation follow-ups": {
        "task": "recommendations.tasks.remind_follow_ups_due",
        # Follow-up dates are days, not times: once a morning, before the office opens.
        "crontab": {"minute": "0", "hour": "7"},
    },
    "escalate stale leads": {
        "task": "recommendations.tasks.escalate_stale_leads",
        "crontab": {"minute": "30", "hour": "7"},
    },
    "resend unsent e-mails": {
        "task": "servicedesk.tasks.resend_unsent_emails",
        # A reminder whose e-mail failed (mail server down) stays in the inbox; this sends it once the server is
        # back, within a day. Every ten minutes: soon enough for a reminder, and cheap when nothing is unsent.
        "crontab": {"minute": "*/10"},
    },
    "resend unsent reminder e-mails": {
        "task": "recommendations.tasks.resend_unsent_reminder_emails",
        # The customers' reminder e-mails the mail server refused, once it is back: each exactly once, within a day.
        "crontab": {"minute": "5-59/10"},
    },
    "count visits since recommendations were raised": {
        "task": "recommendations.tasks.count_later_visits",
        # The recommendation dashboard's "visits since raised, never discussed" reads these counts and adds the
        # visits completed since the last run live: exact either way, and fast when this runs often.
        "crontab": {"minute": "*/10"},
    },
    "send recommendation reminders": {
        "task": "recommendations.tasks.send_recommendation_reminders",
        # To customers who opted in; cadences are days, so once a day, mid-morning when people read their mail.
        "crontab": {"minute": "0", "hour": "10"},
    },
    "send technicians' briefing digests": {
        "task": "callbacks.tasks.send_briefing_digests",
        # The evening before, once tomorrow's schedule is settled; read at home or first thing in the van.
        "crontab": {"minute": "0", "hour": "18"},
    },
    "refresh the dashboards' job rollup": {
        "task": "servicedesk.dashboards.rollup.refresh_dashboard_rollup",
        # Recounts the last complete weeks (about 40,000 jobs at a large contractor, a second or less); the
        # current week is always counted live, so this only decides how soon a late-entered job shows. Each run
        # also rolls up a batch of older weeks not counted yet (a fresh install, a bulk import of history).
        "crontab": {"minute": "*/10"},
    },
    "refresh the follow-up dashboard's rollup": {
        "task": "servicedesk.dashboards.follow_up_rollup.refresh_follow_up_rollup",
        # Recounts only the weeks whose calls changed since the last run (a few thousand calls); everything since
        # is counted live, so this only keeps the live part small.
        "crontab": {"minute": "2-59/10"},
    },
    "refresh the callback dashboard's rollup": {
        "task": "servicedesk.dashboards.callback_rollup.refresh_callback_rollup",
        # Recounts only the weeks whose callbacks changed since the last run (logged by the database) and the weeks
        # never counted; those are counted live meanwhile, so this only keeps the live part small.
        "crontab": {"minute": "4-59/10"},
    },
}

# `manage.py run_sweep NAME` -> task
SWEEPS = {
    "schedule-follow-up-calls": "callbacks.tasks.schedule_follow_up_calls",
    "release-abandoned-claims": "callbacks.tasks.release_abandoned_claims",
    "remind-callback-owners": "callbacks.tasks.remind_callback_owners",
    "escalate-twice-overdue-callbacks": "callbacks.tasks.escalate_twice_overdue_callbacks",
    "remind-recommendation-follow-ups": "recommendations.tasks.remind_follow_ups_due",
    "escalate-stale-leads": "recommendations.tasks.escalate_stale_leads",
    "send-briefing-digests": "callbacks.tasks.send_briefing_digests",
    "send-recommendation-reminders": "recommendations.tasks.send_recommendation_reminders",
    "resend-unsent-emails": "servicedesk.tasks.resend_unsent_emails",
    "resend-unsent-reminder-emails": "recommendations.tasks.resend_unsent_reminder_emails",
    "count-later-visits": "recommendations.tasks.count_later_visits",
    "refresh-dashboard-rollup": "servicedesk.dashboards.rollup.refresh_dashboard_rollup",
    "refresh-follow-up-rollup": "servicedesk.dashboards.follow_up_rollup.refresh_follow_up_rollup",
    "refresh-callback-rollup": "servicedesk.dashboards.callback_rollup.refresh_callback_rollup",
}


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
