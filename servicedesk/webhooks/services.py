"""Every write to webhook subscriptions: managers only, each on the trail (servicedesk.audit) under the
subscription's name. Delivering the rows is delivery.py's."""

import base64
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from servicedesk import roles
from servicedesk.audit import setting_changes_record
from servicedesk.outbox import EVENT_TYPES

from . import sending
from .delivery import SWEEP_BATCH
from .models import Delivery, Subscription
from .outbox import write_event
from .tasks import enqueue_on_commit

TEST_EVENT = "webhook.test"
ROTATION_OVERLAP = timedelta(hours=24)


def _now(now):
    return now or timezone.now()


def _require_manager(user):
    if not roles.has_role(user, roles.MANAGER):
        raise PermissionDenied("Only a manager manages webhook subscriptions.")


def new_secret() -> str:
    """32 random bytes, in the Standard Webhooks form (whsec_ and base64) every verifying library reads."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _clean(*, label, url, event_types):
    errors = {}
    label = (label or "").strip()
    if not label or len(label) > 100:
        errors["label"] = "Say in at most 100 characters what receives the events, e.g. the dispatch board."
    url = (url or "").strip()
    try:
        if len(url) > 500:
            raise sending.Refused("The URL may be at most 500 characters long.")
        sending.check_url(url)
    except sending.Refused as exc:
        errors["url"] = str(exc)
    event_types = [event_type for event_type in EVENT_TYPES if event_type in set(event_types or ())]
    if not event_types:
        errors["event_types"] = "Choose at least one event."
    if errors:
        raise ValidationError(errors)
    return label, url, event_types


def subscription_add(*, integration, label: str, url: str, event_types, by, now=None) -> tuple[Subscription, str]:
    """A new, enabled subscription: the row, and its secret, which the manager is shown once."""
    _require_manager(by)
    now = _now(now)
    label, url, event_types = _clean(label=label, url=url, event_types=event_types)
    secret = new_secret()
    with transaction.atomic():
        subscription = Subscription.objects.create(
            integration=integration, label=label, url=url, event_types=event_types, secret=secret,
            created_at=now, created_by=by,
        )
        setting_changes_record(setting=subscription.setting_name, by=by, now=now, changes={
            "subscription": ("", "added"), "url": ("", url), "events": ("", ", ".join(event_types)),
        })
    return subscription, secret


def subscription_change(*, subscription, label: str, url: str, event_types, by, now=None) -> Subscription:
    _require_manager(by)
    now = _now(now)
    label, url, event_types = _clean(label=label, url=url, event_types=event_types)
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        setting_changes_record(setting=subscription.setting_name, by=by, now=now, changes={
            "label": (subscription.label, label), "url": (subscription.url, url),
            "events": (", ".join(subscription.event_types), ", ".join(event_types)),
        })
        subscription.label, subscription.url, subscription.event_types = label, url, event_types
        subscription.save(update_fields=["label", "url", "event_types"])
    return subscription


def subscription_rotate_secret(*, subscription, by, now=None) -> str:
    """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP, time to change the receiver."""
    _require_manager(by)
    now = _now(now)
    secret = new_secret()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        subscription.previous_secret, subscription.secret = subscription.secret, secret
        subscription.previous_secret_until = now + ROTATION_OVERLAP
        subscription.save(update_fields=["previous_secret", "secret", "previous_secret_until"])
        until = timezone.localtime(subscription.previous_secret_until)
        setting_changes_record(setting=subscription.setting_name, by=by, now=now,
                               changes={"secret": ("", f"rotated; the old one signs too until {until:%b %d %H:%M}")})
    return secret


def subscription_disable(*, subscription, by, now=None) -> bool:
    """Nothing more is sent; what happens meanwhile waits for it to be enabled again."""
    _require_manager(by)
    now = _now(now)
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, enabled=True).update(
            enabled=False, disabled_at=now, disabled_reason="Disabled by a manager.")
        if changed:
            setting_changes_record(setting=subscription.setting_name, by=by, now=now,
                                   changes={"enabled": ("yes", "no")})
    return bool(changed)


def subscription_enable(*, subscription, by, now=None) -> int:
    """Enabled again: everything that waited is sent now, each on a fresh retry schedule. Returns how many."""
    _require_manager(by)
    now = _now(now)
    with transaction.atomic():
        changed = Subscription.objects.filter(pk=subscription.pk, enabled=False).update(
            enabled=True, disabled_at=None, disabled_reason="", failing_since=None)
        if not changed:
            return 0
        setting_changes_record(setting=subscription.setting_name, by=by, now=now, changes={"enabled": ("no", "yes")})
        waiting = Delivery.objects.pending().filter(subscription=subscription.pk)
        count = waiting.update(next_attempt_at=now, retry_from=now, retries=0, claimed_until=None)
        enqueue_on_commit(list(waiting.values_list("pk", flat=True)[:SWEEP_BATCH]))
    return count


def subscription_send_test(*, subscription, by, now=None):
    """A `webhook.test` event to this subscription alone, to see the receiver answer."""
    _require_manager(by)
    with transaction.atomic():
        return write_event(
            event_type=TEST_EVENT, subscription_ids=[subscription.pk], now=_now(now),
            data={"subscription": subscription.label, "sent_by": by.get_full_name() or by.username},
        )


def _replay(deliveries, *, now):
    count = deliveries.update(next_attempt_at=now, retry_from=now, retries=0, claimed_until=None, delivered_at=None,
                              gave_up_at=None)
    enqueue_on_commit(list(deliveries.values_list("pk", flat=True)[:SWEEP_BATCH]))
    return count


def delivery_replay(*, delivery, by, now=None) -> int:
    """Send one event again, with its own id and body (a receiver that dedupes must forget it to take it again)."""
    _require_manager(by)
    now = _now(now)
    with transaction.atomic():
        setting_changes_record(setting=delivery.subscription.setting_name, by=by, now=now,
                               changes={"replay": ("", f"{delivery.event.type} {delivery.event.webhook_id}")})
        return _replay(Delivery.objects.filter(pk=delivery.pk), now=now)


def deliveries_replay_since(*, subscription, since, by, now=None) -> int:
    """Send again every event this subscription was sent (or was to be sent) since `since`."""
    _require_manager(by)
    now = _now(now)
    if since is None or since > now:
        raise ValidationError({"since": "Choose a moment in the past."})
    with transaction.atomic():
        setting_changes_record(setting=subscription.setting_name, by=by, now=now,
                               changes={"replay": ("", f"every event since {timezone.localtime(since):%b %d %H:%M}")})
        return _replay(Delivery.objects.filter(subscription=subscription.pk, event__occurred_at__gte=since),
                       now=now)
