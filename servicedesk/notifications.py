"""Notifications: the in-app inbox, e-mail by each user's preferences, and the sweeps' idempotent reminders.

A base module: it imports no app of the project, so callbacks, recommendations and the follow-up calls
can all notify people without importing each other.

Two ways in:
- `notify(...)` for something that just happened in a service: written once the transaction commits (never
  about a rolled-back change).
- `remind(...)` for what a beat sweep derived from the database: one INSERT ... SELECT keyed by `key`, so a
  sweep that runs twice, concurrently or late writes each reminder once; e-mail goes only for the rows that
  statement actually inserted, after commit.

E-mail never goes inside a request: `notify` hands it to a task once the transaction commits (a slow or silent
mail server must not slow a page, and a message that cannot be sent must not turn a saved change into an error
page); the sweeps, already tasks, send after their own commit. Whatever the mail server does not take stays
unsent for the resend sweep. One person gets one e-mail per batch, however many notifications it holds.
"""

import logging
import smtplib
from collections import defaultdict
from datetime import timedelta

from celery import shared_task
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import DateTimeField, Value
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import roles
from .bulk import insert_from_select
from .models import Notification, NotificationPreference

PAGE_SIZE = 50
Kind = Notification.Kind
log = logging.getLogger(__name__)


def managers():
    return get_user_model().objects.filter(groups__name=roles.MANAGER, is_active=True).distinct()


def email_wanted(user_ids, kind):
    """The ids among `user_ids` who get e-mail for `kind`: their own choice, else the kind's default."""
    user_ids = set(user_ids)
    choices = dict(
        NotificationPreference.objects.filter(user__in=user_ids, kind=kind).values_list("user_id", "email")
    )
    default = Notification.EMAIL_BY_DEFAULT[kind]
    return {user_id for user_id in user_ids if choices.get(user_id, default)}


def absolute(url):
    if not url or url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL}{url}"


def notify(*, users, text, url="", email=False, kind=None):
    """Tell `users` about something once the current transaction commits.

    `kind` defaults to an escalation when `email` is asked for (it must reach a manager who is not looking at
    the app) and to an assignment otherwise; whether e-mail goes follows each recipient's preferences.
    """
    users = [user for user in users if user is not None]
    if not users:
        return
    kind = kind or (Kind.ESCALATION if email else Kind.ASSIGNMENT)
    text = text[:300]

    def deliver():
        now = timezone.now()
        created = Notification.objects.bulk_create(
            [Notification(recipient=user, kind=kind, text=text, url=url, created_at=now) for user in users]
        )
        ids = [notification.pk for notification in created]
        # Already committed, so this runs at once: the worker finds the rows.
        transaction.on_commit(lambda: send_notification_emails.delay(ids))

    transaction.on_commit(deliver)


@shared_task
def send_notification_emails(notification_ids):
    """E-mail the notifications just written (no retry: what is not sent is left to the resend sweep)."""
    return send_emails(notification_ids)


def remind(source, *, recipient, key, text, url, kind, now=None, bodies=None):
    """Insert one reminder per row of `source` (a queryset); each value is an expression over its rows.

    Returns the ids of the reminders inserted now (the rows whose key existed are skipped). Their e-mails
    go after commit; `bodies(recipient ids)` -> {recipient id: text} replaces the e-mail body, e.g. for a digest.
    """
    now = now or timezone.now()
    ids = insert_from_select(
        Notification,
        source,
        values={
            "recipient_id": recipient,
            "kind": Value(kind),
            "text": text,
            "url": url,
            "key": key,
            "created_at": Value(now, output_field=DateTimeField()),
        },
        conflict=["key"],
        returning="id",
    )
    if ids:
        transaction.on_commit(lambda: send_emails(ids, bodies=bodies))
    return ids


