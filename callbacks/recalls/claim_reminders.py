"""The sweep over warranty claims: one still to send CLAIM_UNSENT_DAYS after it was opened, or sent and unanswered
CLAIM_UNANSWERED_DAYS after it went, reminds the callback's owner (every manager when the owner has left). Each
reminder's key names the claim and what it waits for, so the sweep reminds once however often it runs."""

from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone

from servicedesk.bulk import url_of
from servicedesk.models import Notification
from servicedesk.notifications import managers, remind

from ..models import WarrantyClaim

CLAIM_UNSENT_DAYS = 3
CLAIM_UNANSWERED_DAYS = 30


def _text(what):
    return Left(Concat(Value("Warranty claim for "), "part_name", Value(f" ({what}): "), "supplier",
                       Value(", callback #"), "callback_id", output_field=CharField()), 300)


def _remind(claims, *, key, what, now):
    inserted = remind(
        claims.filter(callback__assigned_to__is_active=True), recipient=F("callback__assigned_to_id"),
        key=Concat(key, Value(":to:"), Cast("callback__assigned_to_id", CharField()), output_field=CharField()),
        text=_text(what), url=url_of("callbacks:claim"), kind=Notification.Kind.REMINDER, now=now,
    )
    orphans = claims.exclude(callback__assigned_to__is_active=True)
    for manager_id in managers().values_list("pk", flat=True):
        inserted += remind(orphans, recipient=Value(manager_id), key=Concat(key, Value(f":to:{manager_id}"),
                                                                             output_field=CharField()),
                           text=_text(what), url=url_of("callbacks:claim"), kind=Notification.Kind.REMINDER, now=now)
    return len(inserted)


def remind_warranty_claims(*, now=None):
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        unsent = WarrantyClaim.objects.unsent().filter(created_at__lte=now - timedelta(days=CLAIM_UNSENT_DAYS))
        inserted = _remind(unsent, key=Concat(Value("claim:"), "pk", Value(":unsent"), output_field=CharField()),
                           what=f"not sent after {CLAIM_UNSENT_DAYS} days", now=now)
        unanswered = WarrantyClaim.objects.unanswered().filter(
            sent_on__lte=today - timedelta(days=CLAIM_UNANSWERED_DAYS))
        inserted += _remind(unanswered, key=Concat(Value("claim:"), "pk", Value(":unanswered:"),
                                                   Cast("sent_on", CharField()), output_field=CharField()),
                            what=f"no answer {CLAIM_UNANSWERED_DAYS} days after it was sent", now=now)
    return inserted
