"""A real Celery worker with embedded beat, on the suite's Redis and PostgreSQL."""

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from servicedesk.models import WorkerHeartbeat
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(postgres, redis_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": redis_url}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "-B", "--pool", "solo",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO", "-s", str(tmp_path / "beat-schedule"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.send_signal(signal.SIGINT)  # warm shutdown, as Ctrl-C in `make run`
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_worker_runs_a_task_sent_from_another_process(worker):
    from servicedesk.tasks import record_heartbeat

    record_heartbeat.delay("from-the-web")

    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="from-the-web").exists())


def test_embedded_beat_runs_a_schedule_a_manager_set_in_the_admin(worker):
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="heartbeat every second", task="servicedesk.tasks.record_heartbeat", args='["beat"]', interval=every_second
    )

    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="beat").exists(), timeout=45)
    first = WorkerHeartbeat.objects.get(name="beat").last_seen
    assert wait_for(lambda: WorkerHeartbeat.objects.get(name="beat").last_seen > first)
