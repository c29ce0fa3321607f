"""Beat sweeps over recommendations: remind owners of follow-ups due, escalate leads nobody followed up.

Each is derived from the rows (next_follow_up_on, state) and written with unique reminder keys that name the
follow-up date, so it can run twice, concurrently or late and remind once per date; a new follow-up date (the
owner spoke to the customer) is a new reminder. The date reminded of is also stamped on the recommendation, so a
sweep reads only the rows whose date has not been reminded yet: with tens of thousands of overdue follow-ups
already reminded, re-deriving and probing every key took seconds a run.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone

from servicedesk.bulk import url_of
from servicedesk.models import Notification
from servicedesk.notifications import managers, remind, send_emails
from servicedesk.people import full_name_sql

from .models import Recommendation, not_yet_reminded


def _text(*parts):
    return Left(Concat(*parts, output_field=CharField()), 300)


def _due_on():
    return Cast("next_follow_up_on", CharField())


def remind_follow_ups_due(*, now=None):
    """Every open recommendation whose follow-up date has come reminds its owner once for that date."""
    now = now or timezone.now()
    due = Recommendation.objects.open().filter(next_follow_up_on__lte=timezone.localdate(now))
    with transaction.atomic():
        return len(_remind_once(
            due,
            stamp="follow_up_reminded_for",
            key=Concat(Value("recommendation:"), "pk", Value(":follow-up:"), _due_on(), Value(":to:"),
                       output_field=CharField()),
            text=_text(Value("Follow up with "), "customer__name", Value(": "), "what", Value(" (due "), _due_on(),
                       Value(")")),
            kind=Notification.Kind.REMINDER,
            now=now,
        ))


def escalate_stale_leads(*, now=None):
    """An open recommendation whose owner is STALE_LEAD_DAYS past its follow-up date goes to every manager (seed 004:
    a lead passed on and never followed up is the same failure as a warning forgotten)."""
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
            key=Concat(Value("recommendation:"), "pk", Value(":stale:"), _due_on(), Value(":to:"),
                       output_field=CharField()),
            text=_text(Value("Lead not followed up: "), "what", Value(" ("), "customer__name",
                       Value("), owner "), full_name_sql("owner"), Value(", due "), _due_on()),
            kind=Notification.Kind.ESCALATION,
            now=now,
            to=manager_ids,
        ))


def _remind_once(due, *, stamp, key, text, kind, now, to=None):
    """One statement: stamp `stamp` with the follow-up date on the rows of `due` not stamped with it yet, and insert
    a reminder about each row stamped now, to its owner or to each of the users `to`. Returns the new ids.

    `key` is the reminder's unique key up to ":to:"; the recipient's id completes it, so a reminder already sent
    under the same key (before the stamp existed, or by a concurrent sweep) is not sent twice. Rows another
    transaction holds are skipped (SKIP LOCKED) rather than waited for, and left unstamped for the next run.
    """
    if connection.vendor != "postgresql":
        return _remind_each(due, key=key, text=text, kind=kind, now=now, to=to)
    quote = connection.ops.quote_name
    fresh = due.filter(not_yet_reminded(stamp)).order_by().values("pk").select_for_update(skip_locked=True)
    claim_sql, claim_params = fresh.query.sql_with_params()
    rows_sql, rows_params = (
        Recommendation.objects.filter(pk__in=RawSQL("SELECT id FROM stamped", []))
        .order_by()
        .values(v_owner=F("owner_id"), v_text=text, v_url=url_of("recommendations:detail"), v_key=key)
        .query.sql_with_params()
    )
    if to is None:
        recipient, recipients, recipients_params = "s.v_owner", "", []
    else:
        recipient, recipients, recipients_params = "m.id", "CROSS JOIN unnest(%s::integer[]) AS m(id)", [list(to)]
    statement = (
        f"WITH stamped AS (UPDATE {quote(Recommendation._meta.db_table)} SET {quote(stamp)} = next_follow_up_on "
        f"WHERE id IN ({claim_sql}) RETURNING id) "
        f"INSERT INTO {quote(Notification._meta.db_table)} (recipient_id, kind, text, url, key, created_at) "
        f"SELECT {recipient}, %s, s.v_text, s.v_url, s.v_key || {recipient}::text, %s "
        f"FROM ({rows_sql}) s {recipients} ON CONFLICT (key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*claim_params, kind, now, *rows_params, *recipients_params])
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        transaction.on_commit(lambda: send_emails(ids))
    return ids


def _remind_each(due, *, key, text, kind, now, to=None):
    """SQLite (the zero-setup `make run`) has no UPDATE inside WITH: derive every reminder and let the unique key
    skip those sent, as fast as a small database needs."""
    ids = []
    for recipient in [F("owner_id")] if to is None else [Value(pk) for pk in to]:
        ids += remind(
            due,
            recipient=recipient,
            key=Concat(key, Cast(recipient, CharField()), output_field=CharField()),
            text=text,
            url=url_of("recommendations:detail"),
            kind=kind,
            now=now,
        )
    return ids
