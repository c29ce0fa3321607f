"""Every write to a callback: one keyword-only function per action, atomic, with notifications on commit.

Transitions lock the callback row first (select_for_update), so two people pressing buttons at once
cannot both move it out of the same state.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from customers.models import Job, Site
from customers.services import job_book, job_mark_completed
from recommendations.models import Risk
from recommendations.services import recommendation_raise
from servicedesk import roles
from servicedesk.audit import setting_changes_record
from servicedesk.notifications import managers, notify
from servicedesk.outbox import emit

from .business_clock import company_calendar, due_after
from .claims import claim_open
from .classification import apply_classification, check_root_cause, classification_for
from .models import (
    DEFAULT_BUSINESS_HOURS,
    DEFAULT_TARGETS,
    Callback,
    CallbackEvent,
    Classification,
    CustomerContact,
    HandOff,
    RecoveryStep,
    RevisitCost,
    TrainingItem,
    Triage,
    Urgency,
    UrgencyTarget,
)

State = Callback.State
Action = CallbackEvent.Action

# After "resolved", the CSR calls the customer to confirm the fix; this is when that call is due.
CLOSURE_CALL_AFTER = timedelta(days=1)
# Training from a callback is done within two weeks, while the job is still fresh in memory.
TRAINING_DUE_AFTER = timedelta(days=14)
REVISIT_LENGTH = timedelta(hours=2)


class TransitionRefused(ValidationError):
    """The callback is not in a state that allows this action; the message says what would."""


# action -> states it may start from
ALLOWED_FROM = {
    "acknowledge": {State.NEW},
    "schedule_revisit": {State.ACKNOWLEDGED},
    "resolve": {State.ACKNOWLEDGED, State.REVISIT_SCHEDULED, State.REVISIT_DONE},
    "close": {State.RESOLVED},
    "reopen": {State.RESOLVED, State.CLOSED},
}

REFUSALS = {
    "acknowledge": "Only a new callback can be acknowledged; this one is already {state}.",
    "schedule_revisit": "Acknowledge the callback before scheduling the revisit (it is {state}).",
    "resolve": "Only an acknowledged callback or one with a revisit scheduled or done can be resolved (it is {state}).",
    "close": "A callback is closed only after it is resolved and the customer confirms the fix (it is {state}).",
    "reopen": "Only a resolved or closed callback can be reopened (it is {state}).",
}


def _now(now):
    return now or timezone.now()


def _lock(callback):
    return Callback.objects.select_for_update().get(pk=callback.pk)


def _check(callback, action):
    if callback.state not in ALLOWED_FROM[action]:
        raise TransitionRefused(REFUSALS[action].format(state=callback.get_state_display().lower()))


def _event(callback, action, *, by, at, from_state="", to_state="", note="", job=None):
    return CallbackEvent.objects.create(
        callback=callback, action=action, by=by, at=at, from_state=from_state, to_state=to_state, note=note, job=job
    )


def _save(callback, now, fields):
    clock = callback.clock(now)
    callback.due_at = clock.due_at if clock else None
    callback.save(update_fields=[*fields, "due_at"])


def urgency_targets():
    """{urgency: (first contact within, revisit within)}, from the table with the defaults for any row missing."""
    targets = dict(DEFAULT_TARGETS)
    for row in UrgencyTarget.objects.all():
        targets[row.urgency] = (row.first_contact_within, row.revisit_within)
    return targets


def targets_with_clocks():
    """(urgency_targets(), {urgency: the company's calendar for a target counted in business hours, None for one
    around the clock}) from one read of the targets; the calendar (callbacks/business_clock.py) is loaded once, and
    only when a target needs it."""
    targets, flags = dict(DEFAULT_TARGETS), dict(DEFAULT_BUSINESS_HOURS)
    for row in UrgencyTarget.objects.all():
        targets[row.urgency] = (row.first_contact_within, row.revisit_within)
        flags[row.urgency] = row.business_hours
    calendar = company_calendar() if any(flags.values()) else None
    return targets, {urgency: calendar if flag else None for urgency, flag in flags.items()}


def target_clocks():
    return targets_with_clocks()[1]


def repeat_window_start(now=None):
    return _now(now) - timedelta(days=settings.CALLBACK_REPEAT_WINDOW_DAYS)


def find_repeat_of(job, now=None):
    """The earlier callback a new one on `job` would repeat, or None."""
    return Callback.objects.earlier_for(job, since=repeat_window_start(now)).first()


# The same form posted twice (a double click, a browser retrying on a slow line) arrives within this long.
DOUBLE_SUBMIT_WITHIN = timedelta(seconds=30)


def _double_submit_of(*, job, problem, logged_by, now):
    """The callback this one would duplicate: the same words on the same job by the same person moments ago.

    The job's row lock makes a second post wait for the first to commit, so it finds it instead of logging the
    callback again (and escalating it as a repeat of itself).
    """
    list(Job.objects.select_for_update(no_key=True).filter(pk=job.pk).values_list("pk", flat=True))
    return (
        Callback.objects.filter(job=job, problem=problem, logged_by=logged_by,
                                logged_at__gte=now - DOUBLE_SUBMIT_WITHIN)
        .order_by("pk")
        .first()
    )


def callback_log(*, job, problem, channel, urgency, logged_by, assigned_to=None, to_triage=False, potential=False,
                 now=None):
    """Log a callback about `job`. A repeat is marked and escalated to the managers at once. A `potential` one is
    worked the same way but counts on no rate until classified after diagnosis (callbacks/recalls).

    Owned by `assigned_to`, else by whoever logged it; `to_triage` logs it owned by nobody, into the office's
    triage queue, until a CSR takes it (callback_take): the feedback page's, logged by no one who works here.

    Idempotent for a double submit: the same problem on the same job by the same person within
    DOUBLE_SUBMIT_WITHIN returns the callback already logged.
    """
    now = _now(now)
    problem = (problem or "").strip()
    if not problem:
        raise ValidationError({"problem": "Write the problem in the customer's words."})
    if job.kind == Job.Kind.CALLBACK_REVISIT:
        # A failed revisit is the same callback coming back: reopen it rather than start a new one.
        raise ValidationError({"job": "This is a callback revisit; reopen its callback instead of logging a new one."})
    targets, clocks = targets_with_clocks()
    (first_contact_within, revisit_within), clock = targets[urgency], clocks[urgency]
    with transaction.atomic():
        # Two callbacks logged at the same moment at one site would each miss the other, neither committed yet:
        # the second waits here for the first to commit, then finds it. The site covers the job, its equipment
        # and the site itself, the three places a repeat is looked for. NO KEY UPDATE, so jobs and visits being
        # booked at the site (their foreign keys take KEY SHARE) are not held up.
        Site.objects.select_for_update(no_key=True).only("pk").get(pk=job.site_id)
        duplicate = _double_submit_of(job=job, problem=problem, logged_by=logged_by, now=now)
        if duplicate is not None:
            return duplicate
        repeat_of = find_repeat_of(job, now)
        callback = Callback(
            job=job,
            customer_id=job.customer_id,
            site_id=job.site_id,
            equipment_id=job.equipment_id,
            problem=problem,
            channel=channel,
            urgency=urgency,
            state=State.NEW,
            is_repeat=repeat_of is not None,
            repeat_of=repeat_of,
            logged_by=logged_by,
            logged_at=now,
            assigned_to=None if to_triage else assigned_to or logged_by,
            first_contact_due_at=due_after(now, first_contact_within, calendar=clock),
            revisit_due_at=due_after(now, revisit_within, calendar=clock),
            classification=Classification.POTENTIAL if potential else Classification.CONFIRMED,
        )
        callback.due_at = callback.clock(now).due_at
        callback.save()
        note = f"Potential callback, to be confirmed on site. {problem}" if potential else problem
        _event(callback, Action.LOGGED, by=logged_by, at=now, to_state=State.NEW, note=note, job=job)
        emit("callback.logged", callback)
        if repeat_of is not None:
            if repeat_of.job_id == job.pk:
                where = "the same job"
            else:
                where = "the same equipment" if job.equipment_id else "the same site"
            note = f"Repeat of callback #{repeat_of.pk} on {where} ({repeat_of.logged_at:%b %d, %Y})."
            _event(callback, Action.ESCALATED, by=logged_by, at=now, note=note)
            emit("callback.repeat_detected", callback)
            notify(
                users=managers(),
                text=f"Repeat callback: {job.customer.name}, {job.site.street}. {note}",
                url=callback.get_absolute_url(),
                email=True,
            )
    return callback


def callback_acknowledge(*, callback, by, note="", now=None):
    """First contact made: the customer has heard from us and been listened to."""
    now = _now(now)
    with transaction.atomic():
        callback = _lock(callback)
        _check(callback, "acknowledge")
        fields = ["state", "acknowledged_at"]
        if _in_triage(callback) and roles.is_office(by):
            # Whoever made the first contact owns it now, or the rest of it would keep reminding every CSR.
            _take(callback, by=by, now=now)
            fields.append("assigned_to")
        callback.state = State.ACKNOWLEDGED
        callback.acknowledged_at = now
        _save(callback, now, fields)
        _event(callback, Action.ACKNOWLEDGED, by=by, at=now, from_state=State.NEW, to_state=State.ACKNOWLEDGED,
               note=note)
    return callback


def callback_schedule_revisit(*, callback, by, technician, start, end=None, helpers=(), no_charge=True, note="",
                              now=None):
    """Book the return visit as a job of kind callback revisit (no charge unless said otherwise)."""
    now = _now(now)
    if not roles.has_role(technician, roles.TECHNICIAN):
        raise ValidationError({"technician": "Pick a technician to send on the revisit."})
    end = end or start + REVISIT_LENGTH
    if end < start:
        raise ValidationError({"end": "The visit must end after it starts."})
    with transaction.atomic():
        callback = _lock(callback)
        _check(callback, "schedule_revisit")
        # Found to be a new problem: the visit is billable like any other.
        no_charge = no_charge and callback.classification != Classification.NEW_PROBLEM
        original = callback.job
        revisit = job_book(
            customer_id=callback.customer_id,
            site_id=callback.site_id,
            equipment_id=callback.equipment_id,
            kind=Job.Kind.CALLBACK_REVISIT,
            scheduled_start=start,
            scheduled_end=end,
            lead_technician=technician,
            helpers=helpers,
            no_charge=no_charge,
            by=by,
            summary=f"Callback revisit for job {original.invoice_number or original.pk}: {callback.problem}",
            revisit_of_past_work=True,
        )
        callback.revisit_job = revisit
        callback.state = State.REVISIT_SCHEDULED
        _save(callback, now, ["revisit_job", "state"])
        late = " — after the revisit target" if start > callback.revisit_due_at else ""
        text = f"{_name(technician)}, {timezone.localtime(start):%a %b %d %I:%M %p}{late}"
        _event(callback, Action.REVISIT_SCHEDULED, by=by, at=now, from_state=State.ACKNOWLEDGED,
               to_state=State.REVISIT_SCHEDULED, note=f"{text}. {note}".strip(), job=revisit)
        emit("callback.revisit_scheduled", callback)
        notify(users=[technician], text=f"Callback revisit for {callback.customer.name}: {callback.problem[:120]}",
               url=callback.get_absolute_url())
    return callback


def callback_revisits_done(*, job_ids, completed_by=None, now=None):
    """Revisit jobs were completed, through whichever door (the technician's page, the admin, an import): each
    callback waiting on one moves on to "revisit done, awaiting resolution", which stops the revisit clock and
    leaves its owner the outcome to record. customers.completion's after-completion hook (CallbacksConfig.ready);
    a fixed number of queries for any number of jobs, plus one notification per callback moved."""
    now = _now(now)
    with transaction.atomic():
        callbacks = list(
            Callback.objects.select_for_update(of=("self",))
            .filter(revisit_job__in=job_ids, state=State.REVISIT_SCHEDULED)
            .select_related("customer", "assigned_to")
            .order_by("pk")
        )
        if not callbacks:
            return []
        revisit_ids = {callback.revisit_job_id for callback in callbacks}
        jobs = Job.objects.select_related("lead_technician").in_bulk(revisit_ids)
        for callback in callbacks:
            callback.state = State.REVISIT_DONE
            callback.revisit_done_at = now
            clock = callback.clock(now)
            callback.due_at = clock.due_at if clock else None
        Callback.objects.bulk_update(callbacks, ["state", "revisit_done_at", "due_at"])
        events = []
        for callback in callbacks:
            revisit = jobs[callback.revisit_job_id]
            technician = f"{_name(revisit.lead_technician)}: " if revisit.lead_technician else ""
            events.append(CallbackEvent(
                callback=callback, action=Action.REVISIT_DONE, by=completed_by, at=now,
                from_state=State.REVISIT_SCHEDULED, to_state=State.REVISIT_DONE, job=revisit,
                note=f"{technician}{revisit.summary}".strip(),
            ))
            notify(users=[callback.assigned_to],
                   text=f"Revisit done for callback #{callback.pk} ({callback.customer.name}): record the resolution.",
                   url=callback.get_absolute_url())
        CallbackEvent.objects.bulk_create(events)
    return callbacks


def callback_resolve(*, callback, by, root_cause, resolution="", faulty_part="", part_supplier="", rma_reference="",
                     labour_hours=None, parts_cost=None, responsible_technician=None, now=None):
    """The problem is fixed, with an honest root cause. The closure call to the customer is then due."""
    now = _now(now)
    if root_cause not in Callback.RootCause.values:
        raise ValidationError({"root_cause": "Choose the root cause."})
    if root_cause == Callback.RootCause.FAULTY_PART:
        # Under 1% of parts arrive faulty, yet most callbacks get blamed on them: ask for the evidence.
        missing = {
            name: f"A faulty part needs its {label}."
            for name, label, value in (
                ("faulty_part", "part name or number", faulty_part),
                ("part_supplier", "supplier", part_supplier),
                ("rma_reference", "return / RMA reference", rma_reference),
            )
            if not (value or "").strip()
        }
        if missing:
            raise ValidationError(missing)
    with transaction.atomic():
        # The revisit job first, then the callback: the order job_complete takes them in (the job, then through
        # its after-completion hook the callbacks it serves), so a resolution recorded while the technician
        # completes the revisit waits for it rather than deadlocking.
        Job.objects.select_for_update().filter(pk=callback.revisit_job_id).exists()
        callback = _lock(callback)
        _check(callback, "resolve")
        check_root_cause(callback, root_cause)
        from_state = callback.state
        classified = []
        if callback.classification == Classification.POTENTIAL:
            # Diagnosed and fixed: the root cause classifies it (a new problem, a warranty part, or our work).
            found = f"From the root cause found: {Callback.RootCause(root_cause).label}."
            classified = apply_classification(callback, classification_for(root_cause), by=by, now=now, reason=found)
        callback.state = State.RESOLVED
        callback.root_cause = root_cause
        callback.resolution = resolution
        is_part = root_cause == Callback.RootCause.FAULTY_PART
        callback.faulty_part = faulty_part.strip() if is_part else ""
        callback.part_supplier = part_supplier.strip() if is_part else ""
        callback.rma_reference = rma_reference.strip() if is_part else ""
        revisit = callback.revisit_job
        if labour_hours is not None or parts_cost is not None:
            RevisitCost.objects.create(callback=callback, revisit_job=revisit, labour_hours=labour_hours,
                                       parts_cost=parts_cost, recorded_at=now, recorded_by=by)
            costs = callback.revisit_costs.aggregate(labour_hours=Sum("labour_hours"), parts_cost=Sum("parts_cost"))
            callback.labour_hours, callback.parts_cost = costs["labour_hours"], costs["parts_cost"]
        callback.resolved_at = now
        callback.resolved_by = by
        callback.next_update_due_at = now + CLOSURE_CALL_AFTER
        _save(callback, now, list(dict.fromkeys([
            "state", "root_cause", "resolution", "faulty_part", "part_supplier", "rma_reference", "labour_hours",
            "parts_cost", "resolved_at", "resolved_by", "next_update_due_at", *classified])))
        if is_part:
            claim_open(callback=callback, by=by, now=now)
        if revisit is not None:
            job_mark_completed(job=revisit, by=by, note=f"Callback #{callback.pk} resolved.", now=now)
        _event(callback, Action.RESOLVED, by=by, at=now, from_state=from_state, to_state=State.RESOLVED,
               note=f"Root cause: {callback.get_root_cause_display()}. {resolution}".strip(), job=revisit)
        emit("callback.resolved", callback)
        if root_cause in Callback.TRAINING_CAUSES:
            technician = responsible_technician or callback.job.lead_technician
            if technician is not None:
                # Once per callback and cause: resolved again after a reopen, the lesson is the one already set.
                item, created = TrainingItem.objects.get_or_create(
                    callback=callback,
                    root_cause=root_cause,
                    defaults={"technician": technician, "what_happened": resolution or callback.problem,
                              "due_on": timezone.localdate(now) + TRAINING_DUE_AFTER, "created_at": now},
                )
                if created:
                    _event(callback, Action.TRAINING, by=by, at=now,
                           note=f"Training item for {_name(technician)}, done by {item.due_on:%b %d}.")
                    notify(users=[technician], url=callback.get_absolute_url(),
                           text=f"Training item from callback #{callback.pk} ({callback.customer.name})")
    return callback


def callback_close(*, callback, by, confirmed, note="", now=None):
    """The closure call: the customer confirms the fix (closed) or says it is not fixed (reopened)."""
    now = _now(now)
    if not confirmed:
        return callback_reopen(callback=callback, by=by, reason=note or "Customer says it is not fixed.", now=now,
                               only_from={State.RESOLVED})
    with transaction.atomic():
        callback = _lock(callback)
        _check(callback, "close")
        callback.state = State.CLOSED
        callback.closed_at = now
        callback.closed_by = by
        callback.confirmed_by_customer = True
        callback.customer_confirmation = note
        callback.next_update_due_at = None
        _save(callback, now, ["state", "closed_at", "closed_by", "confirmed_by_customer", "customer_confirmation",
                              "next_update_due_at"])
        _event(callback, Action.CLOSED, by=by, at=now, from_state=State.RESOLVED, to_state=State.CLOSED, note=note)
        emit("callback.closed", callback)
    return callback


def callback_reopen(*, callback, by, reason, now=None, only_from=None):
    """The fix did not hold: back to acknowledged, a fresh revisit target, and the managers told."""
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the callback is reopened."})
    with transaction.atomic():
        callback = _lock(callback)
        if only_from and callback.state not in only_from:
            raise TransitionRefused(REFUSALS["close"].format(state=callback.get_state_display().lower()))
        _check(callback, "reopen")
        from_state = callback.state
        targets, clocks = targets_with_clocks()
        _, revisit_within = targets[callback.urgency]
        if callback.revisit_job is not None and callback.revisit_job.no_charge:
            callback.earlier_no_charge_revisits = (callback.earlier_no_charge_revisits or 0) + 1
        callback.state = State.ACKNOWLEDGED
        callback.revisit_due_at = due_after(now, revisit_within, calendar=clocks[callback.urgency])
        callback.revisit_job = None
        callback.revisit_done_at = None
        callback.root_cause = ""
        callback.closed_at = None
        callback.closed_by = None
        callback.confirmed_by_customer = False
        callback.next_update_due_at = None
        callback.reopen_count += 1
        _save(callback, now, ["state", "revisit_due_at", "revisit_job", "revisit_done_at", "root_cause", "closed_at",
                              "closed_by", "confirmed_by_customer", "next_update_due_at", "reopen_count",
                              "earlier_no_charge_revisits"])
        _event(callback, Action.REOPENED, by=by, at=now, from_state=from_state, to_state=State.ACKNOWLEDGED,
               note=reason)
        emit("callback.reopened", callback)
        notify(users=managers(), text=f"Callback #{callback.pk} reopened ({callback.customer.name}): {reason[:150]}",
               url=callback.get_absolute_url(), email=True)
    return callback


def callback_hand_off(*, callback, by, to_user, warm, note="", now=None):
    """Pass the callback to someone else; a cold transfer is allowed but recorded as one."""
    now = _now(now)
    if not roles.is_office(to_user):
        raise ValidationError({"to_user": "Hand the callback to a CSR or a manager."})
    with transaction.atomic():
        callback = _lock(callback)
        if not callback.is_open:
            raise TransitionRefused("A closed callback cannot be handed off; reopen it first.")
        if callback.assigned_to_id == to_user.pk:
            raise ValidationError({"to_user": "The callback is already theirs."})
        from_user = callback.assigned_to
        HandOff.objects.create(callback=callback, from_user=from_user, to_user=to_user, warm=warm, note=note, at=now,
                               by=by)
        callback.assigned_to = to_user
        _save(callback, now, ["assigned_to"])
        names = f"{_name(from_user)} to {_name(to_user)}"
        _event(callback, Action.HANDED_OFF, by=by, at=now,
               note=f"{'Warm (three-way)' if warm else 'Cold'} hand-off from {names}. {note}".strip())
        notify(users=[to_user], text=f"Callback #{callback.pk} ({callback.customer.name}) handed to you by {_name(by)}",
               url=callback.get_absolute_url())
    return callback


def _in_triage(callback):
    return callback.assigned_to_id is None or not callback.assigned_to.is_active


def _take(callback, *, by, now):
    left = callback.assigned_to
    callback.assigned_to = by
    note = f"Taken by {_name(by)}" + (f" (owned by {_name(left)}, no longer here)" if left is not None else "") + "."
    _event(callback, Action.TAKEN, by=by, at=now, note=note)


def callback_take(*, callback, by, now=None):
    """A CSR takes a callback nobody owns (the triage queue's) in one click; refused when someone took it first."""
    now = _now(now)
    if not roles.is_office(by):
        raise ValidationError("Only a CSR or a manager takes a callback.")
    with transaction.atomic():
        callback = _lock(callback)
        if not callback.is_open:
            raise TransitionRefused("A closed callback cannot be taken; reopen it first.")
        if not _in_triage(callback):
            whose = "yours already" if callback.assigned_to_id == by.pk else f"taken by {_name(callback.assigned_to)}"
            raise TransitionRefused(f"Callback #{callback.pk} is {whose}.")
        _take(callback, by=by, now=now)
        _save(callback, now, ["assigned_to"])
    return callback


def triage_owner_set(*, owner, by, now=None):
    """Managers name who is reminded of the callbacks nobody owns; None: every CSR."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers set the triage owner.")
    if owner is not None and not (owner.is_active and roles.is_office(owner)):
        raise ValidationError({"owner": "Pick a CSR or a manager who is still here."})
    return Triage.objects.update_or_create(pk=1, defaults={"owner": owner, "updated_by": by,
                                                           "updated_at": _now(now)})[0]


def callback_record_contact(*, callback, by, kind, summary, next_update_due_at=None, now=None):
    """Stay in touch: log the contact and the next update promised (which replaces the last promise)."""
    now = _now(now)
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": "Say what was said or done."})
    if next_update_due_at is not None and next_update_due_at <= now:
        raise ValidationError({"next_update_due_at": "The next update must be promised for a time still to come."})
    with transaction.atomic():
        callback = _lock(callback)
        contact = CustomerContact.objects.create(callback=callback, kind=kind, summary=summary, by=by, at=now,
                                                 next_update_due_at=next_update_due_at)
        if callback.state != State.RESOLVED or next_update_due_at is not None:
            # In "resolved" the pending closure call stays due unless a new time was agreed.
            callback.next_update_due_at = next_update_due_at
        _save(callback, now, ["next_update_due_at"])
        promise = (f" Next update promised by {timezone.localtime(next_update_due_at):%a %b %d %I:%M %p}."
                   if next_update_due_at else "")
        _event(callback, Action.CONTACT, by=by, at=now, note=f"{contact.get_kind_display()}: {summary}{promise}")
    return contact


def callback_check_recovery_step(*, callback, by, step, note="", answer_yes=None, other_work="", now=None):
    """Check a step of the recovery checklist. "Other work: yes" raises a lead for the office to follow up."""
    now = _now(now)
    if step not in RecoveryStep.Step.values:
        raise ValidationError({"step": "Unknown recovery step."})
    is_other_work = step == RecoveryStep.Step.OTHER_WORK
    if is_other_work and answer_yes is None:
        raise ValidationError({"answer_yes": "Say whether the customer wants other work."})
    if is_other_work and answer_yes and not other_work.strip():
        raise ValidationError({"other_work": "Describe the other work the customer asked about."})
    with transaction.atomic():
        callback = _lock(callback)
        if not callback.is_open:
            raise TransitionRefused("The callback is closed; its checklist can no longer change.")
        row, created = RecoveryStep.objects.get_or_create(
            callback=callback, step=step,
            defaults={"done_by": by, "done_at": now, "note": note[:300],
                      "answer_yes": answer_yes if is_other_work else None},
        )
        if not created:
            raise ValidationError({"step": f"“{row.get_step_display()}” was already checked."})
        text = row.get_step_display()
        if is_other_work:
            text += f": {'yes — ' + other_work.strip() if answer_yes else 'no'}"
        _event(callback, Action.STEP, by=by, at=now, note=f"{text}. {note}".strip())
        if is_other_work and answer_yes:
            _raise_lead(callback=callback, by=by, what=other_work.strip())
    return row


def _raise_lead(*, callback, by, what):
    """"Other work: yes" becomes an open recommendation, followed up like any other (seed 000: happy clients buy)."""
    return recommendation_raise(
        site=callback.site,
        raised_by=by,
        what=what,
        risk=Risk.SHOULD_BE_DONE,
        why=f"Customer asked about other work on callback #{callback.pk}.",
        equipment=callback.equipment,
        job=callback.revisit_job or callback.job,
        customer_acknowledged=True,
    )


def training_item_complete(*, item, by, lesson, now=None):
    now = _now(now)
    lesson = (lesson or "").strip()
    if not lesson:
        raise ValidationError({"lesson": "Write down what was learned."})
    with transaction.atomic():
        item = TrainingItem.objects.select_for_update().get(pk=item.pk)
        if item.done_on is not None:
            raise ValidationError("This training item is already done.")
        item.lesson = lesson
        item.done_on = timezone.localdate(now)
        item.save(update_fields=["lesson", "done_on"])
        _event(item.callback, Action.TRAINING, by=by, at=now,
               note=f"Training done by {_name(item.technician)}: {lesson}")
    return item


def urgency_targets_set(*, targets, by, business_hours=None, now=None):
    """Managers set the targets ({urgency: (first contact within, revisit within)}) and, with `business_hours`
    ({urgency: True for business hours, False around the clock}), their clocks; callbacks already logged keep the
    promises made when they were logged."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers change the urgency targets.")
    for first_contact_within, revisit_within in targets.values():
        if first_contact_within <= timedelta(0) or revisit_within <= timedelta(0):
            raise ValidationError("Targets must be longer than zero.")
        if revisit_within < first_contact_within:
            raise ValidationError("The revisit cannot be due before the first contact.")
    business_hours = business_hours or {}
    with transaction.atomic():
        changes = target_changes(targets)
        current = dict(DEFAULT_BUSINESS_HOURS)
        current.update(UrgencyTarget.objects.values_list("urgency", "business_hours"))

        def clock(flag):
            return "business hours" if flag else "around the clock"

        for urgency, flag in business_hours.items():
            changes[f"{Urgency(urgency).label}: clock"] = (clock(current[urgency]), clock(flag))
        setting_changes_record(setting="urgency_targets", by=by, now=now, changes=changes)
        for urgency, (first_contact_within, revisit_within) in targets.items():
            defaults = {"first_contact_within": first_contact_within, "revisit_within": revisit_within,
                        "updated_by": by, "updated_at": _now(now)}
            if urgency in business_hours:
                defaults["business_hours"] = business_hours[urgency]
            UrgencyTarget.objects.update_or_create(
                urgency=urgency, defaults=defaults,
                create_defaults={"business_hours": current[urgency], **defaults},
            )


def target_changes(targets):
    """{"<urgency>: first contact" or ": revisit": (hours before, hours after)}, for the trail."""
    current = urgency_targets()

    def hours(within):
        count = within.total_seconds() / 3600
        return f"{count:g} hour{'' if count == 1 else 's'}"

    changes = {}
    for urgency, after in targets.items():
        label = Urgency(urgency).label
        for part, before_within, after_within in zip(("first contact", "revisit"), current[urgency], after,
                                                     strict=True):
            changes[f"{label}: {part}"] = (hours(before_within), hours(after_within))
    return changes


def _name(user):
    if user is None:
        return "nobody"
    return user.get_full_name() or user.username

