"""Beat sweeps over customers' visits: thin tasks, the work is in reviews.py (idempotent; the next run catches up)."""

from celery import shared_task

from . import reviews


@shared_task
def send_review_requests():
    return reviews.send_review_requests()


# Large flat jobs reports are checked and imported by a worker (customers/reports/tasks.py).
from .reports.tasks import report_run_task  # noqa: E402, F401
