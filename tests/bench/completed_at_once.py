"""`make bench` probe: schedule follow-up calls right after N jobs were completed at once.

Run as its own process (`python -m tests.bench.completed_at_once N`) so its peak memory is what a worker
running the sweep needs. N completed service calls are made to look completed three days ago with no
follow-up call yet, the sweep runs, and the transaction is rolled back: the data set is left as it was.
Prints one JSON line: seconds, queries, calls created, peak memory in MB.
"""

import json
import os
import resource
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from callbacks.follow_ups.services import schedule_follow_up_calls  # noqa: E402


class _RollBack(Exception):
    pass


def main(count):
    now = timezone.now()
    result = {}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    CREATE TEMPORARY TABLE bench_completed ON COMMIT DROP AS
                    SELECT job.id FROM customers_job job
                    WHERE job.status = 'completed' AND job.kind = 'service_call'
                      AND NOT EXISTS (SELECT 1 FROM callbacks_referral r
                                      JOIN callbacks_followupcall c ON c.id = r.call_id WHERE c.job_id = job.id)
                      AND NOT EXISTS (SELECT 1 FROM callbacks_callback cb WHERE cb.job_id = job.id)
                    ORDER BY job.id LIMIT %s
                    """,
                    [count],
                )
                cursor.execute(
                    "DELETE FROM callbacks_callattempt WHERE call_id IN (SELECT c.id FROM callbacks_followupcall c "
                    "JOIN bench_completed b ON b.id = c.job_id)"
                )
                cursor.execute(
                    "DELETE FROM callbacks_followupcall WHERE job_id IN (SELECT id FROM bench_completed)"
                )
                cursor.execute(
                    "UPDATE customers_job SET completed_at = %s WHERE id IN (SELECT id FROM bench_completed)",
                    [now - timedelta(days=3)],
                )
                cursor.execute("ANALYZE bench_completed")
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                created = schedule_follow_up_calls(now=now)
            result = {
                "seconds": round(time.perf_counter() - started, 2),
                "queries": len(queries.captured_queries),
                "created": created,
            }
            raise _RollBack
    except _RollBack:
        pass
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]))
