"""Beat sweeps over recommendations: remind owners of follow-ups due, escalate leads nobody followed up.

Each is derived from the rows (next_follow_up_on, state) and written with unique reminder keys that name the
follow-up date, so it can run twice, concurrently or late and remind once per date; a new follow-up date (the
owner spoke to the customer) is a new reminder. The date reminded of is also stamped on the recommendation, so a
sweep reads only the rows whose date has not been reminded yet: with tens of thousands of overdue follow-ups
already reminded, re-deriving and probing every key took seconds a run.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import Notification
from servicedesk.notifications import managers, send_emails, write_once

from .models import Recommendation, not_yet_reminded


def remind_follow_ups_due(*, now=None):
    """Every open recommendation whose follow-up date has come reminds its owner once for that date; an owner with
    several gets one digest this run ("12 recommendation follow-ups are due"), never one notification each."""
    now = now or timezone.now()
    due = Recommendation.objects.open().filter(next_follow_up_on__lte=timezone.localdate(now))
    with transaction.atomic():
        return len(_remind_once(
            due,
            stamp="follow_up_reminded_for",
            one=lambda r: (f"recommendation:{r['pk']}:follow-up:{r['next_follow_up_on']}:to:",
                           f"Follow up with {r['customer__name']}: {r['what']} (due {r['next_follow_up_on']})"),
            many=lambda n: (f"{n} recommendation follow-ups are due", reverse("recommendations:mine")),
            kind=Notification.Kind.REMINDER,
            now=now,
        ))


def escalate_stale_leads(*, now=None):
    """An open recommendation whose owner is STALE_LEAD_DAYS past its follow-up date goes to every manager (seed 004:
    a lead passed on and never followed up is the same failure as a warning forgotten). Several in one run are one
    digest per manager ("485 leads are past their follow-up date", linking to the list), never one each."""
    now = now or timezone.now()
    cutoff = timezone.localdate(now) - timedelta(days=settings.STALE_LEAD_DAYS)
    stale = Recommendation.objects.open().filter(next_follow_up_on__lt=cutoff)
    with transaction.atomic():
        manager_ids = list(managers().values_list("pk", flat=True))
        if not manager_ids:
            return 0  # nothing stamped: the first manager still hears of every stale lead
        return len(_remind_once(
            stale,
            stamp="stale_escalated_for",
            one=lambda r: (f"recommendation:{r['pk']}:stale:{r['next_follow_up_on']}:to:",
                           f"Lead not followed up: {r['what']} ({r['customer__name']}), owner {r['owner_name']}, "
                           f"due {r['next_follow_up_on']}"),
            many=lambda n: (f"{n} leads are past their follow-up date",
                            f"{reverse('recommendations:list')}?overdue=true"),
            kind=Notification.Kind.ESCALATION,
            now=now,
            to=manager_ids,
        ))


def _remind_once(due, *, stamp, one, many, kind, now, to=None):
    """Stamp `stamp` with the follow-up date on the rows of `due` not stamped with it yet, and tell each owner (or
    each of the users `to`) about the rows stamped now: one notification per person per run. Returns the new ids.

    A person with one row gets it by name, keyed by `one(row)`'s key plus their id, so a reminder already sent under
    that key (before the stamp existed, or by a concurrent sweep) is not sent twice; a person with several gets
    `many(count)`'s digest. A fixed number of statements, however many rows are due.

    Rows another transaction holds are waited for, not skipped: two runs at once must not split the rows between
    them, or a person would get two digests of one day's leads. The second run then finds them stamped.
    """
    quote = connection.ops.quote_name
    fresh = due.filter(not_yet_reminded(stamp)).order_by("pk").values("pk").select_for_update()
    claim_sql, claim_params = fresh.query.sql_with_params()
    customers = quote(Recommendation._meta.get_field("customer").related_model._meta.db_table)
    users = quote(Recommendation._meta.get_field("owner").related_model._meta.db_table)
    with connection.cursor() as cursor:
        # RETURNING (with the names a one-item reminder shows) works alike on PostgreSQL and SQLite 3.35+.
        cursor.execute(
            f"UPDATE {quote(Recommendation._meta.db_table)} SET {quote(stamp)} = next_follow_up_on "
            f"WHERE id IN ({claim_sql}) RETURNING id, owner_id, what, next_follow_up_on, "
            f"(SELECT c.name FROM {customers} c WHERE c.id = customer_id), "
            # The owner by full name (servicedesk/people.py), the user name only for an account without one.
            f"(SELECT COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), u.username) "
            f"FROM {users} u WHERE u.id = owner_id)",
            claim_params,
        )
        stamped = {
            row[0]: dict(zip(("pk", "owner_id", "what", "next_follow_up_on", "customer__name", "owner_name"),
                             row, strict=True))
            for row in cursor.fetchall()
        }
    if not stamped:
        return []
    items = defaultdict(list)  # recipient -> recommendation ids
    for pk, row in stamped.items():
        for recipient in ([row["owner_id"]] if to is None else to):
            if recipient is not None:
                items[recipient].append(pk)
    notifications = []
    for recipient, ids in items.items():
        if len(ids) == 1:
            key, text = one(stamped[ids[0]])
            url = reverse("recommendations:detail", args=[ids[0]])
            key += str(recipient)
        else:
            text, url = many(len(ids))
            key = f"digest:{kind}:{stamp}:{now.isoformat()}:to:{recipient}"
        notifications.append(Notification(recipient_id=recipient, kind=kind, text=text[:300], url=url, key=key,
                                          created_at=now))
    ids = write_once(notifications)
    if ids:
        transaction.on_commit(lambda: send_emails(ids))
    return ids
