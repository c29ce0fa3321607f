"""A rendered part of a page, kept for as long as nothing has been committed to the database since.

The callback list is the CSR's most used page: a dozen CSRs re-open it between calls and flip its filters, and each
view reads the page of callbacks, their jobs and people, and renders 25 rows, four times the cost of a bare page
(issue 8). Between two writes those views all show the same thing.

PostgreSQL tells exactly when that is: `pg_current_snapshot()` names the transactions a query sees as committed
(every one before its xmin, none from its xmax on, none of those still running). Two equal snapshots see the same
data, as no write committed between them, and any commit, to any table, gives a new one. So a part kept under the
snapshot it was read at is never stale; a write costs one more render. The part is read after the snapshot, so it is
at least as new as its key.

Not kept:
- inside a transaction (`atomic`): the part could show the transaction's own uncommitted writes to others;
- on SQLite (`make run`), which has no snapshot to compare across connections.
A cache that fails (Redis down) costs the render, never the page.

What a part shows of the clock ("overdue 3 hours", overdue or not) moves with time, so it is kept for the minute it
was rendered in.
"""

import hashlib
import logging

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

KEEP_FOR = 60  # seconds: the minute is in the key, this frees the cache


def database_state():
    """Text that changes whenever a write commits, or None when the database cannot tell."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


def render_unless_unchanged(render, *key):
    """`render()`'s text, rendered once per database state, minute and `key` (what else the part depends on: the
    user, the path and query string)."""
    state = database_state()
    if state is None:
        return render()
    minute = timezone.now().strftime("%Y-%m-%dT%H:%M")
    parts = "\n".join(str(part) for part in (state, minute, *key))
    cache_key = "unchanged:" + hashlib.sha256(parts.encode()).hexdigest()
    try:
        text = cache.get(cache_key)
    except Exception:  # any backend's error: the cache saves work, the page never depends on it
        logger.warning("cache unavailable: rendering without it", exc_info=True)
        return render()
    if text is None:
        text = render()
        try:
            cache.set(cache_key, text, KEEP_FOR)
        except Exception:
            logger.warning("cache unavailable: not keeping the part", exc_info=True)
    return text
