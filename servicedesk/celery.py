"""The Celery app and the one beat schedule.

Beat uses django-celery-beat's DatabaseScheduler so managers can change times in the admin;
`sync_beat_schedule` (run by migrate) writes the entries below into it. Every periodic job
derives what is due from the database and is safe to run twice (see DESIGN.md).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# name -> (task, crontab kwargs or seconds, why). Later issues add their sweeps here.
BEAT_SCHEDULE = {
    "record worker heartbeat": {
        "task": "servicedesk.tasks.record_heartbeat",
        # Lets the app show managers when the background worker was last alive, so a stopped
        # worker (no reminders, no follow-up calls queued) is noticed within minutes.
        "schedule": 60.0,
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
