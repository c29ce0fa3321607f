"""Per-hour counters for the public pages, in the cache.

A throttle, not a lock: losing the cache (a restart) only forgets recent counts, and the per-link limit that
matters for abuse of one printed link is enforced from the database (customers.Feedback.token_digest).
A cache that cannot be reached (Redis down) must not cost a customer the complaint they just wrote: the count
then comes from the caller's database fallback, or the post is let through.
"""

import logging

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600


def _key(scope, ident, now):
    # A fixed window named by its hour: no read-modify-write, and keys expire by themselves.
    return f"throttle:{scope}:{ident}:{int(now.timestamp()) // WINDOW_SECONDS}"


def _unavailable(scope, error, fallback):
    logger.warning("Throttle %s: the cache is unavailable (%s), %s", scope, type(error).__name__,
                   "counting from the database" if fallback else "letting the post through")


def hit(scope, ident, *, limit, now=None, fallback=None):
    """Count one attempt; False once `limit` attempts were already made in this hour.

    `fallback` returns how many attempts the database holds for this hour, asked only when the cache is down;
    without one the attempt is let through (failing open: the limits guard against floods, not single posts).
    """
    key = _key(scope, ident, now or timezone.now())
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=WINDOW_SECONDS + 60)
            count = 1
    except Exception as error:  # each cache backend raises its own errors (redis.ConnectionError, OSError, ...)
        _unavailable(scope, error, fallback)
        return fallback() < limit if fallback else True
    return count <= limit


def exhausted(scope, ident, *, limit, now=None, fallback=None):
    """Whether this hour's `limit` is used up, without counting this attempt (see `hit` for the fallback).

    For limits that count only what was accepted: check first, then `hit` once the post was taken.
    """
    try:
        used_now = used(scope, ident, now=now)
    except Exception as error:
        _unavailable(scope, error, fallback)
        return fallback() >= limit if fallback else False
    return used_now >= limit


def record(scope, ident, *, now=None):
    """Count one accepted post; a cache that is down forgets it (the database fallback still has it)."""
    hit(scope, ident, limit=0, now=now, fallback=lambda: 0)


def used(scope, ident, *, now=None):
    return cache.get(_key(scope, ident, now or timezone.now()), 0)
