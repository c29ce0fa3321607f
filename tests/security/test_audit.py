"""Point 11 of issue 9: every state change of a callback, a recommendation and a follow-up call can be traced to a
user and a time, and no staff page (nor the admin, even for a manager) deletes any of it."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from callbacks.models import (
    CallAttempt,
    Callback,
    CallbackEvent,
    CustomerContact,
    FollowUpCall,
    FollowUpCallEvent,
    HandOff,
    RecoveryStep,
    Referral,
    TrainingItem,
)
from customers.models import AbusiveCall, ConsentEvent, DoNotServiceDecision, JobEvent
from recommendations.models import Discussion, Recommendation, RecommendationEvent
from servicedesk import roles
from servicedesk.models import SettingChange
from tests.callbacks.factories import CompletedJobFactory
from tests.callbacks.follow_ups.call_factories import FollowUpCallFactory
from tests.factories import UserFactory

from .test_url_matrix import MATRIX
from .urls import kwargs_for

pytestmark = pytest.mark.django_db

# The records the trail is made of: none may be deleted through the app or its admin.
AUDIT_MODELS = [
    Callback, CallbackEvent, RecoveryStep, HandOff, CustomerContact, TrainingItem,
    FollowUpCall, CallAttempt, Referral,
    Recommendation, RecommendationEvent, Discussion,
    DoNotServiceDecision, AbusiveCall,
    JobEvent, ConsentEvent, FollowUpCallEvent, SettingChange,
]
State = Callback.State
Action = CallbackEvent.Action


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _post(user, url_name, data, **kwargs):
    response = _client(user).post(reverse(url_name, kwargs=kwargs), data)
    assert response.status_code == 302, (url_name, response.status_code, getattr(response, "context", None) and [
        form.errors for key, form in response.context.items() if key.endswith("_form") and form.errors])
    return response


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_callback_walked_from_logging_to_reopened_and_closed_again_leaves_a_complete_trail(world):
    csr, manager, tech = world.users["csr"], world.users["manager"], world.users["technician"]
    job = CompletedJobFactory(lead_technician=tech)
    started = timezone.now()

    response = _post(csr, "callbacks:new", {
        "customer": job.customer.pk, "job": job.pk, "problem": "No heat upstairs.", "channel": "phone",
        "urgency": "normal",
    })
    callback = Callback.objects.get(job=job)
    assert response.url == callback.get_absolute_url()
    steps = [
        (csr, "callbacks:acknowledge", {"note": "Listened; apologised twice."}),
        (csr, "callbacks:hand_off", {"to_user": manager.pk, "warm": "1", "note": "Three-way with Morgan."}),
        (manager, "callbacks:contact", {"kind": "call", "summary": "Explained the revisit."}),
        (manager, "callbacks:schedule_revisit", {"technician": tech.pk, "start": _local(started + timedelta(hours=2)),
                                                 "no_charge": "on"}),
        (tech, "callbacks:resolve", {"root_cause": Callback.RootCause.WORKMANSHIP,
                                     "resolution": "Re-seated the flue."}),
        (csr, "callbacks:close", {"outcome": "fixed", "note": "Warm all night."}),
        (manager, "callbacks:reopen", {"reason": "Cold again this morning."}),
        (manager, "callbacks:resolve", {"root_cause": Callback.RootCause.PRE_EXISTING,
                                        "resolution": "Cracked inducer housing, there before our visit."}),
        (csr, "callbacks:close", {"outcome": "fixed", "note": "Confirmed fixed."}),
    ]
    for user, name, data in steps:
        _post(user, name, data, pk=callback.pk)

    events = list(CallbackEvent.objects.filter(callback=callback).order_by("at", "pk"))
    assert [(event.action, event.by) for event in events] == [
        (Action.LOGGED, csr),
        (Action.ACKNOWLEDGED, csr),
        (Action.HANDED_OFF, csr),
        (Action.CONTACT, manager),
        (Action.REVISIT_SCHEDULED, manager),
        (Action.RESOLVED, tech),
        (Action.TRAINING, tech),  # workmanship: a training item for the technician who caused it
        (Action.CLOSED, csr),
        (Action.REOPENED, manager),
        (Action.RESOLVED, manager),
        (Action.CLOSED, csr),
    ]
    # When: in the order things happened, within the walk.
    times = [event.at for event in events]
    assert times == sorted(times) and started <= times[0] and times[-1] <= timezone.now()
    assert [event.pk for event in events] == sorted(event.pk for event in events)
    # Every state change is one event whose "from" is the state the previous change left.
    changes = [event for event in events if event.to_state]
    assert [(event.from_state, event.to_state) for event in changes] == [
        ("", State.NEW),
        (State.NEW, State.ACKNOWLEDGED),
        (State.ACKNOWLEDGED, State.REVISIT_SCHEDULED),
        (State.REVISIT_SCHEDULED, State.RESOLVED),
        (State.RESOLVED, State.CLOSED),
        (State.CLOSED, State.ACKNOWLEDGED),
        (State.ACKNOWLEDGED, State.RESOLVED),
        (State.RESOLVED, State.CLOSED),
    ]
    callback.refresh_from_db()
    assert callback.state == changes[-1].to_state == State.CLOSED
    assert callback.reopen_count == 1 and callback.closed_by == csr
    # The records beside the timeline carry who and when too.
    hand_off = HandOff.objects.get(callback=callback)
    assert (hand_off.by, hand_off.from_user, hand_off.to_user, hand_off.warm) == (csr, csr, manager, True)
    contact = CustomerContact.objects.get(callback=callback)
    assert contact.by == manager and started <= contact.at
    item = TrainingItem.objects.get(callback=callback)
    assert item.technician == tech and started <= item.created_at
    # The callback page shows the whole trail, each line with its author.
    page = _client(manager).get(callback.get_absolute_url()).content.decode()
    for name in ("Carla Reyes", "Morgan Hale", "Tom Alvarez", "Cold again this morning."):
        assert name in page


def test_a_recommendations_lifecycle_is_traced_event_by_event(world):
    tech, csr, sales = world.users["technician"], world.users["csr"], world.users["sales"]
    recommendation = world.recommendation
    start = _local(timezone.now() + timedelta(days=3))

    _post(tech, "recommendations:discuss", {"response": "not_now", "note": "After the holidays."},
          job_pk=world.job.pk, pk=recommendation.pk)
    _post(csr, "recommendations:action", {"pass-to-sales-to": sales.pk}, pk=recommendation.pk, name="pass-to-sales")
    _post(sales, "recommendations:action", {"defer-until": str(timezone.localdate() + timedelta(days=30))},
          pk=recommendation.pk, name="defer")
    _post(sales, "recommendations:action", {"reopen-note": "Called early."}, pk=recommendation.pk, name="reopen")
    _post(sales, "recommendations:action", {"accept-scheduled_start": start, "accept-hours": "2"},
          pk=recommendation.pk, name="accept")

    events = list(recommendation.events.order_by("at", "pk"))
    assert [(event.action, event.by, event.from_state, event.to_state) for event in events] == [
        ("raised", tech, "", "open"),
        ("passed_to_sales", csr, "open", "open"),
        ("state_changed", sales, "open", "deferred"),
        ("state_changed", sales, "deferred", "open"),
        ("state_changed", sales, "open", "accepted"),
    ]
    assert [event.at for event in events] == sorted(event.at for event in events)
    discussion = Discussion.objects.get(recommendation=recommendation)
    assert (discussion.technician, discussion.job, discussion.response) == (tech, world.job, "not_now")
    recommendation.refresh_from_db()
    assert recommendation.state == events[-1].to_state == "accepted"


def test_every_attempt_at_a_follow_up_call_is_kept_with_who_and_when(world, settings):
    csr, manager = world.users["csr"], world.users["manager"]
    call = FollowUpCallFactory()

    _post(csr, "callbacks:call_next", {})
    _post(csr, "callbacks:call_attempt", {"outcome": "no_answer", "note": "Rang out."}, pk=call.pk)
    FollowUpCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    _post(manager, "callbacks:call_next", {})
    _post(manager, "callbacks:call_attempt", {"outcome": "reached", "satisfaction": "5", "issues": "None."},
          pk=call.pk)

    attempts = list(CallAttempt.objects.filter(call=call).order_by("at", "pk"))
    assert [(attempt.by, attempt.outcome) for attempt in attempts] == [(csr, "no_answer"), (manager, "reached")]
    assert attempts[0].at <= attempts[1].at
    call.refresh_from_db()
    assert (call.state, call.attempts, call.completed_by) == (FollowUpCall.State.DONE, 2, manager)
    assert call.completed_at == attempts[-1].at


def _counts():
    return {model.__name__: model.objects.count() for model in AUDIT_MODELS}


def test_no_staff_page_deletes_anything_even_asked_with_delete(world):
    """No URL is a delete view: an HTTP DELETE (or a POST) by a manager or a CSR to every URL removes no record."""
    before = _counts()
    assert all(before[name] for name in ("Callback", "CallbackEvent", "Recommendation", "RecommendationEvent",
                                         "FollowUpCall", "TrainingItem", "DoNotServiceDecision"))
    for user in (world.users["manager"], world.users["csr"]):
        client = _client(user)
        for name in {name for name, _ in MATRIX}:
            if name in ("logout",):
                continue
            client.delete(reverse(name, kwargs=kwargs_for(world, name)))

    assert _counts() == before


@pytest.mark.parametrize("superuser", [False, True], ids=["manager", "superuser-manager"])
def test_the_admin_lets_no_manager_delete_or_rewrite_the_trail(superuser):
    manager = UserFactory(username="admin-manager", role=roles.MANAGER, is_staff=True, is_superuser=superuser)
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=manager.pk)

    for model in AUDIT_MODELS:
        model_admin = admin.site._registry.get(model)
        if model_admin is None:
            continue  # not in the admin at all
        assert not model_admin.has_delete_permission(request), model.__name__
        assert "delete_selected" not in model_admin.get_actions(request), model.__name__
        for inline in model_admin.get_inline_instances(request):
            if inline.model in AUDIT_MODELS:
                # Django offers an inline's delete boxes only when both say yes.
                assert not (inline.can_delete and inline.has_delete_permission(request)), inline.model.__name__
        if model.__name__.endswith(("Event", "Attempt")) or model is Discussion:
            assert not model_admin.has_change_permission(request), model.__name__
