"""Reminder e-mails to customers about the work we recommended (seed 002, issue 7).

Only customers who said yes get them, on a cadence set by the recommendation's risk, never two e-mails to one
customer within RECOMMENDATION_REMINDER_MIN_DAYS, and never once the recommendation is answered (accepted,
declined, done by others, withdrawn) or the customer has work booked at the site: no reminder after they said yes
on the phone. A do-not-service or opted-out customer gets none.

Set-based and idempotent (DESIGN.md principle 1): one INSERT ... SELECT derives every reminder due from the rows
and numbers it after the reminders already written, so two sweeps at once, or a second run, insert each reminder
once. E-mail goes after commit, for the rows this run inserted, and each reminder is e-mailed exactly once: a
customer's rows are locked and marked e-mailed in the transaction that sends their e-mail, which rolls back if the
mail server refuses it; the resend sweep then e-mails what is left once the server is back.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import DateTimeField, Exists, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from customers.models import Job
from servicedesk.bulk import SubqueryCount, insert_from_select
from servicedesk.notifications import send_each
from servicedesk.tokens import make_unsubscribe_token

from .models import CustomerReminder, Recommendation

State = Recommendation.State


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


def may_be_reminded(today):
    """Open recommendations (or deferred ones whose deferral has passed) of customers who may get a reminder
    e-mail, with no work booked at the site."""
    booked = Job.objects.filter(
        site=OuterRef("site"), status__in=[Job.Status.SCHEDULED, Job.Status.IN_PROGRESS]
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
    )


def reminders_due(now):
    """The open recommendations a reminder is due for now, whose customer may get one."""
    today = timezone.localdate(now)
    since, cadence_due = _cadence_is_due(today)
    # Local days too (see _cadence_is_due): e-mailed on day d, the customer may be e-mailed again on d + MIN_DAYS.
    recently_reminded = CustomerReminder.objects.filter(
        customer=OuterRef("customer"),
        sent_at__date__gt=today - timedelta(days=settings.RECOMMENDATION_REMINDER_MIN_DAYS),
    )
    return (
        may_be_reminded(today)
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
    """One e-mail per customer listing their reminders among `reminder_ids` not e-mailed yet. Returns the e-mails
    the mail server took.

    The rows are claimed first (locked, skipping rows another run holds, and marked e-mailed), then each customer's
    e-mail goes on its own, and the rows of the e-mails the server refused are released in one statement: a retried
    task or the resend sweep sends what is missing, and nothing twice. A few statements however many are due.
    """
    with transaction.atomic():
        claimed = list(
            CustomerReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=reminder_ids, emailed_at__isnull=True)
            .select_related("customer", "recommendation", "recommendation__site")
            .order_by("customer_id", "recommendation__risk", "pk")
        )
        if not claimed:
            return 0
        CustomerReminder.objects.filter(pk__in=[reminder.pk for reminder in claimed]).update(emailed_at=timezone.now())
    by_customer = defaultdict(list)
    for reminder in claimed:
        by_customer[reminder.customer_id].append(reminder)
    groups = list(by_customer.values())
    taken = send_each([reminder_email(group[0].customer, [reminder.recommendation for reminder in group])
                       for group in groups])
    unsent = [reminder.pk for group, sent in zip(groups, taken, strict=True) if not sent for reminder in group]
    if unsent:  # for the resend sweep, once the mail server is back
        CustomerReminder.objects.filter(pk__in=unsent).update(emailed_at=None)
    return taken.count(True)


# A reminder whose e-mail failed is retried this long after it was sent out (its own send goes on commit first),
# and no longer than a day: after that it is stale, and the next reminder on the cadence takes its place.
RESEND_AFTER = timedelta(minutes=5)
RESEND_WITHIN = timedelta(days=1)
RESEND_BATCH = 2000


def resend_unsent_reminder_emails(*, now=None):
    """E-mail the recent reminders the mail server refused, if the customer may still get them (not answered,
    booked or opted out since). Run twice or concurrently, it e-mails each reminder once."""
    now = now or timezone.now()
    ids = list(
        CustomerReminder.objects.filter(
            emailed_at__isnull=True, sent_at__gte=now - RESEND_WITHIN, sent_at__lte=now - RESEND_AFTER,
            recommendation__in=may_be_reminded(timezone.localdate(now)).values("pk"),
        )
        .order_by("sent_at")
        .values_list("pk", flat=True)[:RESEND_BATCH]
    )
    return send_reminder_emails(ids)
