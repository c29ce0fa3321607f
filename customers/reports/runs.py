"""Checking and importing the file of a ReportImport, with its progress and outcome on the record.

A small file is checked and imported in the request; a larger one (over BACKGROUND_BYTES, a few thousand rows) by
a Celery task enqueued on commit, while the import's page polls its progress. The checking pass runs outside any
transaction, so its progress and errors reach the page as they are found; the writing pass is one transaction, so
its progress goes through the cache (shared between the web and the worker in production).
"""

from pathlib import Path

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ..importing import ImportRejected, RowError
from .matching import import_report
from .models import ReportImport
from .services import NeedsDateOrder, report_prepare

_DATES = {"us": ", US dates (month first)", "day": ", day-first dates"}
STORE_DIR = "imports/reports"
ERRORS_SAVED = 500
Status = ReportImport.Status


def progress_key(pk):
    return f"report-import-{pk}"


def progress(report):
    """The import's progress for the page: the cache while a transaction writes, the row otherwise."""
    live = cache.get(progress_key(report.pk)) if report.is_running else None
    if live:
        report.rows_checked, report.rows_written = live["checked"], live["written"]
        report.error_count = max(report.error_count, live["errors"])
    return report


def report_run(*, report_id, write):
    """Checks (and with `write`, imports) the stored file by the import's mapping; the outcome on the record."""
    report = ReportImport.objects.select_related("by").get(pk=report_id)
    try:
        table, fields, orders = report_prepare(source=stored_path(report), sheet=report.sheet, mapping=report.fields,
                                               date_orders=report.date_orders)
    except NeedsDateOrder as asked:
        report.ambiguous_dates, report.status = asked.headers, Status.MAPPING
        report.save(update_fields=["ambiguous_dates", "status"])
        return report
    except ImportRejected as rejected:
        return failed(report, rejected.errors)
    report.ambiguous_dates = []
    report.layout = table.layout + "".join(sorted({_DATES[order] for order in orders.values() if order in _DATES}))
    report.rows = table.estimated_rows()
    ReportImport.objects.filter(pk=report.pk).update(rows=report.rows, layout=report.layout)
    seen = {"errors": 0}

    def tell(outcome, written):
        cache.set(progress_key(report.pk), {"checked": outcome.rows, "written": written,
                                            "errors": outcome.error_count}, 3600)
        if not transaction.get_connection().in_atomic_block or seen["errors"] != outcome.error_count:
            seen["errors"] = outcome.error_count
            ReportImport.objects.filter(pk=report.pk).update(
                rows_checked=outcome.rows, error_count=outcome.error_count, errors=_errors(outcome.errors))

    try:
        outcome = import_report(table=table, mapping=fields, date_orders=orders, resolutions=report.resolutions,
                                write=write, by=report.by, via=report.via, progress=tell)
    except ImportRejected as rejected:  # a file that stops reading halfway (bad bytes, a broken quote)
        return failed(report, rejected.errors)
    except Exception:
        # Not left "being checked" for ever: the record says it stopped, the worker's log says why.
        failed(report, [RowError(0, "The import stopped unexpectedly; nothing was written. Try again, and tell "
                                    "your administrator if it happens again.")])
        raise
    report.rows = report.rows_checked = outcome.rows
    report.counts, report.errors, report.error_count = outcome.counts, _errors(outcome.errors), outcome.error_count
    report.ambiguities = [{"row": a.row, "key": a.key, "name": a.name, "contact": a.contact,
                           "candidates": a.candidates} for a in outcome.ambiguities]
    if outcome.written:
        report.status, report.rows_written, report.finished_at = Status.IMPORTED, outcome.rows, timezone.now()
        _discard(report)
    elif outcome.error_count:
        report.status, report.finished_at = Status.FAILED, timezone.now()
    else:
        report.status = Status.CHECKED
    report.save()
    cache.delete(progress_key(report.pk))
    return report


def _errors(errors):
    return [[error.row, error.column, error.message] for error in errors[:ERRORS_SAVED]]


def failed(report, errors):
    report.status, report.finished_at = Status.FAILED, timezone.now()
    report.errors, report.error_count = _errors(errors), len(errors)
    report.save()
    return report


def stored_path(report):
    return Path(default_storage.path(report.stored_name))


def _discard(report):
    if report.stored_name and default_storage.exists(report.stored_name):
        default_storage.delete(report.stored_name)
