"""Per-hour counters for the public pages, in the cache.

A throttle, not a lock: losing the cache (a restart) only forgets recent counts, and the per-link limit that
matters for abuse of one printed link is enforced from the database (customers.Feedback.token_digest).
"""

from django.core.cache import cache
from django.utils import timezone

WINDOW_SECONDS = 3600


def _key(scope, ident, now):
    # A fixed window named by its hour: no read-modify-write, and keys expire by themselves.
    return f"throttle:{scope}:{ident}:{int(now.timestamp()) // WINDOW_SECONDS}"


def hit(scope, ident, *, limit, now=None):
    """Count one attempt; False once `limit` attempts were already made in this hour."""
    key = _key(scope, ident, now or timezone.now())
    cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 60)
        count = 1
    return count <= limit


def used(scope, ident, *, now=None):
    return cache.get(_key(scope, ident, now or timezone.now()), 0)
