"""Kill the worker mid-run: SIGKILLed at random points while 200 tasks run, restarted, the worker finishes every
task's work and does none twice; a task that kills its worker every time is refused after MAX_TASK_STARTS starts
(servicedesk/celery.py GuardedTask) instead of crashing workers forever."""

import json
import os
import random
import time

import pytest
import redis

from servicedesk.celery import MAX_TASK_STARTS
from servicedesk.models import TaskStart, WorkerHeartbeat
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TASKS = 200
KILLS = 3


def _done():
    return WorkerHeartbeat.objects.filter(name__startswith="work-").count()


def _wait_for_progress(count, goal, stall, limit):
    """Until count() reaches goal; gives up after `stall` seconds without progress (or `limit` in all), so a slow
    machine is waited for but a task that is gone for good is not."""
    deadline, last, since = time.monotonic() + limit, None, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < stall:
        now = count()
        if now >= goal:
            return True
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(0.1)
    return False


def _diagnosis(broker, workers, sent, **facts):
    """Where each task not done is: still queued, delivered and unacknowledged, taken by a worker that died before
    it was in `unacked` (an in-flight list), or nowhere (lost); its starts counted by the guard; the worker logs."""
    done = set(WorkerHeartbeat.objects.filter(name__startswith="work-").values_list("name", flat=True))
    queued = {json.loads(raw)["headers"]["id"] for raw in broker.lrange("celery", 0, -1)}
    unacked = {json.loads(value)[0]["headers"]["id"] for value in broker.hvals("unacked")}
    in_flight = {json.loads(raw)["headers"]["id"] for key in broker.zrange("_kombu.inflight", 0, -1)
                 for raw in broker.lrange(key, 0, -1)}
    starts = {row.task_id: row for row in TaskStart.objects.all()}
    missing = []
    for name, task_id in sorted(sent.items()):
        if name not in done:
            where = ("queued" if task_id in queued else "unacked" if task_id in unacked
                     else "in flight" if task_id in in_flight else "nowhere")
            row = starts.get(task_id)
            counted = "no start counted" if row is None else f"{row.starts} starts, refused_at={row.refused_at}"
            missing.append(f"{name} {task_id}: {where}, {counted}")
    logs = []
    for path in sorted(workers.tmp_path.glob("worker*.log"), key=lambda p: int(p.stem[6:])):
        lines = path.read_text().splitlines()
        about = [line for line in lines if any(task_id in line for task_id in
                                                  (sent[m.split()[0]] for m in missing))]
        worth = [line for line in lines if "ERROR" in line or "WARNING" in line or "Refused" in line]
        logs.append("\n".join([f"--- {path.name}: {len(lines)} lines; on the missing tasks:", *about,
                                "(errors and warnings)", *worth[-20:], "(last lines)", *lines[-15:]]))
    return "\n".join([
        *(f"{key}: {value}" for key, value in facts.items()),
        f"done {len(done)} of {len(sent)}; queue {broker.llen('celery')}, unacked {broker.hlen('unacked')}, "
        f"starts {broker.get('reliability:starts')}, unacked_mutex ttl {broker.ttl('unacked_mutex')}",
        "not done:", *missing, *logs,
    ])


def test_a_worker_killed_three_times_mid_run_still_does_every_task_once(workers, sender, own_redis):
    seed = int(os.environ.get("RELIABILITY_SEED") or random.randrange(1_000_000))  # to replay a failure's kills
    chance = random.Random(seed)
    sent = {f"work-{i:03d}": sender("tests.reliability.worker_tasks.record_work", f"work-{i:03d}").id
            for i in range(TASKS)}
    broker = redis.Redis.from_url(own_redis.url)

    progress = []
    for _ in range(KILLS):
        worker = workers.start("--concurrency", "2")
        before = _done()
        # Somewhere in the middle: once it has got going, after a random share of what is left.
        goal = before + chance.randint(5, max(6, (TASKS - before) // 3))
        assert wait_for(lambda goal=goal: _done() >= goal, timeout=40), _diagnosis(broker, workers, sent, seed=seed)
        workers.kill(worker)
        progress.append(_done())
        time.sleep(2.2)  # past the visibility timeout: what the dead worker held is due to be delivered again
    workers.start("--concurrency", "2")

    assert _wait_for_progress(_done, TASKS, stall=30, limit=180), _diagnosis(
        broker, workers, sent, seed=seed, killed_after=progress)
    assert wait_for(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0, timeout=10), _diagnosis(
        broker, workers, sent, seed=seed, killed_after=progress)
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

    assert wait_for(lambda: TaskStart.objects.filter(task_id=crash.id, refused_at__isnull=False).exists(),
                     timeout=60), workers.logs()
    refused = TaskStart.objects.get(task_id=crash.id)
    assert refused.starts == MAX_TASK_STARTS + 1
    assert refused.task_name == "tests.reliability.worker_tasks.crash_the_worker"
    # The worker goes on with the next work, and the poisonous message is gone for good.
    sender("tests.reliability.worker_tasks.record_work", "after-the-crashes")
    assert wait_for(lambda: WorkerHeartbeat.objects.filter(name="after-the-crashes").exists(), timeout=20)
    time.sleep(1)
    assert TaskStart.objects.get(task_id=crash.id).starts == MAX_TASK_STARTS + 1
    assert worker.poll() is None
