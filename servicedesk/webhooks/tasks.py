import logging
from datetime import datetime

from celery import shared_task
from django.db import transaction

from .delivery import deliveries_claim_due, delivery_attempt

log = logging.getLogger(__name__)


@shared_task
def deliver(delivery_id, claim=None):
    """One outbox row: sent once its change committed, or handed over by the sweep with the sweep's claim on it.
    Retries come back through the sweep, as due times in rows, not as messages waiting in the broker."""
    delivery_attempt(delivery_id=delivery_id, claim=datetime.fromisoformat(claim) if claim else None)


@shared_task
def sweep_webhook_deliveries():
    """Hands every due row to the workers: retries, and first attempts whose message was lost. Run twice at once,
    or beside the workers, each row is still sent once (the claims in delivery.py)."""
    ids, claim = deliveries_claim_due()
    enqueue_on_commit(ids, claim=claim)
    return len(ids)


def _enqueue(send, delivery_ids):
    for pk in delivery_ids:
        try:
            send(pk)
        except Exception:  # the broker's errors vary by transport; the row is the truth either way
            log.warning("Could not enqueue webhook delivery %s; the sweep will send it", pk, exc_info=True)
            return


def enqueue_on_commit(delivery_ids, *, claim=None):
    """Hand deliveries to the workers once the rows are committed. A hint only: with the broker down the rows wait
    for the sweep."""
    if delivery_ids:
        claim = claim.isoformat() if claim else None
        transaction.on_commit(lambda: _enqueue(lambda pk: deliver.delay(pk, claim), delivery_ids))
