"""Reminder e-mails to customers about the work we recommended (seed 002, issue 7).

Only customers who said yes get them, on a cadence set by the recommendation's risk, never two e-mails to one
customer within RECOMMENDATION_REMINDER_MIN_DAYS, and never once the recommendation is answered (accepted,
declined, done by others, withdrawn) or the customer has work booked at the site: no reminder after they said yes
on the phone. A do-not-service or opted-out customer gets none.

Set-based and idempotent (DESIGN.md principle 1): one INSERT ... SELECT derives every reminder due from the rows
and numbers it after the reminders already written, so two sweeps at once, or a second run, insert (and e-mail)
each reminder once. E-mail goes after commit, for the rows this run inserted: at most once, never twice.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from customers.models import Job
from servicedesk.bulk import SubqueryCount, insert_from_select
from servicedesk.public.tokens import make_unsubscribe_token

from .models import CustomerReminder, Recommendation

State = Recommendation.State
log = logging.getLogger(__name__)


def _cadence_is_due(today):
    """Per risk: its last reminder (or, before the first, its raising) is at least that risk's cadence ago.

    Counted in local days, not as instants: the sweep runs once a day at a fixed local time, so an instant
    comparison would put a reminder a whole day late whenever a run starts a few milliseconds earlier than the
    last one did, or the day after daylight saving time starts (the 14 "days" since then are 1 hour short).
    """
    last_reminder = (
        CustomerReminder.objects.filter(recommendation=OuterRef("pk")).order_by().values("recommendation")
        .annotate(last=Max("sent_at")).values("last")
    )
    since = TruncDate(Coalesce(Subquery(last_reminder), F("created_at"), output_field=DateTimeField()))
    condition = Q(pk__in=[])
    for risk, days in settings.RECOMMENDATION_REMINDER_DAYS.items():
        condition |= Q(risk=risk, reminder_since__lte=today - timedelta(days=days))
    return since, condition


def reminders_due(now):
    """The open recommendations a reminder is due for now, whose customer may get one."""
    today = timezone.localdate(now)
    since, cadence_due = _cadence_is_due(today)
    booked = Job.objects.filter(
        site=OuterRef("site"), status__in=[Job.Status.SCHEDULED, Job.Status.IN_PROGRESS]
    )
    # Local days too (see _cadence_is_due): e-mailed on day d, the customer may be e-mailed again on d + MIN_DAYS.
    recently_reminded = CustomerReminder.objects.filter(
        customer=OuterRef("customer"),
        sent_at__date__gt=today - timedelta(days=settings.RECOMMENDATION_REMINDER_MIN_DAYS),
    )
    return (
        Recommendation.objects.filter(Q(state=State.OPEN) | Q(state=State.DEFERRED, deferred_until__lte=today))
        .filter(
            customer__reminders_opt_in=True,
            customer__contact_opt_out=False,
            customer__do_not_service=False,
        )
        .exclude(customer__email="")
        .exclude(Exists(booked))
        .exclude(Exists(recently_reminded))
        .annotate(reminder_since=since)
        .filter(cadence_due)
    )


def send_recommendation_reminders(*, now=None):
    """Write every reminder due and e-mail each customer once about theirs. Returns the number of reminders."""
    now = now or timezone.now()
    earlier = CustomerReminder.objects.filter(recommendation=OuterRef("pk")).values("pk")
    with transaction.atomic():
        ids = insert_from_select(
            CustomerReminder,
            reminders_due(now),
            values={
                "recommendation_id": F("pk"),
                "customer_id": F("customer_id"),
                "number": SubqueryCount(earlier) + 1,
                "sent_at": Value(now, output_field=DateTimeField()),
            },
            conflict=["recommendation_id", "number"],
            returning="id",
        )
        if ids:
            transaction.on_commit(lambda: send_reminder_emails(ids))
    return len(ids)


def unsubscribe_url(customer):
    return f"{settings.SITE_URL}{reverse('public:unsubscribe', args=[make_unsubscribe_token(customer)])}"


def reminder_email(customer, recommendations):
    link = unsubscribe_url(customer)
    lines = [
        f"Hello {customer.name},",
        "",
        "When we were at your home, our technician recommended some work. This is a friendly reminder, so "
        "nothing is forgotten — the decision is yours:",
        "",
    ]
    for recommendation in recommendations:
        price = f", estimate {recommendation.price_range}" if recommendation.price_range else ""
        lines.append(f"- {recommendation.what} ({recommendation.get_risk_display().lower()}{price}), "
                     f"at {recommendation.site.street}")
    lines += [
        "",
        f"To book, or if you have questions, call us at {settings.COMPANY_PHONE}.",
        "",
        settings.COMPANY_NAME,
        "",
        f"No more reminder e-mails: {link}",
    ]
    return EmailMessage(
        subject=f"{settings.COMPANY_NAME}: a reminder about the work we recommended",
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
        # RFC 8058: mail providers show an unsubscribe button that POSTs to the link, no page visit needed.
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


def send_reminder_emails(reminder_ids):
    """One e-mail per customer listing every recommendation reminded in this run."""
    reminders = (
        CustomerReminder.objects.filter(pk__in=reminder_ids)
        .select_related("customer", "recommendation", "recommendation__site")
        .order_by("customer_id", "recommendation__risk", "pk")
    )
    by_customer = defaultdict(list)
    customers = {}
    for reminder in reminders:
        by_customer[reminder.customer_id].append(reminder.recommendation)
        customers[reminder.customer_id] = reminder.customer
    messages = [reminder_email(customers[pk], recommendations) for pk, recommendations in by_customer.items()]
    try:
        return get_connection().send_messages(messages) or 0
    except OSError:
        # The rows stay: a customer is never e-mailed twice for one reminder, even if this one was lost.
        log.exception("Could not send %d recommendation reminder e-mails", len(messages))
        return 0
