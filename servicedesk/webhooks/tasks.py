import logging

from celery import shared_task
from django.db import transaction

from .delivery import deliveries_due, delivery_attempt

log = logging.getLogger(__name__)


@shared_task
def deliver(delivery_id):
    """One outbox row, once its change committed; retries come back through the sweep, as rows, not messages."""
    delivery_attempt(delivery_id=delivery_id)


@shared_task
def sweep_webhook_deliveries():
    """Hands every due row to the workers: retries, and first attempts whose message was lost. Run twice at once,
    or beside the workers, each row is still sent once (the claim in delivery_attempt)."""
    due = deliveries_due()
    enqueue(due)
    return len(due)


def enqueue(delivery_ids):
    """Hand deliveries to the workers. A hint only: with the broker down the rows wait for the sweep."""
    for pk in delivery_ids:
        try:
            deliver.delay(pk)
        except Exception:  # the broker's errors vary by transport; the row is the truth either way
            log.warning("Could not enqueue webhook delivery %s; the sweep will send it", pk, exc_info=True)
            return


def enqueue_on_commit(delivery_ids):
    if delivery_ids:
        transaction.on_commit(lambda: enqueue(delivery_ids))
