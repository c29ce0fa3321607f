"""The nightly import from a folder (`manage.py import_csv --mapping NAME --watch DIR`): each file in the folder is
imported once by the named mapping and moved to done/ or failed/ with a report beside it; the managers are told of
each failure. A file leaves the folder once handled, so running the command again never imports it twice."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.files import File

from servicedesk.audit import Via
from servicedesk.notifications import managers, notify

from .models import ReportImport
from .records import report_import_start, report_upload

Status = ReportImport.Status
REPORT_SUFFIX = ".report.txt"


def folder_import(*, folder, mapping):
    """Imports every file waiting in `folder`, oldest first; returns the ReportImport of each."""
    folder = Path(folder)
    waiting = sorted((path for path in folder.iterdir() if path.is_file() and not path.name.startswith(".")
                      and not path.name.endswith(REPORT_SUFFIX)), key=lambda path: (path.stat().st_mtime, path.name))
    return [_import_one(path, mapping) for path in waiting]


def _import_one(path, mapping):
    with path.open("rb") as handle:
        report = report_upload(name=path.name, content=File(handle, name=path.name), via=Via.IMPORT,
                               mapping=mapping, inline=True)
    if report.status == Status.CHECKED and not report.ambiguities:
        report = report_import_start(report=report, inline=True)
    outcome = "done" if report.status == Status.IMPORTED else "failed"
    target = _free_name(path.parent / outcome, path.name)
    target.parent.mkdir(exist_ok=True)
    shutil.move(path, target)
    target.with_name(target.name + REPORT_SUFFIX).write_text(report_text(report), encoding="utf-8")
    if outcome == "failed":
        notify(users=managers(), text=f"The nightly import of {path.name} failed: {_why(report)} Nothing was "
                                      "written; the file is in failed/ with its report.",
               url=report.get_absolute_url(), email=True)
    return report


def _free_name(folder, name):
    target, number = folder / name, 1
    while target.exists() or target.with_name(target.name + REPORT_SUFFIX).exists():
        number += 1
        target = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
    return target


def _why(report):
    if report.ambiguities:
        return f"{len(report.ambiguities)} row(s) could be more than one customer; choose on the import's page."
    if report.status == Status.MAPPING:
        return "its columns need a mapping (or the order of its dates) chosen on the import's page."
    return f"{report.error_count} error(s), the first: {_line(report.errors[0])}" if report.errors else "an error."


def _line(error):
    row, column, message = error
    return f"Row {row}" + (f", {column}" if column else "") + f": {message}"


def report_text(report):
    """The report left beside the file: what happened, the counts, and every error kept."""
    lines = [f"{report.file_name}: {report.get_status_display()}", f"Read as: {report.layout or '-'}",
             f"Mapping: {report.mapping.name if report.mapping else '-'}", f"Rows: {report.rows}"]
    for kind, tally in (report.counts or {}).items():
        lines.append(f"{kind.capitalize()}: {tally['new']} new, {tally['matched']} matched, {tally['changed']} changed")
    if report.status != Status.IMPORTED:
        lines.append(f"Not imported: {_why(report)}")
        lines += [_line(error) for error in report.errors]
    lines.append(f"The import's page: {settings.SITE_URL}{report.get_absolute_url()}")
    return "\n".join(lines) + "\n"
