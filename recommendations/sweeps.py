"""Beat sweeps over recommendations: remind owners of follow-ups due, escalate leads nobody followed up.

Each is derived from the rows (next_follow_up_on, state) and written with unique reminder keys that name the
follow-up date, so it can run twice, concurrently or late and remind once per date; a new follow-up date (the
owner spoke to the customer) is a new reminder.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone

from servicedesk.bulk import url_of
from servicedesk.models import Notification
from servicedesk.notifications import managers, remind

from .models import Recommendation


def _text(*parts):
    return Left(Concat(*parts, output_field=CharField()), 300)


def _due_on():
    return Cast("next_follow_up_on", CharField())


def remind_follow_ups_due(*, now=None):
    """Every open recommendation whose follow-up date has come reminds its owner once for that date."""
    now = now or timezone.now()
    due = Recommendation.objects.open().filter(next_follow_up_on__lte=timezone.localdate(now))
    with transaction.atomic():
        return len(remind(
            due,
            recipient=F("owner_id"),
            key=Concat(Value("recommendation:"), "pk", Value(":follow-up:"), _due_on(), Value(":to:"), "owner_id",
                       output_field=CharField()),
            text=_text(Value("Follow up with "), "customer__name", Value(": "), "what", Value(" (due "), _due_on(),
                       Value(")")),
            url=url_of("recommendations:detail"),
            kind=Notification.Kind.REMINDER,
            now=now,
        ))


def escalate_stale_leads(*, now=None):
    """An open recommendation whose owner is STALE_LEAD_DAYS past its follow-up date goes to every manager (seed 004:
    a lead passed on and never followed up is the same failure as a warning forgotten)."""
    now = now or timezone.now()
    cutoff = timezone.localdate(now) - timedelta(days=settings.STALE_LEAD_DAYS)
    stale = Recommendation.objects.open().filter(next_follow_up_on__lt=cutoff)
    inserted = 0
    with transaction.atomic():
        # One statement per manager (a handful), however many leads are stale.
        for manager_id in managers().values_list("pk", flat=True):
            inserted += len(remind(
                stale,
                recipient=Value(manager_id),
                key=Concat(Value("recommendation:"), "pk", Value(":stale:"), _due_on(), Value(f":to:{manager_id}"),
                           output_field=CharField()),
                text=_text(Value("Lead not followed up: "), "what", Value(" ("), "customer__name",
                           Value("), owner "), "owner__username", Value(", due "), _due_on()),
                url=url_of("recommendations:detail"),
                kind=Notification.Kind.ESCALATION,
                now=now,
            ))
    return inserted
