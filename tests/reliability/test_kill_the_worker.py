"""Kill the worker mid-run: SIGKILLed at random points while 200 tasks run, restarted, the worker finishes every
task's work and does none twice; a task that kills its worker every time is refused after MAX_TASK_STARTS starts
(servicedesk/celery.py GuardedTask) instead of crashing workers forever."""

import random
import time

import pytest
import redis

from servicedesk.celery import MAX_TASK_STARTS
from servicedesk.models import TaskStart, WorkerHeartbeat

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TASKS = 200
KILLS = 3


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _done():
    return WorkerHeartbeat.objects.filter(name__startswith="work-").count()


def test_a_worker_killed_three_times_mid_run_still_does_every_task_once(workers, sender, own_redis):
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    for i in range(TASKS):
        sender("tests.reliability.worker_tasks.record_work", f"work-{i:03d}")

    progress = []
    for _ in range(KILLS):
        worker = workers.start("--concurrency", "2")
        before = _done()
        # Somewhere in the middle: once it has got going, after a random share of what is left.
        goal = before + chance.randint(5, max(6, (TASKS - before) // 3))
        assert _wait_for(lambda goal=goal: _done() >= goal, timeout=40), workers.logs()
        workers.kill(worker)
        progress.append(_done())
        time.sleep(2.2)  # past the visibility timeout: what the dead worker held is due to be delivered again
    workers.start("--concurrency", "2")

    assert _wait_for(lambda: _done() == TASKS, timeout=60), (seed, progress, workers.logs())
    broker = redis.Redis.from_url(own_redis.url)
    assert _wait_for(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0, timeout=10)
    starts = int(broker.get("reliability:starts"))
    print(f"seed {seed}: killed after {progress} of {TASKS} done; {starts} starts for {TASKS} tasks")
    names = list(WorkerHeartbeat.objects.filter(name__startswith="work-").values_list("name", flat=True))
    assert sorted(names) == [f"work-{i:03d}" for i in range(TASKS)]
    assert starts >= TASKS
    # Every start counted by the guard was cleared when its task finished; nothing was refused.
    assert not TaskStart.objects.exists()
    assert len(progress) == KILLS and progress[-1] < TASKS


def test_a_task_that_kills_its_worker_every_time_is_refused_after_a_bounded_number_of_starts(workers, sender):
    worker = workers.start("--concurrency", "1")
    crash = sender("tests.reliability.worker_tasks.crash_the_worker")

    assert _wait_for(lambda: TaskStart.objects.filter(task_id=crash.id, refused_at__isnull=False).exists(),
                     timeout=60), workers.logs()
    refused = TaskStart.objects.get(task_id=crash.id)
    assert refused.starts == MAX_TASK_STARTS + 1
    assert refused.task_name == "tests.reliability.worker_tasks.crash_the_worker"
    # The worker goes on with the next work, and the poisonous message is gone for good.
    sender("tests.reliability.worker_tasks.record_work", "after-the-crashes")
    assert _wait_for(lambda: WorkerHeartbeat.objects.filter(name="after-the-crashes").exists(), timeout=20)
    time.sleep(1)
    assert TaskStart.objects.get(task_id=crash.id).starts == MAX_TASK_STARTS + 1
    assert worker.poll() is None
