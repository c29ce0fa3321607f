"""The sweep over potential callbacks left unclassified: CALLBACK_CLASSIFY_DAYS after the revisit its owner is
reminded, as long again the managers. Each reminder's key names the callback and its revisit, so the sweep reminds
once however often it runs, and a reopened callback's next revisit is reminded afresh. A fixed number of statements."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone

from servicedesk.bulk import url_of
from servicedesk.models import Notification
from servicedesk.notifications import managers, remind

from ..models import Callback


def _key(suffix):
    return Concat(Value("classify:"), "pk", Value(":"), Cast("revisit_done_at", CharField()), Value(suffix),
                  output_field=CharField())


def _text(lead):
    return Left(Concat(Value(lead), Value("callback #"), "pk", Value(" ("), "customer__name",
                       Value(") is still a potential callback: classify it after the revisit"),
                       output_field=CharField()), 300)


def unclassified(now, *, after):
    """Open potential callbacks whose revisit was done more than `after` ago."""
    return Callback.objects.open().potential().filter(revisit_done_at__lte=now - after)


def remind_unclassified_callbacks(*, now=None):
    now = now or timezone.now()
    days = timedelta(days=settings.CALLBACK_CLASSIFY_DAYS)
    with transaction.atomic():
        inserted = len(remind(
            unclassified(now, after=days).filter(assigned_to__is_active=True),
            recipient=F("assigned_to_id"),
            key=Concat(_key(":to:"), Cast("assigned_to_id", CharField()), output_field=CharField()),
            text=_text("Not classified: "),
            url=url_of("callbacks:detail"),
            kind=Notification.Kind.REMINDER,
            now=now,
        ))
        for manager_id in managers().values_list("pk", flat=True):
            inserted += len(remind(
                unclassified(now, after=2 * days),
                recipient=Value(manager_id),
                key=_key(f":escalated:to:{manager_id}"),
                text=_text("Still not classified: "),
                url=url_of("callbacks:detail"),
                kind=Notification.Kind.ESCALATION,
                now=now,
            ))
    return inserted
