from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks import services
from callbacks.models import Callback, CallbackEvent, RecoveryStep, TrainingItem, UrgencyTarget, checklist
from customers.models import Job
from servicedesk.models import Notification
from tests.callbacks.factories import CompletedJobFactory
from tests.factories import JobFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

State = Callback.State
NOW = timezone.now().replace(microsecond=0)


def log(job, user, *, urgency="normal", now=NOW, problem="Still no hot water."):
    return services.callback_log(job=job, problem=problem, channel="phone", urgency=urgency, logged_by=user, now=now)


def walk_to(callback, state, user, now=NOW):
    """Move a callback through the allowed transitions up to `state`."""
    order = [State.ACKNOWLEDGED, State.REVISIT_SCHEDULED, State.RESOLVED, State.CLOSED]
    for step in order[: order.index(state) + 1]:
        if step == State.ACKNOWLEDGED:
            callback = services.callback_acknowledge(callback=callback, by=user, now=now)
        elif step == State.REVISIT_SCHEDULED:
            callback = services.callback_schedule_revisit(
                callback=callback, by=user, technician=TechnicianFactory(), start=now + timedelta(hours=3), now=now
            )
        elif step == State.RESOLVED:
            callback = services.callback_resolve(callback=callback, by=user, root_cause="customer_caused", now=now)
        else:
            callback = services.callback_close(callback=callback, by=user, confirmed=True, note="All good", now=now)
    return callback


# --- logging and repeat detection --------------------------------------------------------------------------------


def test_logging_copies_the_job_and_fixes_the_urgency_targets(csr):
    job = CompletedJobFactory()

    callback = log(job, csr, urgency="emergency")

    assert (callback.customer, callback.site, callback.equipment) == (job.customer, job.site, job.equipment)
    assert callback.state == State.NEW and callback.assigned_to == csr and not callback.is_repeat
    assert callback.first_contact_due_at == NOW + timedelta(hours=1)
    assert callback.revisit_due_at == NOW + timedelta(hours=4)
    assert callback.due_at == callback.first_contact_due_at
    assert list(callback.events.values_list("action", "to_state")) == [("logged", "new")]


def test_second_callback_on_same_job_is_marked_repeat_and_escalated(
    csr, manager, django_capture_on_commit_callbacks, mailoutbox
):
    job = CompletedJobFactory()
    first = log(job, csr, now=NOW - timedelta(days=200))

    with django_capture_on_commit_callbacks(execute=True):
        second = log(job, csr)

    assert second.is_repeat and second.repeat_of == first
    assert second.events.filter(action=CallbackEvent.Action.ESCALATED).exists()
    assert Notification.objects.get(recipient=manager).url == second.get_absolute_url()
    assert [m.to for m in mailoutbox] == [[manager.email]] and "Repeat callback" in mailoutbox[0].subject


def test_callback_on_the_same_equipment_within_the_window_is_a_repeat(csr):
    earlier = log(CompletedJobFactory(), csr, now=NOW - timedelta(days=89))
    later_job = CompletedJobFactory(equipment=earlier.equipment, site=earlier.site)

    assert log(later_job, csr).repeat_of == earlier


def test_callback_on_the_same_equipment_outside_the_window_is_not_a_repeat(csr):
    earlier = log(CompletedJobFactory(), csr, now=NOW - timedelta(days=91))
    later_job = CompletedJobFactory(equipment=earlier.equipment, site=earlier.site)

    assert not log(later_job, csr).is_repeat


def test_repeat_window_comes_from_settings(csr, settings):
    settings.CALLBACK_REPEAT_WINDOW_DAYS = 200
    earlier = log(CompletedJobFactory(), csr, now=NOW - timedelta(days=150))
    later_job = CompletedJobFactory(equipment=earlier.equipment, site=earlier.site)

    assert log(later_job, csr).is_repeat


def test_other_equipment_at_the_same_site_is_not_a_repeat(csr):
    earlier = log(CompletedJobFactory(), csr)
    other_job = CompletedJobFactory(equipment__site=earlier.site)

    assert not log(other_job, csr).is_repeat


def test_unrelated_new_problem_does_not_make_the_next_callback_a_repeat(csr):
    job = CompletedJobFactory()
    unrelated = log(job, csr)
    services.callback_acknowledge(callback=unrelated, by=csr)
    services.callback_resolve(callback=unrelated, by=csr, root_cause="unrelated")

    assert not log(job, csr).is_repeat


def test_a_callback_revisit_job_cannot_be_the_original_job(csr):
    with pytest.raises(ValidationError, match="reopen its callback"):
        log(JobFactory(kind=Job.Kind.CALLBACK_REVISIT), csr)


# --- transitions ----------------------------------------------------------------------------------------------------


