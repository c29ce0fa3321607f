"""Delivering the outbox's rows: at least once, exactly once per attempt.

A worker claims a row with a conditional update of its own columns (one row, or it lost the race to another worker
or a sweep), posts outside any transaction, then records the attempt. A worker killed mid-send leaves the claim to
lapse after CLAIM_LEASE and the sweep sends the row again, under the same webhook-id, which is why receivers dedupe
on it. Order between events is not promised.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from servicedesk.notifications import managers, notify

from . import sending
from .models import Attempt, Delivery, Subscription

# After the first attempt fails: 30 s, 2 min, 10 min, 1 h, 4 h, 12 h, 24 h, then every 24 h, each give or take a
# tenth so that receivers coming back are not hit by every sender's retries at once; the last attempt falls when
# three days have passed since the first, and a delivery still failing then is given up.
RETRY_DELAYS = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
                timedelta(hours=4), timedelta(hours=12), timedelta(hours=24)]
JITTER = 0.1
GIVE_UP_AFTER = timedelta(days=3)
# A subscription whose every attempt has failed this long is disabled and the managers told.
DISABLE_AFTER = timedelta(days=3)
# Longer than the longest send (a 10 s connect and 10 s per read of at most 64 KiB).
CLAIM_LEASE = timedelta(minutes=2)
SWEEP_BATCH = 1_000
# How stale a subscription's "last delivered" may be shown.
QUIET = timedelta(minutes=1)


def next_attempt_at(*, retries, retry_from, now):
    """When to try again after `retries` failures in a row, or None once three days have passed: give up."""
    deadline = retry_from + GIVE_UP_AFTER
    if now >= deadline:
        return None
    delay = RETRY_DELAYS[min(retries, len(RETRY_DELAYS)) - 1]
    delay *= random.uniform(1 - JITTER, 1 + JITTER)
    return min(now + delay, deadline)


def _claim(delivery_id, now, claim=None):
    # Only the row's own columns in the condition: PostgreSQL re-checks them on the row a concurrent claim just
    # wrote, so of two workers (or a worker and a sweep) exactly one gets 1. `claim` is the sweep's hold on the
    # row, handed to the one task it enqueued for it: that task, and no other, takes it over.
    free = Q(claimed_until=None) | Q(claimed_until__lt=now)
    if claim is not None:
        free |= Q(claimed_until=claim)
    return Delivery.objects.filter(
        free, pk=delivery_id, delivered_at=None, gave_up_at=None, next_attempt_at__lte=now,
    ).update(claimed_until=now + CLAIM_LEASE)


def delivery_attempt(*, delivery_id, now=None, claim=None) -> Attempt | None:
    """Post one outbox row to its subscriber, if it is due and no one else holds it; record the attempt and what
    follows: delivered, retried later, given up, or, three days into a subscriber's failing, the subscription
    disabled."""
    now = now or timezone.now()
    if not _claim(delivery_id, now, claim):
        return None
    delivery = Delivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.enabled:
        Delivery.objects.filter(pk=delivery_id).update(claimed_until=None)
        return None
    result = sending.post(url=subscription.url, body=delivery.event.body, webhook_id=delivery.event.webhook_id,
                          secrets=subscription.signing_secrets(now))
    with transaction.atomic():
        attempt = Attempt.objects.create(
            delivery=delivery, subscription=subscription, at=now, status_code=result.status_code,
            duration_ms=result.duration_ms, delivered=result.delivered, error=result.error,
            response_excerpt=result.excerpt,
        )
        row = Delivery.objects.filter(pk=delivery_id)
        if result.delivered:
            row.update(delivered_at=now, claimed_until=None, last_status=result.status_code)
            # Not every success writes the subscription's row: a busy receiver's workers would queue on it.
            Subscription.objects.filter(
                Q(failing_since__isnull=False) | Q(last_delivered_at=None) | Q(last_delivered_at__lt=now - QUIET),
                pk=subscription.pk,
            ).update(failing_since=None, last_delivered_at=now)
            return attempt
        _record_failure(delivery, result, now)
    return attempt


def _record_failure(delivery, result, now):
    # NO KEY UPDATE: the attempt just inserted holds KEY SHARE on this row, as another worker's may; a plain FOR
    # UPDATE would wait on theirs while they wait on ours.
    subscription = Subscription.objects.select_for_update(no_key=True).get(pk=delivery.subscription_id)
    if subscription.failing_since is None:
        subscription.failing_since = max(filter(None, [delivery.retry_from, subscription.last_delivered_at]))
        subscription.save(update_fields=["failing_since"])
    row = Delivery.objects.filter(pk=delivery.pk)
    retries = delivery.retries + 1
    if subscription.failing_since <= now - DISABLE_AFTER:
        # This delivery waits with the rest for the subscription to be enabled again.
        row.update(retries=retries, claimed_until=None, next_attempt_at=now, last_status=result.status_code)
        _disable_failing(subscription, now)
        return
    when = next_attempt_at(retries=retries, retry_from=delivery.retry_from, now=now)
    if when is None:
        row.update(retries=retries, claimed_until=None, gave_up_at=now, last_status=result.status_code)
    else:
        row.update(retries=retries, claimed_until=None, next_attempt_at=when, last_status=result.status_code)


def _disable_failing(subscription, now):
    since = timezone.localtime(subscription.failing_since)
    disabled = Subscription.objects.filter(pk=subscription.pk, enabled=True).update(
        enabled=False, disabled_at=now,
        disabled_reason=f"Every attempt failed for three days (since {since:%b %d %H:%M}).",
    )
    if disabled:
        notify(
            users=managers(), email=True, url=subscription.get_absolute_url(),
            text=f"Webhooks to {subscription.label} ({subscription.integration}) disabled: every attempt failed for "
                 f"three days. Events wait for it; enable it once the receiver is back.",
        )


def deliveries_due(*, now=None, limit=SWEEP_BATCH):
    """The rows whose time has come and that no worker holds: retries, and first attempts whose message was lost."""
    now = now or timezone.now()
    return Delivery.objects.due(now).order_by("next_attempt_at")[:limit]


def deliveries_claim_due(*, now=None, limit=SWEEP_BATCH) -> tuple[list[int], object]:
    """The sweep's half: hold the due rows for CLAIM_LEASE, for the tasks it hands them to (the claim returned).
    Two sweeps at once take different rows (SKIP LOCKED); a message lost again frees its row when the hold lapses."""
    now = now or timezone.now()
    claim = now + CLAIM_LEASE
    with transaction.atomic():
        ids = list(deliveries_due(now=now, limit=limit).select_for_update(skip_locked=True, of=("self",))
                   .values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(claimed_until=claim)
    return ids, claim


def attempts_of(subscription, limit=100):
    return list(
        Attempt.objects.filter(subscription=subscription).select_related("delivery__event")
        .annotate(event_type=F("delivery__event__type"))[:limit]
    )
