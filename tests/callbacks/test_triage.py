"""Issue 17, point 1: a web callback has a real owner. It waits in the office's triage queue (Today: "New from
customers"), every CSR (or the triage owner the managers set) is reminded when its first contact is due, the managers
hear on the normal schedule, and a CSR takes it in one click."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks import reminders, services
from callbacks.models import Callback, CallbackEvent, Triage
from servicedesk import roles
from servicedesk.models import Notification
from servicedesk.public.services import WEB_INTAKE_USERNAME, feedback_submit, web_intake_user
from tests.callbacks.factories import CallbackFactory, CompletedJobFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def _web_complaint(*, job=None, logged_hours_ago=0):
    now = timezone.now() - timedelta(hours=logged_hours_ago)
    _, callback = feedback_submit(job=job or CompletedJobFactory(), kind="complaint", rating=2, now=now,
                                  text="The furnace is blowing cold air again.", wants_call_back=True)
    return callback


def _reminded(callback):
    return set(Notification.objects.filter(url=callback.get_absolute_url(), kind=Kind.REMINDER)
               .values_list("recipient__username", flat=True))


def test_a_web_complaint_is_owned_by_nobody_and_waits_in_the_triage_queue(csr):
    callback = _web_complaint()

    assert callback.assigned_to is None
    assert callback.logged_by.username == WEB_INTAKE_USERNAME
    assert list(Callback.objects.in_triage()) == [callback]
    assert not Callback.objects.filter(assigned_to=web_intake_user()).exists()


def test_today_shows_how_many_callbacks_are_new_from_customers(client_for, csr):
    _web_complaint()
    _web_complaint(logged_hours_ago=5)  # a complaint is high urgency: first contact due within 4 hours
    CallbackFactory(assigned_to=csr)  # owned: not in triage

    response = client_for(csr).get(reverse("home"))

    queues = {queue["name"]: queue for queue in response.context["queues"]}
    assert (queues["New from customers"]["count"], queues["New from customers"]["overdue"]) == (2, 1)
    assert queues["New from customers"]["url"] == reverse("callbacks:triage")
    assert "New from customers" in response.content.decode()


def test_a_web_callbacks_first_contact_due_reminds_every_active_csr_never_the_intake_account(csr, manager):
    dana = UserFactory(username="dana", role=roles.CSR)
    UserFactory(username="gone", role=roles.CSR, is_active=False)
    callback = _web_complaint(logged_hours_ago=5)

    assert reminders.remind_callback_owners() == 2
    assert reminders.remind_callback_owners() == 0

    assert _reminded(callback) == {csr.username, dana.username}
    reminder = Notification.objects.get(recipient=dana, kind=Kind.REMINDER)
    assert "first contact overdue" in reminder.text and "Nobody owns it" in reminder.text
    assert not Notification.objects.filter(recipient__username=WEB_INTAKE_USERNAME).exists()


def test_the_triage_owner_a_manager_sets_is_reminded_instead_of_every_csr(csr, manager):
    dana = UserFactory(username="dana", role=roles.CSR)
    services.triage_owner_set(owner=dana, by=manager)
    callback = _web_complaint(logged_hours_ago=5)

    reminders.remind_callback_owners()

    assert _reminded(callback) == {"dana"}


def test_a_triage_owner_who_has_left_hands_the_reminders_back_to_every_csr(csr, manager):
    dana = UserFactory(username="dana", role=roles.CSR)
    services.triage_owner_set(owner=dana, by=manager)
    dana.is_active = False
    dana.save()
    callback = _web_complaint(logged_hours_ago=5)

    reminders.remind_callback_owners()

    assert _reminded(callback) == {csr.username}


def test_only_managers_set_the_triage_owner_and_only_to_someone_in_the_office(csr, manager, technician):
    with pytest.raises(ValidationError):
        services.triage_owner_set(owner=csr, by=csr)
    with pytest.raises(ValidationError):
        services.triage_owner_set(owner=technician, by=manager)


def test_a_callback_whose_owner_has_left_goes_back_to_triage_not_to_the_inactive_owner(csr):
    gone = UserFactory(username="gone", role=roles.CSR, is_active=False)
    callback = CallbackFactory(assigned_to=gone, logged_at=timezone.now() - timedelta(hours=26))

    reminders.remind_callback_owners()

    assert list(Callback.objects.in_triage()) == [callback]
    assert _reminded(callback) == {csr.username}


def test_an_unowned_web_callback_twice_overdue_is_escalated_to_the_managers(csr, manager):
    callback = _web_complaint(logged_hours_ago=9)  # high urgency: due after 4 hours, twice overdue after 8

    assert reminders.escalate_twice_overdue_callbacks() == 1

    escalation = Notification.objects.get(recipient=manager)
    assert escalation.kind == Kind.ESCALATION and escalation.url == callback.get_absolute_url()


def test_a_csr_takes_a_callback_from_the_triage_queue_in_one_click(client_for, csr):
    callback = _web_complaint()
    client = client_for(csr)
    assert f"Take callback #{callback.pk}" in client.get(reverse("callbacks:triage")).content.decode()

    response = client.post(reverse("callbacks:take", args=[callback.pk]), follow=True)

    callback.refresh_from_db()
    assert callback.assigned_to == csr
    assert response.redirect_chain[-1][0] == callback.get_absolute_url()
    assert "is yours" in response.content.decode()
    assert callback.events.filter(action=CallbackEvent.Action.TAKEN, by=csr).exists()
    assert not Callback.objects.in_triage().exists()
    assert callback in Callback.objects.filter(assigned_to=csr)  # on "My callbacks"


def test_taking_a_callback_someone_took_first_is_refused_and_says_who(client_for, csr):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Cho", role=roles.CSR)
    callback = _web_complaint()
    services.callback_take(callback=callback, by=dana)

    with pytest.raises(services.TransitionRefused, match="taken by Dana Cho"):
        services.callback_take(callback=callback, by=csr)
    response = client_for(csr).post(reverse("callbacks:take", args=[callback.pk]), follow=True)

    assert "taken by Dana Cho" in response.content.decode()
    callback.refresh_from_db()
    assert callback.assigned_to == dana


def test_a_technician_cannot_take_a_callback(technician):
    callback = _web_complaint()

    with pytest.raises(ValidationError):
        services.callback_take(callback=callback, by=technician)


def test_the_first_contact_on_a_callback_nobody_owns_makes_it_the_csrs(csr):
    callback = _web_complaint()

    callback = services.callback_acknowledge(callback=callback, by=csr)

    assert callback.assigned_to == csr
    assert not Callback.objects.in_triage().exists()


def test_the_callback_page_offers_take_it_while_nobody_owns_it(client_for, csr):
    callback = _web_complaint()
    client = client_for(csr)

    assert "Take it" in client.get(callback.get_absolute_url()).content.decode()
    services.callback_take(callback=callback, by=csr)
    assert "Take it" not in client.get(callback.get_absolute_url()).content.decode()


@pytest.mark.parametrize("waiting", [1, 12])
def test_the_triage_page_is_a_fixed_number_of_queries(client_for, csr, waiting, django_assert_num_queries):
    for _ in range(waiting):
        _web_complaint()
    client = client_for(csr)

    # session, user, roles, unread count, count, page, jobs, people, triage owner
    with django_assert_num_queries(9):
        assert client.get(reverse("callbacks:triage")).status_code == 200


def test_a_manager_names_the_triage_owner_on_the_triage_page(client_for, manager, csr):
    client = client_for(manager)
    assert 'id="triage-owner"' in client.get(reverse("callbacks:triage")).content.decode()

    client.post(reverse("callbacks:triage_owner"), {"owner": csr.pk})

    assert Triage.current().owner == csr
    assert "Carla Reyes is reminded" in client.get(reverse("callbacks:triage")).content.decode()
    client.post(reverse("callbacks:triage_owner"), {"owner": ""})
    assert Triage.current().owner is None
