"""Notifications: the inbox, mark read, e-mail by each user's preferences, and delivery through a real SMTP server."""

import email
import email.policy
import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from callbacks import reminders
from servicedesk.models import Notification, NotificationPreference
from servicedesk.notifications import RESEND_AFTER, notify, resend_unsent_emails, send_emails
from tests.callbacks.factories import CallbackFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def _overdue_callback(owner):
    return CallbackFactory(assigned_to=owner, logged_at=timezone.now() - timedelta(hours=30))


def test_reminders_are_e_mailed_by_default_and_not_to_someone_who_turned_them_off(
    csr, manager, django_capture_on_commit_callbacks
):
    _overdue_callback(csr)
    _overdue_callback(manager)
    NotificationPreference.objects.create(user=manager, kind=Kind.REMINDER, email=False)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_callback_owners()

    assert Notification.objects.count() == 2  # both still in the inbox
    assert [message.to for message in mail.outbox] == [[csr.email]]
    assert Notification.objects.get(recipient=csr).emailed_at is not None
    assert Notification.objects.get(recipient=manager).emailed_at is None


def test_assignments_are_in_app_only_unless_the_user_asks_for_e_mail(csr, manager, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=manager, kind=Kind.ASSIGNMENT, email=True)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(users=[csr, manager], text="Callback #1 handed to you", url="/callbacks/1/")

    assert [message.to for message in mail.outbox] == [[manager.email]]
    assert "http://localhost:8000/callbacks/1/" in mail.outbox[0].body