def test_the_whole_recovery_is_recorded_with_who_and_when(csr, manager):
    callback = log(CompletedJobFactory(), csr)
    fixer = TechnicianFactory()

    callback = services.callback_acknowledge(callback=callback, by=csr, now=NOW + timedelta(minutes=5))
    callback = services.callback_schedule_revisit(
        callback=callback, by=csr, technician=fixer, start=NOW + timedelta(hours=5), now=NOW + timedelta(minutes=6)
    )
    callback = services.callback_resolve(
        callback=callback, by=fixer, root_cause="communication", resolution="Showed how the thermostat schedule works",
        labour_hours=Decimal("1.5"), parts_cost=Decimal("0"), now=NOW + timedelta(hours=6),
    )
    callback = services.callback_close(callback=callback, by=csr, confirmed=True, note="Warm now, thanks",
                                       now=NOW + timedelta(days=1))

    assert callback.state == State.CLOSED and callback.confirmed_by_customer and callback.due_at is None
    revisit = callback.revisit_job
    assert revisit.kind == Job.Kind.CALLBACK_REVISIT and revisit.no_charge and revisit.lead_technician == fixer
    assert revisit.status == Job.Status.COMPLETED
    events = list(callback.events.values_list("action", "from_state", "to_state", "by"))
    assert events == [
        ("logged", "", "new", csr.pk),
        ("acknowledged", "new", "acknowledged", csr.pk),
        ("revisit_scheduled", "acknowledged", "revisit_scheduled", csr.pk),
        ("resolved", "revisit_scheduled", "resolved", fixer.pk),
        ("closed", "resolved", "closed", csr.pk),
    ]


REFUSED = [
    ("acknowledge", State.ACKNOWLEDGED),
    ("acknowledge", State.CLOSED),
    ("schedule_revisit", State.NEW),
    ("schedule_revisit", State.REVISIT_SCHEDULED),
    ("resolve", State.NEW),
    ("resolve", State.RESOLVED),
    ("close", State.NEW),
    ("close", State.ACKNOWLEDGED),
    ("close", State.CLOSED),
    ("reopen", State.NEW),
    ("reopen", State.REVISIT_SCHEDULED),
]


def _attempt(action, callback, user):
    if action == "acknowledge":
        services.callback_acknowledge(callback=callback, by=user)
    elif action == "schedule_revisit":
        services.callback_schedule_revisit(callback=callback, by=user, technician=TechnicianFactory(),
                                           start=NOW + timedelta(hours=1))
    elif action == "resolve":
        services.callback_resolve(callback=callback, by=user, root_cause="workmanship")
    elif action == "close":
        services.callback_close(callback=callback, by=user, confirmed=True)
    else:
        services.callback_reopen(callback=callback, by=user, reason="Still broken")


@pytest.mark.parametrize(("action", "state"), REFUSED)
def test_a_transition_out_of_order_is_refused_and_changes_nothing(csr, action, state):
    callback = log(CompletedJobFactory(), csr)
    if state != State.NEW:
        callback = walk_to(callback, state, csr)
    events_before = callback.events.count()

    with pytest.raises(services.TransitionRefused):
        _attempt(action, callback, csr)

    callback.refresh_from_db()
    assert callback.state == state and callback.events.count() == events_before


def test_resolving_straight_from_acknowledged_is_allowed_without_a_revisit(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)

    callback = services.callback_resolve(callback=callback, by=csr, root_cause="customer_caused")

    assert callback.state == State.RESOLVED and callback.revisit_job is None


