"""Issue 18, points 2 and 10: a notification's e-mail goes from a worker after commit, never from the request, so a
slow or silent mail server cannot slow a page or turn a saved change into an error page."""

import os
import signal
import subprocess
import sys

import pytest
from django.db import connection, transaction

from servicedesk.models import Notification
from servicedesk.notifications import notify
from tests.servicedesk.test_notifications import smtp_server  # noqa: F401 (the fixture)
from tests.waiting import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _start_worker(redis_url, port):
    db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CELERY_BROKER_URL": redis_url, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "servicedesk", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--loglevel", "INFO"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def test_a_notification_e_mail_is_sent_by_the_worker_after_commit_not_by_the_request(
    postgres, redis_url, manager, smtp_server  # noqa: F811
):
    with transaction.atomic():
        notify(users=[manager], text="Callback #7 reopened (Ann Smith): still leaking", email=True)

    # Committed, and nothing sent by this process: the e-mail waits in the queue for a worker.
    notification = Notification.objects.get()
    assert notification.emailed_at is None and smtp_server.envelopes == []

    worker = _start_worker(redis_url, smtp_server.port)
    try:
        assert wait_for(lambda: len(smtp_server.envelopes) == 1, timeout=60)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert smtp_server.envelopes[0].rcpt_tos == [manager.email]
    notification.refresh_from_db()
    assert notification.emailed_at is not None
