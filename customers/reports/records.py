"""Each import of a flat jobs report as a record (ReportImport), from upload to imported: the page and the nightly
command go through these services; the work itself is runs.py, in the request for a small file, else on a worker.
"""

import secrets
from pathlib import Path

from django.core.cache import cache
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from servicedesk.audit import Via, setting_changes_record

from ..importing import ImportRejected
from .mapping import BY_KEY, header_signature, mapping_problems, recognise
from .models import ReportImport, ReportMapping
from .reading import read_table
from .runs import STORE_DIR, failed, progress_key, report_run, stored_path
from .tasks import report_run_task

# A few thousand rows: a larger file is checked and imported by a worker while its page shows the progress.
BACKGROUND_BYTES = 512 * 1024
Status = ReportImport.Status


def report_upload(*, name, content, by=None, via=Via.IMPORT, mapping=None, inline=False):
    """Keeps the file and reads its header: a file that is not a table fails here; a workbook with several sheets
    waits for the sheet; a file whose headers a saved mapping knows (or `mapping`, by the command) is checked at
    once; any other waits for its columns to be mapped."""
    suffix = Path(name).suffix.lower()[:10]
    content = content if isinstance(content, File) else ContentFile(content)
    stored = default_storage.save(f"{STORE_DIR}/{secrets.token_urlsafe(18)}{suffix}", content)
    report = ReportImport.objects.create(file_name=Path(name).name[:255], stored_name=stored,
                                         size=default_storage.size(stored), by=by, via=via)
    return report_read(report=report, mapping=mapping, inline=inline)


def report_read(*, report, mapping=None, inline=False):
    try:
        table = read_table(stored_path(report), sheet=report.sheet)
    except ImportRejected as rejected:
        report.sheets = getattr(rejected, "sheets", [])
        if report.sheets:
            report.status = Status.MAPPING
            report.save(update_fields=["sheets", "status"])
            return report
        return failed(report, rejected.errors)
    report.layout = table.layout
    report.sheets = table.sheets
    mapping = mapping or ReportMapping.objects.filter(signature=header_signature(table.headers)).order_by(
        "-saved_at").first()
    if mapping:
        report.mapping = mapping
        report.fields = {header: mapping.fields.get(header, "") for header in table.headers}
        report.date_orders = dict(mapping.date_orders)
    else:
        report.fields = recognise(table.headers)
    report.save()
    if mapping:
        return report_check_start(report=report, inline=inline)
    return report


def report_choose_sheet(*, report, sheet):
    report.sheet = sheet
    report.save(update_fields=["sheet"])
    return report_read(report=report)


def report_map(*, report, fields, date_orders, save_as="", by=None):
    """The manager's mapping: problems (required fields unmapped...) are returned and nothing changes; else it is
    kept on the import (and under `save_as`, for the next file with these headers) and the file is checked."""
    problems = mapping_problems(fields)
    if problems:
        return problems
    report.fields, report.date_orders = fields, {**report.date_orders, **date_orders}
    if save_as:
        report.mapping = mapping_save(name=save_as, headers=list(fields), fields=fields,
                                      date_orders=report.date_orders, by=by)
    report.save()
    report_check_start(report=report)
    return []


@transaction.atomic
def mapping_save(*, name, headers, fields, date_orders, by=None):
    mapping = ReportMapping.objects.select_for_update().filter(name=name).first() or ReportMapping(name=name)
    before = dict(mapping.fields)
    mapping.signature = header_signature(headers)
    mapping.fields, mapping.date_orders = fields, date_orders
    mapping.saved_by, mapping.saved_at = by, timezone.now()
    mapping.save()
    if by is not None:
        setting_changes_record(setting="import mapping", by=by, changes={
            f"{name}: {header}"[:100]: (_field_label(before.get(header)), _field_label(fields.get(header)))
            for header in headers})
    return mapping


def _field_label(key):
    return BY_KEY[key].label if key in BY_KEY else ("left out" if key == "" else "")


def report_resolve(*, report, resolutions):
    report.resolutions = {**report.resolutions, **resolutions}
    report.save(update_fields=["resolutions"])
    return report_check_start(report=report)


def report_check_start(*, report, inline=False):
    return _start(report, Status.CHECKING, write=False, inline=inline)


def report_import_start(*, report, by=None, inline=False):
    if report.status != Status.CHECKED or report.error_count or report.ambiguities:
        return report
    if by is not None:
        report.by = by
    return _start(report, Status.IMPORTING, write=True, inline=inline)


def _start(report, status, *, write, inline=False):
    """`inline`: in this process whatever the size (the nightly command is already in the background)."""
    report.status, report.rows_checked, report.rows_written = status, 0, 0
    report.save(update_fields=["status", "rows_checked", "rows_written", "by"])
    cache.delete(progress_key(report.pk))
    if inline or report.size <= BACKGROUND_BYTES:
        report_run(report_id=report.pk, write=write)
        report.refresh_from_db()
        return report
    transaction.on_commit(lambda: report_run_task.delay(report.pk, write))
    return report
