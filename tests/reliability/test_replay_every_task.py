"""Replay every task: each Celery task of the project run twice, and run again after failing half-way (at each of
its writes in turn, or in the e-mail send), produces each side effect once: a row once, an e-mail never twice."""

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from customers.models import ReviewRequest
from customers.reviews import send_review_emails
from recommendations.models import CustomerReminder
from recommendations.reminders import RESEND_AFTER as REMINDER_RESEND_AFTER
from recommendations.reminders import resend_unsent_reminder_emails
from servicedesk.celery import BEAT_SCHEDULE, app
from servicedesk.models import Notification
from servicedesk.notifications import RESEND_AFTER, resend_unsent_emails
from tests.reliability.scenario import changed, everything_due, measure
from tests.reliability.scenario import task as task_named

pytestmark = [pytest.mark.django_db]

WRITES = ("INSERT", "UPDATE", "DELETE")


def _is_write(sql):
    """A write statement, including a data-modifying CTE (WITH marked AS (UPDATE ...) INSERT ...)."""
    sql = sql.lstrip().upper()
    return sql.startswith(WRITES) or (sql.startswith("WITH") and any(f"{word} " in sql for word in WRITES))


def project_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith(("celery.", "tests.")))


class _Rollback(Exception):
    pass


def _writes_of(task):
    """How many INSERT/UPDATE/DELETE statements one run makes (the run is rolled back)."""
    writes = []

    def count(execute, sql, params, many, context):
        if _is_write(sql):
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        try:
            with transaction.atomic():
                task()
                raise _Rollback
        except _Rollback:
            pass
    return len(writes)


def _failing_at(k):
    """Raise on the k-th write, as if the database went away (or the worker died) just then."""
    seen = 0

    def fail(execute, sql, params, many, context):
        nonlocal seen
        if _is_write(sql):
            seen += 1
            if seen == k:
                raise DatabaseError("injected failure half-way")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(fail)


SCHEDULED = sorted({entry["task"] for entry in BEAT_SCHEDULE.values()})
# Tasks enqueued after a commit, not by beat: a staff notification's e-mail (tests/servicedesk/test_notifications.py
# sends it twice and once after the server failed); what it leaves unsent is the resend sweep's, replayed here.
ENQUEUED = ["servicedesk.notifications.send_notification_emails",
            # A stored webhook event's processing: a hint only, what it misses is the inbox sweep's, replayed here.
            "servicedesk.integrations.intake.tasks.process_inbox_event",
            # A webhook delivery's task is the same claim and post the sweep's tasks run (tests/servicedesk/webhooks).
            "servicedesk.webhooks.tasks.deliver",
            # A jobs report checked or imported in the background: all or nothing in one transaction, and importing
            # the same file again changes nothing (tests/customers/reports/test_flat_import.py).
            "customers.reports.tasks.report_run_task",
            # A text handed to the provider (claimed by a conditional update: sent once) and an inbound text routed
            # to its owner: what either misses is the send sweep's or the escalation sweep's, replayed here
            # (tests/servicedesk/texting).
            "servicedesk.texting.services.deliver_text", "servicedesk.texting.inbound.route_text"]


def test_every_task_of_the_project_is_replayed_here(db):
    """A new task needs a row in tests/reliability/scenario.py: what one run of it must change."""
    assert sorted(everything_due()) == SCHEDULED
    assert project_tasks() == sorted(SCHEDULED + ENQUEUED), "tasks without a replay scenario: " + ", ".join(
        sorted(set(project_tasks()) - set(SCHEDULED + ENQUEUED)))


@pytest.mark.parametrize("name", SCHEDULED)
def test_a_task_run_twice_or_again_after_failing_at_any_write_does_its_work_once(
    name, django_capture_on_commit_callbacks
):
    expected = everything_due()[name]
    task = task_named(name)
    writes = _writes_of(task)
    before = measure()
    assert writes >= 1

    for k in range(1, writes + 1):
        with pytest.raises(DatabaseError), _failing_at(k), django_capture_on_commit_callbacks(execute=True):
            # Its own transaction, as on a worker in autocommit (the test itself runs inside one).
            with transaction.atomic():
                task()
        # Every write before the failure was in the same transaction: nothing is left half done.
        assert measure() == before, f"write {k} of {writes}"
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            task()

    assert changed(before, measure()) == expected


def test_a_task_whose_e_mail_failed_writes_its_rows_once_and_the_e_mail_goes_later_once(
    django_capture_on_commit_callbacks,
):
    """The mail server refused: the rows stay (the inbox has every reminder, and each customer reminder is
    recorded), a rerun of the task sends nothing again, and once the server is back the resend sweeps e-mail each
    staff notification and each customer reminder exactly once."""
    expected = everything_due()
    emailing = [name for name, changes in expected.items() if "e-mails" in changes]
    # The review request sweep sends again, each run, what the mail server refused: it is its own resend sweep.
    resends = ["servicedesk.tasks.resend_unsent_emails", "recommendations.tasks.resend_unsent_reminder_emails",
               "customers.tasks.send_review_requests"]
    assert len(emailing) == 11 and set(resends) <= set(emailing)
    before = measure()

    refused = smtplib.SMTPServerDisconnected("injected: the mail server went away")
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused):
        for name in emailing:
            with django_capture_on_commit_callbacks(execute=True):
                task_named(name)()
    for _ in range(2):
        for name in emailing:
            if name in resends:
                continue  # run below, once the e-mails are old enough for them
            with django_capture_on_commit_callbacks(execute=True):
                task_named(name)()

    rows = {}
    for name in emailing:
        for column, count in expected[name].items():
            rows[column] = rows.get(column, 0) + count
    rows.pop("e-mails")
    rows.pop("e-mailed customer reminders")
    rows.pop("e-mailed review requests")
    assert changed(before, measure()) == rows
    assert mail.outbox == []
    assert not Notification.objects.exclude(emailed_at=None).exists()
    assert not CustomerReminder.objects.exclude(emailed_at=None).exists()
    assert not ReviewRequest.objects.exclude(emailed_at=None).exists()

    later = timezone.now() + max(RESEND_AFTER, REMINDER_RESEND_AFTER)
    for _ in range(2):
        resend_unsent_emails(now=later)
        resend_unsent_reminder_emails(now=later)
        send_review_emails(now=later)

    # Once each, and one e-mail per person per batch: each staff member's notifications in one digest, each
    # customer's reminders in one e-mail, each review request its own.
    emails = (Notification.objects.values("recipient").distinct().count()
              + CustomerReminder.objects.values("customer").distinct().count()
              + ReviewRequest.objects.filter(skipped="").count())
    assert len(mail.outbox) == emails
    assert not Notification.objects.filter(emailed_at=None).exists()
    assert not CustomerReminder.objects.filter(emailed_at=None).exists()
    assert not ReviewRequest.objects.filter(skipped="", emailed_at=None).exists()
    assert len({(message.to[0], message.subject, message.body) for message in mail.outbox}) == emails
