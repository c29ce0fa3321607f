"""No long ETAs: delays live in the database as due times, never in the broker. A task held by Redis past its
visibility timeout is delivered a second time, so the code is scanned for countdowns and ETAs; every enqueue
happens after commit (a worker must never look for a row that is not committed yet, or was rolled back)."""

import ast
from pathlib import Path

from django.conf import settings

from servicedesk.celery import app

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "node_modules", "var", ".git", "static", "staticfiles"}
ENQUEUE = {"delay", "apply_async", "send_task", "signature", "s", "si"}
# Redis redelivers a message not acknowledged within the visibility timeout, and a countdown counts against it
# (the message is reserved while it waits). A tenth of it leaves room for the task to run; anything longer is a
# schedule, and schedules are due times in the database.
VISIBILITY_TIMEOUT = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
MAX_COUNTDOWN_SECONDS = VISIBILITY_TIMEOUT / 10


def project_sources():
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def _is_on_commit(node):
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "on_commit") or (
        isinstance(func, ast.Name) and func.id == "on_commit"
    )


def problems_in(source, filename="<source>"):
    """Every enqueue with an ETA or a long/unknown countdown, and every enqueue not inside on_commit(...)."""
    tree = ast.parse(source, filename)
    inside_on_commit = set()
    for node in ast.walk(tree):
        if _is_on_commit(node):
            inside_on_commit.update(id(inner) for argument in node.args for inner in ast.walk(argument))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ENQUEUE or (node.func.attr in {"s", "si", "signature"} and not node.keywords):
            continue
        where = f"{filename}:{node.lineno}"
        for keyword in node.keywords:
            if keyword.arg == "eta":
                found.append(f"{where}: eta= (a due time belongs in the database)")
            elif keyword.arg == "countdown":
                value = keyword.value
                if not (isinstance(value, ast.Constant) and isinstance(value.value, int | float)):
                    found.append(f"{where}: countdown= that is not a literal number of seconds")
                elif value.value > MAX_COUNTDOWN_SECONDS:
                    found.append(f"{where}: countdown={value.value} s (a due time belongs in the database)")
            elif keyword.arg == "expires":
                found.append(f"{where}: expires= (a task that must not run late derives that from the database)")
        if node.func.attr in {"delay", "apply_async", "send_task"} and id(node) not in inside_on_commit:
            found.append(f"{where}: .{node.func.attr}() outside transaction.on_commit(...)")
    return found


def test_nothing_is_enqueued_with_an_eta_or_long_countdown_or_before_commit():
    sources = list(project_sources())
    assert len(sources) > 50  # the scan really covers the project

    found = [problem for path in sources for problem in problems_in(path.read_text(), str(path.relative_to(ROOT)))]

    assert found == []


def test_the_scan_catches_what_it_looks_for():
    source = """
from django.db import transaction
def bad(job):
    remind.apply_async(args=[job.pk], countdown=2 * 86400)
    remind.apply_async(args=[job.pk], eta=job.due_at)
    remind.apply_async(args=[job.pk], countdown=NEAR_TIMEOUT)
    remind.apply_async(args=[job.pk], expires=60)
    remind.delay(job.pk)
def good(job):
    transaction.on_commit(lambda: remind.delay(job.pk))
    transaction.on_commit(lambda: remind.apply_async(args=[job.pk], countdown=30))
"""
    found = problems_in(source.replace("NEAR_TIMEOUT", str(int(VISIBILITY_TIMEOUT) - 60)))

    assert [line.split(": ", 1)[0] for line in found] == [
        "<source>:4", "<source>:4", "<source>:5", "<source>:5", "<source>:6", "<source>:6", "<source>:7", "<source>:7",
        "<source>:8",
    ]


def test_the_broker_redelivers_only_what_a_dead_worker_lost():
    # Acknowledged after the task ran, and put back if its worker died: a task is never lost with a worker.
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    # One message at a time per worker process: a killed worker holds no queue of unstarted tasks hostage.
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert app.conf.task_acks_late is True and app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    # Redelivery after the visibility timeout is safe only because no task waits or runs in Redis that long;
    # the longest sweep takes seconds.
    assert VISIBILITY_TIMEOUT >= 600