def test_an_e_mail_is_sent_once_even_if_sending_is_retried(csr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(users=[csr], text="Escalation", email=True)
    notification = Notification.objects.get()

    assert send_emails([notification.pk]) == 0
    assert len(mail.outbox) == 1


def test_a_user_sets_their_e_mail_preferences(client_for, technician):
    client = client_for(technician)
    page = client.get(reverse("notification_preferences")).content.decode()
    assert "evening briefing" in page

    response = client.post(reverse("notification_preferences"), {"escalation": "on", "reminder": "on"})

    assert response.status_code == 302
    saved = dict(NotificationPreference.objects.filter(user=technician).values_list("kind", "email"))
    assert saved == {"escalation": True, "reminder": True, "briefing": False, "assignment": False}


def test_opening_a_notification_marks_it_read_and_goes_to_the_thing_to_act_on(client_for, csr):
    callback = _overdue_callback(csr)
    reminders.remind_callback_owners()
    reminder = Notification.objects.get()

    response = client_for(csr).post(reverse("notification_open", args=[reminder.pk]))

    assert response.status_code == 302 and response.url == callback.get_absolute_url()
    reminder.refresh_from_db()
    assert reminder.read_at is not None


def test_nobody_opens_another_users_notification(client_for, csr, manager, outsider):
    _overdue_callback(csr)
    reminders.remind_callback_owners()
    reminder = Notification.objects.get()

    assert client_for(manager).post(reverse("notification_open", args=[reminder.pk])).status_code == 404
    # Someone without a role has no inbox at all: notifications may name customers.
    assert client_for(outsider).get(reverse("notifications")).status_code == 403
    assert client_for(outsider).post(reverse("notification_open", args=[reminder.pk])).status_code == 403
    reminder.refresh_from_db()
    assert reminder.read_at is None


def test_the_inbox_shows_the_unread_count_and_marks_all_read(client_for, csr):
    _overdue_callback(csr)
    reminders.remind_callback_owners()
    client = client_for(csr)

    assert "1<span class=\"visually-hidden\"> unread" in client.get(reverse("notifications")).content.decode()
    client.post(reverse("notifications_read"))
    assert not Notification.objects.unread().exists()


def test_the_navbar_counts_unread_notifications_up_to_99_in_one_query(client_for, csr, django_assert_num_queries):
    client = client_for(csr)
    client.get(reverse("notifications"))  # the session and the user, read once per request below too
    Notification.objects.bulk_create(
        [Notification(recipient=csr, kind=Kind.REMINDER, text=f"Reminder {n}", key=f"test:{n}") for n in range(99)]
    )
    assert ">99<span class=\"visually-hidden\"> unread" in client.get(reverse("notifications")).content.decode()

    Notification.objects.create(recipient=csr, kind=Kind.REMINDER, text="One more", key="test:100")
    with django_assert_num_queries(4):  # session, user, roles, and the badge's count however many are unread
        page = client.get(reverse("password_change_done")).content.decode()
    assert ">99+<span class=\"visually-hidden\"> unread" in page


# --- a real SMTP server on loopback ---------------------------------------------------------------------------------


class _Inbox:
    def __init__(self):
        self.envelopes = []
        self.refuse = set()  # addresses the server answers "mailbox busy, try later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "450 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SITE_URL = "https://desk.example.com"
    yield inbox
    controller.stop()


def test_a_reminder_is_delivered_through_a_real_smtp_server(csr, smtp_server, django_capture_on_commit_callbacks):
    callback = _overdue_callback(csr)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_callback_owners()

    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == [csr.email]
    message = envelope.content.decode()
    assert f"callback #{callback.pk}" in message
    assert f"https://desk.example.com{callback.get_absolute_url()}" in message
    assert Notification.objects.get().emailed_at is not None


def test_a_mail_server_that_is_down_leaves_the_reminder_in_the_inbox_to_e_mail_later(
    csr, smtp_server, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = sock.getsockname()[1]  # nothing listens there
    _overdue_callback(csr)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_callback_owners()

    reminder = Notification.objects.get()
    assert reminder.emailed_at is None


def test_an_address_the_server_refuses_for_now_is_e_mailed_later_and_the_others_once(
    csr, manager, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refuse = {csr.email}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(users=[csr, manager], text="Escalation: callback overdue twice", email=True)

    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [[manager.email]]
    assert Notification.objects.get(recipient=csr).emailed_at is None

    smtp_server.refuse = set()
    later = timezone.now() + RESEND_AFTER
    resend_unsent_emails(now=later)
    resend_unsent_emails(now=later)

    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [[manager.email], [csr.email]]
    assert not Notification.objects.filter(emailed_at=None).exists()


# --- issue 18, point 10: e-mail outside the request, single-line subjects, a timeout --------------------------------


def test_a_line_break_in_a_notification_still_e_mails_it_with_a_one_line_subject(
    manager, smtp_server, django_capture_on_commit_callbacks
):
    # A customer name with a newline (accepted by the import), a two-line question from the public page.
    text = "New question from Ann\nSmith on the feedback page:\r\nIs the warranty\ntransferable?"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(users=[manager], text=text, email=True)

    [envelope] = smtp_server.envelopes
    subject = email.message_from_bytes(envelope.content, policy=email.policy.default)["Subject"]
    assert subject == "[servicedesk] New question from Ann Smith on the feedback page: Is the warranty transferable?"
    assert Notification.objects.get().emailed_at is not None


def test_a_mail_server_that_never_answers_leaves_the_e_mail_unsent_for_the_resend_sweep(
    manager, smtp_server, settings, django_capture_on_commit_callbacks
):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # takes the connection, never says a word
    settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = silent.getsockname()[1], 1
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notify(users=[manager], text="Escalation: callback overdue twice", email=True)
    finally:
        silent.close()

    assert Notification.objects.get().emailed_at is None
    settings.EMAIL_PORT = smtp_server.port
    resend_unsent_emails(now=timezone.now() + RESEND_AFTER)
    assert [envelope.rcpt_tos for envelope in smtp_server.envelopes] == [[manager.email]]


def test_a_message_that_cannot_be_written_is_left_unsent_and_the_others_go(csr, manager):
    manager.email = "manager@example.com\nBcc: everyone@example.com"  # stored by an old import, say
    manager.save()
    ids = [Notification.objects.create(recipient=user, kind=Kind.ESCALATION, text="Escalation").pk
           for user in (csr, manager)]

    assert send_emails(ids) == 1

    assert [message.to for message in mail.outbox] == [[csr.email]]
    assert Notification.objects.get(recipient=manager).emailed_at is None


def test_several_notifications_for_one_person_in_one_batch_are_one_e_mail(csr, django_capture_on_commit_callbacks):
    for _ in range(3):
        _overdue_callback(csr)

    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind_callback_owners()

    assert Notification.objects.filter(recipient=csr).count() == 3
    [message] = mail.outbox
    assert message.subject.startswith("[servicedesk] 3 new notifications")
    assert message.body.count("overdue") == 3
    assert "http://localhost:8000/notifications/" in message.body


def test_the_inbox_groups_one_sweep_runs_notifications_for_a_person_as_one_entry(client_for, csr):
    for _ in range(3):
        _overdue_callback(csr)
    reminders.remind_callback_owners()
    Notification.objects.create(recipient=csr, kind=Kind.ASSIGNMENT, text="Callback #9 handed to you")

    page = client_for(csr).get(reverse("notifications")).content.decode()

    assert page.count('class="list-group-item notification-group"') == 1
    assert "3 notifications: Overdue: callback #" in page and "and 2 more" in page
    assert page.count("Callback #9 handed to you") == 1
    # Each one still opens on its own from inside the group.
    assert len(re.findall(r'action="/notifications/\d+/', page)) == 4
