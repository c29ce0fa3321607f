"""Test-only tasks for the real workers of tests/reliability (imported with `celery worker -I`)."""

import os
import time

import redis
from celery import shared_task
from django.utils import timezone

from servicedesk.models import WorkerHeartbeat


@shared_task
def record_work(name, seconds=0.05):
    """Idempotent work that takes a moment, so a SIGKILL lands in the middle of some: one row per name."""
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).incr("reliability:starts")
    time.sleep(seconds)
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


@shared_task
def crash_the_worker():
    """A poisonous message: the process running it dies every time (as out of memory, or a crash in C)."""
    os._exit(1)
