"""Two beats, one slot: every periodic sweep, run ten times at once or from two processes, writes each thing due
once (unique constraints and conditional updates in PostgreSQL, not luck), and e-mails it once."""

import os
import subprocess
import sys
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from django.core import mail

from servicedesk.celery import BEAT_SCHEDULE
from servicedesk.models import Notification
from tests.callbacks.follow_ups.test_calls_concurrency import _in_threads
from tests.reliability.scenario import changed, everything_due, measure, task
from tests.servicedesk.test_worker import _database_url

pytestmark = [pytest.mark.django_db(transaction=True)]

CONCURRENT_RUNS = 10


@pytest.mark.parametrize("name", BEAT_SCHEDULE)
def test_ten_concurrent_runs_of_each_sweep_write_each_thing_due_once(name, postgres):
    expected = everything_due()
    sweep = task(BEAT_SCHEDULE[name]["task"])
    before = measure()

    _in_threads(CONCURRENT_RUNS, lambda i: sweep())

    assert changed(before, measure()) == expected[BEAT_SCHEDULE[name]["task"]]
    # Rerun once more, alone: nothing left to do.
    after = measure()
    sweep()
    assert measure() == after


def test_every_entry_of_the_beat_schedule_is_covered(db):
    assert {entry["task"] for entry in BEAT_SCHEDULE.values()} == set(everything_due())


def _messages_in(folder):
    """Messages the file e-mail backend wrote (one file per connection, messages separated by a rule line)."""
    count = 0
    for path in Path(folder).iterdir():
        count += sum(1 for part in path.read_bytes().split(b"-" * 79) if message_from_bytes(part.strip()).get("To"))
    return count


def test_two_beat_processes_running_every_sweep_at_once_write_and_e_mail_each_thing_once(postgres, tmp_path):
    expected = everything_due()
    before = measure()
    go = tmp_path / "go"
    processes = []
    for i in range(2):
        (tmp_path / f"mail{i}").mkdir()
        env = {**os.environ, "DATABASE_URL": _database_url()}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.beat_process", str(go), "3", str(tmp_path / f"mail{i}")], env=env,
            stderr=subprocess.PIPE, text=True,
        ))
    time.sleep(2)  # both have started Django and are waiting at the line
    go.touch()
    for process in processes:
        assert process.wait(timeout=60) == 0, process.stderr.read()

    every_run = {}
    for changes in expected.values():
        for name, count in changes.items():
            every_run[name] = every_run.get(name, 0) + count
    emails = every_run.pop("e-mails")
    after = measure()
    assert after.pop("e-mails") == before.pop("e-mails") == 0  # the processes' mail went to their folders
    assert changed(before, after) == every_run
    assert _messages_in(tmp_path / "mail0") + _messages_in(tmp_path / "mail1") == emails
    # Every notification meant for e-mail went out; the CSRs' notice of a text unanswered is in-app only (the Texts
    # inbox is where they answer it).
    in_app_only = Notification.objects.filter(kind=Notification.Kind.ASSIGNMENT, text__contains="is unanswered after")
    assert Notification.objects.filter(emailed_at__isnull=True).exclude(pk__in=in_app_only).count() == 0
    assert mail.outbox == []