def test_not_fixed_at_the_closure_call_reopens_with_a_fresh_revisit_target(csr, manager,
                                                                           django_capture_on_commit_callbacks):
    callback = walk_to(log(CompletedJobFactory(), csr), State.RESOLVED, csr)
    later = NOW + timedelta(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        callback = services.callback_close(callback=callback, by=csr, confirmed=False, note="Cold again", now=later)

    assert callback.state == State.ACKNOWLEDGED and callback.reopen_count == 1
    assert callback.revisit_job is None and callback.root_cause == ""
    assert callback.revisit_due_at == later + timedelta(hours=72)
    assert callback.events.last().action == "reopened" and callback.events.last().note == "Cold again"
    assert Notification.objects.filter(recipient=manager, text__contains="reopened").exists()


def test_a_closed_callback_can_be_reopened(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.CLOSED, csr)

    callback = services.callback_reopen(callback=callback, by=csr, reason="Leak is back")

    assert callback.state == State.ACKNOWLEDGED and callback.closed_at is None and not callback.confirmed_by_customer


# --- root cause, evidence, training -----------------------------------------------------------------------------------


def test_faulty_part_without_evidence_is_refused(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)

    with pytest.raises(ValidationError) as refused:
        services.callback_resolve(callback=callback, by=csr, root_cause="faulty_part", faulty_part="Igniter")

    assert set(refused.value.error_dict) == {"part_supplier", "rma_reference"}
    callback.refresh_from_db()
    assert callback.state == State.ACKNOWLEDGED


def test_faulty_part_with_evidence_is_recorded(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)

    callback = services.callback_resolve(callback=callback, by=csr, root_cause="faulty_part", faulty_part="Igniter",
                                         part_supplier="Ferguson", rma_reference="RMA-7781")

    assert (callback.faulty_part, callback.part_supplier, callback.rma_reference) == ("Igniter", "Ferguson", "RMA-7781")
    assert not TrainingItem.objects.exists()


@pytest.mark.parametrize("cause", ["workmanship", "misdiagnosis", "installation"])
def test_causes_that_are_the_technicians_create_a_training_item(csr, cause):
    job = CompletedJobFactory()
    callback = walk_to(log(job, csr), State.ACKNOWLEDGED, csr)

    services.callback_resolve(callback=callback, by=csr, root_cause=cause, resolution="Flue not sealed", now=NOW)

    item = TrainingItem.objects.get()
    assert item.technician == job.lead_technician and item.root_cause == cause
    assert item.what_happened == "Flue not sealed"
    assert item.due_on == timezone.localdate(NOW) + timedelta(days=14) and item.done_on is None


def test_training_goes_to_the_helper_named_as_responsible(csr):
    job = CompletedJobFactory()
    helper = TechnicianFactory()
    job.helpers.add(helper)
    callback = walk_to(log(job, csr), State.ACKNOWLEDGED, csr)

    services.callback_resolve(callback=callback, by=csr, root_cause="workmanship", responsible_technician=helper)

    assert TrainingItem.objects.get().technician == helper


@pytest.mark.parametrize("cause", ["faulty_part", "communication", "customer_caused", "unrelated", "pre_existing"])
def test_other_causes_create_no_training_item(csr, cause):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)
    evidence = {"faulty_part": "Valve", "part_supplier": "Acme", "rma_reference": "R1"}

    services.callback_resolve(callback=callback, by=csr, root_cause=cause, **evidence)

    assert not TrainingItem.objects.exists()


def test_completing_a_training_item_needs_what_was_learned(manager, csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)
    services.callback_resolve(callback=callback, by=csr, root_cause="workmanship")
    item = TrainingItem.objects.get()

    with pytest.raises(ValidationError):
        services.training_item_complete(item=item, by=manager, lesson=" ")
    item = services.training_item_complete(item=item, by=manager, lesson="Check the flue seal twice", now=NOW)

    assert item.done_on == timezone.localdate(NOW) and item.lesson == "Check the flue seal twice"


# --- SLA clock ------------------------------------------------------------------------------------------------------


def test_the_clock_counts_down_to_first_contact_then_to_the_revisit(csr):
    callback = log(CompletedJobFactory(), csr, urgency="high")

    assert callback.clock(NOW + timedelta(hours=1)).label == "First contact"
    assert callback.clock(NOW + timedelta(hours=1)).remaining == timedelta(hours=3)
    assert not callback.is_overdue(NOW + timedelta(hours=3, minutes=59))
    assert callback.is_overdue(NOW + timedelta(hours=4, minutes=1))

    callback = services.callback_acknowledge(callback=callback, by=csr, now=NOW + timedelta(hours=5))

    clock = callback.clock(NOW + timedelta(hours=5))
    assert clock.label == "Revisit" and clock.due_at == NOW + timedelta(hours=24) and not clock.overdue


def test_a_promised_customer_update_sooner_than_the_target_drives_the_clock(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.ACKNOWLEDGED, csr)
    promised = NOW + timedelta(hours=2)

    services.callback_record_contact(callback=callback, by=csr, kind="call", summary="Parts ordered",
                                     next_update_due_at=promised, now=NOW)

    callback.refresh_from_db()
    assert callback.next_update_due_at == promised and callback.due_at == promised
    assert callback.clock(NOW).label == "Customer update"
    assert Callback.objects.overdue(NOW + timedelta(hours=3)).filter(pk=callback.pk).exists()


def test_a_promised_update_must_be_in_the_future(csr):
    callback = log(CompletedJobFactory(), csr)

    with pytest.raises(ValidationError):
        services.callback_record_contact(callback=callback, by=csr, kind="call", summary="Called",
                                         next_update_due_at=NOW - timedelta(hours=1), now=NOW)


def test_after_resolving_the_closure_call_is_due_the_next_day(csr):
    callback = walk_to(log(CompletedJobFactory(), csr), State.RESOLVED, csr, now=NOW)

    clock = callback.clock(NOW)
    assert clock.label == "Closure call" and clock.due_at == NOW + timedelta(days=1)


