"""`make bench` probe: a flat jobs report of N rows (default 100,000) checked and imported, as the worker does it.

Run as its own process (`python -m tests.bench.flat_report N`) so its peak memory is what a worker importing the
file needs. The file is written to a temporary folder (customers, addresses, jobs and a technician of the data set),
checked (the preview), then imported inside a transaction that is rolled back: the data set is left as it was.
Prints one JSON line: rows, check and import seconds, peak memory in MB.
"""

import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from servicedesk import roles  # noqa: E402


class _RollBack(Exception):
    pass


def write_report(path, count, technician):
    """A ServiceTitan-like report: one row per job, 20 jobs per customer, US dates, dollar amounts."""
    with path.open("w", newline="", encoding="cp1252") as out:
        writer = csv.writer(out)
        writer.writerow(["Job #", "Customer Name", "Phone", "Email", "Service Address", "City", "State", "Zip",
                         "Job Type", "Technician", "Scheduled Date", "Completed On", "Invoice #", "Total"])
        for n in range(count):
            customer = n // 20
            day = n % 28 + 1
            writer.writerow([
                f"BENCH-{n}", f"Bench Customer {customer}",
                f"(312) {customer // 10000 % 1000:03d}-{customer % 10000:04d}",
                f"bench{customer}@example.com", f"{customer % 9000 + 1} N. Main St.", "Springfield", "IL", "62701",
                "Service", technician, f"3/{day}/2025 8:00 AM", f"3/{day}/2025 9:30 AM", f"BINV-{n}",
                f"${n % 5000:,}.00",
            ])


def measure(count, folder):
    from customers.reports.services import report_check, report_import

    technician = get_user_model().objects.filter(groups__name=roles.TECHNICIAN).values_list(
        "username", flat=True).first()
    path = Path(folder) / "jobs-report.csv"
    write_report(path, count, technician or "")
    result = {"rows": count}
    started = time.perf_counter()
    checked = report_check(source=path)
    result["check_seconds"] = round(time.perf_counter() - started, 2)
    result["check_errors"] = checked.error_count
    try:
        with transaction.atomic():
            started = time.perf_counter()
            imported = report_import(source=path)
            result["import_seconds"] = round(time.perf_counter() - started, 2)
            result["written"] = imported.written
            raise _RollBack
    except _RollBack:
        pass
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, folder)))