def write_once(notifications):
    """Insert unsaved Notification objects, skipping any whose key exists; returns the ids of those inserted. One
    statement (INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, alike on PostgreSQL and SQLite 3.35+): a sweep
    that derived its digests in Python writes them as safely as `remind` does."""
    if not notifications:
        return []
    quote = connection.ops.quote_name
    columns = ["recipient_id", "kind", "text", "url", "key", "created_at"]
    fields = [Notification._meta.get_field(column.removesuffix("_id")) for column in columns]
    rows, params = [], []
    for notification in notifications:
        rows.append("(" + ", ".join(["%s"] * len(columns)) + ")")
        params += [field.get_db_prep_save(getattr(notification, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Notification._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES {', '.join(rows)} ON CONFLICT ({quote('key')}) DO NOTHING RETURNING {quote('id')}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


# What a mail server answers about one message (its address, its sender or its content) while still taking others,
# and a message that cannot be written at all (BadHeaderError is a ValueError): that one stays unsent, not the rest.
REFUSED_ONE = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, ValueError)


def subject_line(text, limit=120):
    """One line, whatever the text holds: a line break in a header is refused (BadHeaderError), and customers'
    names and questions may carry one."""
    return " ".join(str(text).split())[:limit]


def send_each(messages):
    """Send the messages one at a time over one connection; returns, for each, whether the server took it.

    One at a time, so a server that fails half-way leaves unsent only the ones it did not take, and an address it
    refuses for now does not hold up the others. Never raises for the mail server: the callers keep what was not
    taken (their rows' e-mailed mark released) for their resend sweep.
    """
    taken = [False] * len(messages)
    connection = get_connection()
    try:
        connection.open()
        for index, message in enumerate(messages):
            try:
                taken[index] = connection.send_messages([message]) == 1
            except REFUSED_ONE as error:
                log.warning("The mail server refused the e-mail to %s: %s", ", ".join(message.to), error)
    except OSError:  # the server is down, silent past EMAIL_TIMEOUT, or went away mid-batch
        log.exception("Could not send %d of %d e-mails", taken.count(False), len(messages))
    finally:
        connection.close()
    return taken


def send_emails(notification_ids, *, bodies=None):
    """E-mail the notifications whose recipients want their kind and have an address; each goes once, and each
    recipient gets one e-mail for all of theirs among `notification_ids` (a digest when there are several).

    The conditional update claims the rows, so a second call with the same ids (a retried task) sends nothing.
    """
    if not notification_ids:
        return 0
    rows = list(
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .select_related("recipient")
        .order_by("pk")
    )
    wanted = set()
    for kind in {row.kind for row in rows}:
        wanted |= {(kind, user_id) for user_id in email_wanted({r.recipient_id for r in rows if r.kind == kind}, kind)}
    rows = [row for row in rows if row.recipient.email and (row.kind, row.recipient_id) in wanted]
    if not rows:
        return 0
    claimed = Notification.objects.filter(pk__in=[row.pk for row in rows], emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if claimed != len(rows):
        return 0  # someone else is sending these
    groups = defaultdict(list)
    for row in rows:
        groups[row.recipient_id].append(row)
    groups = list(groups.values())
    try:
        custom = bodies(set(row.recipient_id for row in rows)) if bodies else {}
        messages_ = [_email(group, custom.get(group[0].recipient_id)) for group in groups]
    except Exception:
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(emailed_at=None)
        raise
    # The inbox already has them; a mail server that is down must not fail the sweep or the task.
    taken = send_each(messages_)
    unsent = [row.pk for group, sent in zip(groups, taken, strict=True) if not sent for row in group]
    if unsent:  # released for the resend sweep
        Notification.objects.filter(pk__in=unsent).update(emailed_at=None)
    return len(rows) - len(unsent)


def _email(group, body=None):
    """One recipient's e-mail: the notification itself, or one digest of several (never one e-mail each)."""
    to = [group[0].recipient.email]
    if len(group) == 1:
        row = group[0]
        body = body or row.text
        link = absolute(row.url)
        return EmailMessage(f"[servicedesk] {subject_line(row.text)}", f"{body}\n\n{link}" if link else body,
                            settings.DEFAULT_FROM_EMAIL, to)
    lines = [f"You have {len(group)} new notifications:", ""]
    for row in group:
        lines.append(f"- {row.text}")
        if row.url:
            lines.append(f"  {absolute(row.url)}")
    lines += ["", f"All of them: {absolute(reverse('notifications'))}"]
    return EmailMessage(f"[servicedesk] {len(group)} new notifications: {subject_line(group[0].text, 80)}",
                        body or "\n".join(lines), settings.DEFAULT_FROM_EMAIL, to)


# A fresh notification's e-mail is sent on commit; the resend sweep leaves it that long before stepping in.
RESEND_AFTER = timedelta(minutes=5)
# A reminder not e-mailed within a day is stale news by e-mail (it stays in the inbox).
RESEND_WITHIN = timedelta(days=1)
RESEND_BATCH = 2000


def resend_unsent_emails(*, now=None):
    """E-mail the recent notifications whose e-mail was not sent (the mail server was down when they were made).

    `send_emails` claims each row with a conditional update before sending and releases it if the server refuses,
    so this sweep, run twice or concurrently, sends each message once; notifications their recipients do not want
    by e-mail are checked again only until they leave the one-day window.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Rows locked by a concurrent run are skipped, so two runs never share a row (send_emails would then
        # give up on the whole batch it could only partly claim).
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(emailed_at__isnull=True, created_at__gte=now - RESEND_WITHIN, created_at__lte=now - RESEND_AFTER)
            .order_by("created_at")
            .values_list("pk", flat=True)[:RESEND_BATCH]
        )
        return send_emails(ids)


# --- pages --------------------------------------------------------------------------------------------------------


# The navbar's badge counts up to this many and shows "99+" beyond: a manager who never opens the inbox gathers
# tens of thousands, and counting them all cost every page of theirs ~12 ms at a large contractor (issue 8).
UNREAD_SHOWN = 99


def unread_badge(user):
    """The navbar's unread count as shown: "" for none, "1" to "99", or "99+"; one query whatever the count."""
    count = Notification.objects.filter(recipient=user).unread().order_by()[:UNREAD_SHOWN + 1].count()
    if count > UNREAD_SHOWN:
        return f"{UNREAD_SHOWN}+"
    return str(count) if count else ""


def context_processor(request):
    """The navbar's unread count: one query, and only when a template actually shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_badge(user))}


def grouped(notifications):
    """The inbox's entries: the notifications one sweep run wrote for one person (same kind, same moment) as one
    group, as their e-mail was one digest; anything else alone. [(first, [all of the group])...], newest first."""
    groups = []
    for notification in notifications:
        if groups and (groups[-1][0].kind, groups[-1][0].created_at) == (notification.kind, notification.created_at):
            groups[-1][1].append(notification)
        else:
            groups.append((notification, [notification]))
    return groups


@roles.role_required(*roles.ALL_ROLES)
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "partials/notifications_page.html", {"page": page, "groups": grouped(page)})


@roles.role_required(*roles.ALL_ROLES)
@require_POST
def notification_mark_read(request):
    Notification.objects.filter(recipient=request.user).unread().update(read_at=timezone.now())
    return redirect("notifications")


@roles.role_required(*roles.ALL_ROLES)
@require_POST
def notification_open(request, pk):
    """Mark one notification read and go to the thing to act on."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        Notification.objects.filter(pk=pk).update(read_at=timezone.now())
    url = notification.url
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect("notifications")
    return redirect(url)


class PreferencesForm(forms.Form):
    def __init__(self, *args, current, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[kind] = forms.BooleanField(label=f"E-mail me: {label.lower()}", required=False,
                                                   initial=current[kind])


@roles.role_required(*roles.ALL_ROLES)
def preferences(request):
    """Which kinds of notification each user also gets by e-mail (the inbox always has them all)."""
    user = request.user
    saved = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    current = {kind: saved.get(kind, Notification.EMAIL_BY_DEFAULT[kind]) for kind in Kind.values}
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            for kind in Kind.values:
                NotificationPreference.objects.update_or_create(
                    user=user, kind=kind, defaults={"email": form.cleaned_data[kind]}
                )
        messages.success(request, "Notification preferences saved.")
        return redirect("notification_preferences")
    return render(request, "servicedesk/notification_preferences.html", {"form": form, "has_email": bool(user.email)})