def test_lists_sort_overdue_first(csr):
    later = log(CompletedJobFactory(), csr, urgency="normal")
    overdue = log(CompletedJobFactory(), csr, urgency="emergency", now=NOW - timedelta(hours=2))
    closed = walk_to(log(CompletedJobFactory(), csr, now=NOW - timedelta(days=5)), State.CLOSED, csr)

    assert list(Callback.objects.open().overdue_first()) == [overdue, later]
    assert list(Callback.objects.overdue(NOW)) == [overdue]
    assert closed.due_at is None


def test_managers_change_targets_for_callbacks_logged_afterwards(csr, manager):
    before = log(CompletedJobFactory(), csr, urgency="normal")

    services.urgency_targets_set(targets={"normal": (timedelta(hours=2), timedelta(hours=8))}, by=manager)
    after = log(CompletedJobFactory(), csr, urgency="normal")

    before.refresh_from_db()
    assert before.first_contact_due_at == NOW + timedelta(hours=24)
    assert after.first_contact_due_at == NOW + timedelta(hours=2) and after.revisit_due_at == NOW + timedelta(hours=8)
    assert UrgencyTarget.objects.get(urgency="normal").updated_by == manager


@pytest.mark.parametrize("role", ["csr", "technician"])
def test_only_managers_change_targets(request, role):
    user = request.getfixturevalue(role)

    with pytest.raises(ValidationError):
        services.urgency_targets_set(targets={"normal": (timedelta(hours=2), timedelta(hours=8))}, by=user)


def test_default_targets_come_from_the_data_migration():
    targets = {row.urgency: (row.first_contact_within, row.revisit_within) for row in UrgencyTarget.objects.all()}

    assert targets == {
        "emergency": (timedelta(hours=1), timedelta(hours=4)),
        "high": (timedelta(hours=4), timedelta(hours=24)),
        "normal": (timedelta(hours=24), timedelta(hours=72)),
    }


# --- hand-offs, contacts, checklist -------------------------------------------------------------------------------


def test_hand_off_records_from_whom_to_whom_and_warm_or_cold(csr, manager, django_capture_on_commit_callbacks):
    callback = log(CompletedJobFactory(), csr)

    with django_capture_on_commit_callbacks(execute=True):
        callback = services.callback_hand_off(callback=callback, by=csr, to_user=manager, warm=False, note="Billing")

    hand_off = callback.hand_offs.get()
    assert (hand_off.from_user, hand_off.to_user, hand_off.warm) == (csr, manager, False)
    assert callback.assigned_to == manager
    assert "Cold hand-off" in callback.events.last().note
    assert Notification.objects.filter(recipient=manager).exists()


def test_a_callback_cannot_be_handed_to_a_technician(csr, technician):
    callback = log(CompletedJobFactory(), csr)

    with pytest.raises(ValidationError):
        services.callback_hand_off(callback=callback, by=csr, to_user=technician, warm=True)


def test_checklist_shows_steps_skipped_once_their_moment_has_passed(csr):
    callback = log(CompletedJobFactory(), csr)
    services.callback_check_recovery_step(callback=callback, by=csr, step="apologised")
    callback = walk_to(callback, State.ACKNOWLEDGED, csr)

    status = {value: status for value, _, status, _ in checklist(callback, callback.recovery_steps.all())}

    assert status["apologised"] == "done"
    assert status["listened"] == "skipped" and status["apologised_again"] == "skipped"
    assert status["fix_explained"] == "to do" and status["other_work"] == "to do"


def test_a_step_is_checked_once(csr):
    callback = log(CompletedJobFactory(), csr)
    services.callback_check_recovery_step(callback=callback, by=csr, step="apologised")

    with pytest.raises(ValidationError, match="already checked"):
        services.callback_check_recovery_step(callback=callback, by=csr, step="apologised")
    assert RecoveryStep.objects.count() == 1


def test_other_work_needs_an_answer_and_a_description_when_yes(csr):
    callback = log(CompletedJobFactory(), csr)

    with pytest.raises(ValidationError):
        services.callback_check_recovery_step(callback=callback, by=csr, step="other_work")
    with pytest.raises(ValidationError):
        services.callback_check_recovery_step(callback=callback, by=csr, step="other_work", answer_yes=True)

    row = services.callback_check_recovery_step(callback=callback, by=csr, step="other_work", answer_yes=False)
    assert row.answer_yes is False


def test_other_work_yes_raises_a_recommendation_at_the_site(csr):
    from recommendations.models import Recommendation

    callback = log(CompletedJobFactory(), csr)

    services.callback_check_recovery_step(callback=callback, by=csr, step="other_work", answer_yes=True,
                                          other_work="Quote a water softener")

    lead = Recommendation.objects.get()
    assert (lead.site, lead.equipment, lead.raised_by) == (callback.site, callback.equipment, csr)
    assert lead.what == "Quote a water softener" and lead.customer_acknowledged
    assert "yes — Quote a water softener" in callback.events.last().note
