"""The flat report's background work: thin, the service does it (runs.py)."""

from celery import shared_task

from .runs import report_run


@shared_task
def report_run_task(report_id, write):
    report_run(report_id=report_id, write=write)
