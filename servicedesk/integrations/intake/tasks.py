import logging
import threading

from celery import shared_task
from django.db import transaction

from .services import inbox_event_process, inbox_sweep

log = logging.getLogger(__name__)


@shared_task
def process_inbox_event(event_pk):
    """Process one stored webhook event (no retry here: a failure is kept on the row for a manager to retry)."""
    inbox_event_process(event_pk=event_pk)


@shared_task
def sweep_inbox():
    return inbox_sweep()


def hand_over(event_pks):
    """Tell the worker, once the current transaction commits, of events waiting in the inbox. Only a hint: with the
    broker down nothing is lost (the event is stored and the sweep processes it). Sent from a thread of its own, so
    the dispatch system's request is answered at once even while the broker takes seconds to refuse a connection;
    a process that stops before it is sent loses nothing either."""
    transaction.on_commit(lambda: _off_the_request(
        event_pks, lambda pk: process_inbox_event.apply_async((pk,), retry=False)))


def _off_the_request(event_pks, enqueue):
    def send():
        for pk in event_pks:
            try:
                enqueue(pk)
            except Exception:
                log.warning("Inbox event %s is stored; the worker could not be told (the sweep will process it)", pk,
                            exc_info=True)
                return

    if process_inbox_event.app.conf.task_always_eager:  # run here and now (`make run` eager, the tests)
        send()
    else:
        threading.Thread(target=send, daemon=True, name="inbox-hand-over").start()
