"""Follow-up calls (seed 002): scheduled by a beat sweep, handed out by the shared queue, worked by CSRs.

Every write here is one keyword-only function per action, atomic. The queue is race-safe by construction:
"next call" takes the most overdue due call with SELECT ... FOR UPDATE SKIP LOCKED, so two CSRs pressing
at once get different calls, and a claim is a lease that the release sweep hands back when it lapses.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format

from customers.import_notes import history_jobs
from customers.models import Job
from customers.phones import phone_digits
from customers.services import customer_add_referral, customer_opt_out_of_contact
from recommendations.models import Risk
from recommendations.services import recommendation_raise
from servicedesk import roles
from servicedesk.audit import Via, setting_changes_record
from servicedesk.bulk import insert_from_select
from servicedesk.outbox import emit

from ..models import Callback, Urgency
from ..services import callback_log
from .models import DEFAULT_FOLLOW_UP_DAYS, CallAttempt, FollowUpCall, FollowUpRule, Referral
from .trail import Action as CallAction
from .trail import call_event_record, calls_update_recorded

State = FollowUpCall.State
Outcome = FollowUpCall.Outcome


def _now(now):
    return now or timezone.now()


def follow_up_rules():
    """{job kind: days after completion, or None for no call}: the table, with the defaults for a missing row."""
    rules = dict(DEFAULT_FOLLOW_UP_DAYS)
    rules.update(FollowUpRule.objects.values_list("job_kind", "days_after"))
    return rules


def follow_up_rules_set(*, rules, by, now=None):
    """Managers set the days per job kind; calls already scheduled keep their due time."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers change the follow-up call rules.")
    for days in rules.values():
        if days is not None and not 0 <= days <= 365:
            raise ValidationError("Days after completion must be between 0 and 365, or empty for no call.")
    with transaction.atomic():
        setting_changes_record(setting="follow_up_rules", by=by, now=now, changes=rule_changes(rules))
        for kind, days in rules.items():
            FollowUpRule.objects.update_or_create(
                job_kind=kind, defaults={"days_after": days, "updated_by": by, "updated_at": _now(now)}
            )


def rule_changes(rules):
    """{job kind: (days before, days after)} as a manager reads them, for the trail."""
    current = follow_up_rules()

    def days(value):
        return "no call" if value is None else f"{value} days after"

    return {Job.Kind(kind).label: (days(current.get(kind)), days(value)) for kind, value in rules.items()}


# --- the sweeps -----------------------------------------------------------------------------------------------------


def _open_callback_on_job():
    return Exists(Callback.objects.open().filter(job=OuterRef("job")))


def schedule_follow_up_calls(*, now=None):
    """Create the follow-up call of every completed job whose call has fallen due; returns how many were created.

    Set-based: three UPDATEs cancelling due calls that must not be made, one INSERT ... SELECT ... ON CONFLICT
    on the unique job. Rerunning it, running two at once, or running it a day late creates each call once;
    a job whose call fell due more than FOLLOW_UP_CALL_WINDOW_DAYS ago is no longer a post-visit call.
    """
    now = _now(now)
    rules = {kind: days for kind, days in follow_up_rules().items() if days is not None}
    window = timedelta(days=settings.FOLLOW_UP_CALL_WINDOW_DAYS)
    with transaction.atomic():
        cancel_calls_not_to_make(now=now)
        if not rules:
            return 0
        # Per kind a range on completed_at, so the (status, completed_at) index does the work.
        fallen_due = Q()
        for kind, days in rules.items():
            after = timedelta(days=days)
            fallen_due |= Q(kind=kind, completed_at__lte=now - after, completed_at__gt=now - after - window) & (
                # An imported job whose call had fallen due before the import is history: the old system's call.
                Q(external_id__isnull=True) | Q(completed_at__gt=F("created_at") - after)
            )
        due_at = Case(
            *[When(kind=kind, then=F("completed_at") + timedelta(days=days)) for kind, days in rules.items()],
            output_field=DateTimeField(),
        )
        jobs = (
            Job.objects.filter(fallen_due, status=Job.Status.COMPLETED)
            .exclude(customer__contact_opt_out=True)
            .exclude(customer__do_not_service=True)
            # While a callback on the job is open, that conversation is the callback's.
            .exclude(Exists(Callback.objects.open().filter(job=OuterRef("pk"))))
        )
        # Jobs that already have their call are skipped by ON CONFLICT on the unique job index, not by a
        # NOT EXISTS here: against the table being inserted into, PostgreSQL may plan that anti-join as a
        # nested loop that rescans every row this statement adds (quadratic: 100,000 calls took 100 s).
        return insert_from_select(
            FollowUpCall,
            jobs,
            values={
                "job_id": F("pk"),
                "customer_id": F("customer_id"),
                "due_at": due_at,
                "next_attempt_at": due_at,
                "created_at": Value(now, output_field=DateTimeField()),
            },
            conflict=["job_id"],
        )


def import_note(plan, now):
    """The import preview's word on follow-up calls for the history a jobs file brings in (issue 18: importing
    history once put 116 calls in the queue, all due at once)."""
    rules = follow_up_rules()
    count = history_jobs(plan, now, rules.get)
    if count:
        return (f"{count:,} of the new jobs were completed before this import, past the day their follow-up call "
                "would have been due: they never get a follow-up call (that call was the old system's).")
    return None


def cancel_calls_not_to_make(*, now=None):
    """Due calls to a customer who opted out or is marked do-not-service, or on a job with an open callback, are
    cancelled (three UPDATEs), each cancellation on the call's trail."""
    now = _now(now)
    due = FollowUpCall.objects.filter(state=State.DUE)
    cancel = partial(calls_update_recorded, action=CallAction.CANCELLED, now=now, state=State.CANCELLED,
                     completed_at=now)
    opted_out = cancel(due.filter(customer__contact_opt_out=True), cancel_reason="Customer opted out of contact.")
    let_go = cancel(due.filter(customer__do_not_service=True), cancel_reason="Customer is marked do-not-service.")
    in_callback = cancel(
        due.filter(_open_callback_on_job()),
        cancel_reason="A callback on the job is open: that conversation is the callback's.",
    )
    return opted_out + let_go + in_callback


def release_abandoned_claims(*, now=None):
    """Claims whose lease lapsed (the CSR closed the tab, went home) go back to the queue, each recorded."""
    return calls_update_recorded(FollowUpCall.objects.abandoned(_now(now)), action=CallAction.RELEASED, now=now,
                                 note="The claim lapsed.", state=State.DUE, claimed_by=None, claimed_until=None,
                                 claimed_at=None)


# --- the queue ------------------------------------------------------------------------------------------------------


def _lease(now):
    return now + timedelta(minutes=settings.FOLLOW_UP_CALL_CLAIM_MINUTES)


def _one_call_at_a_time(by):
    """Lock the CSR's own user row for the rest of the transaction: their claims then run one after another, so
    "Next call" pressed twice at once (a double click, two tabs) finds the first press's call instead of taking a
    second one. Other CSRs' claims do not wait on it."""
    list(get_user_model().objects.select_for_update().filter(pk=by.pk).values_list("pk", flat=True))


def _claim(call, by, now):
    call.state = State.CLAIMED
    call.claimed_by = by
    call.claimed_at = now
    call.claimed_until = _lease(now)
    call.save(update_fields=["state", "claimed_by", "claimed_at", "claimed_until"])
    call_event_record(call=call, action=CallAction.CLAIMED, by=by, now=now)


def call_claim_next(*, by, now=None):
    """Hand `by` the most overdue due call and claim it; their own unfinished call first. None when the queue is empty.

    SKIP LOCKED: a row another CSR's transaction is claiming right now is passed over, not waited for, so
    concurrent presses hand out different calls and never block each other.
    """
    now = _now(now)
    with transaction.atomic():
        _one_call_at_a_time(by)
        mine = FollowUpCall.objects.held_by(by).select_for_update().order_by("pk").first()
        if mine is not None:
            mine.claimed_until = _lease(now)
            mine.save(update_fields=["claimed_until"])
            return mine
        call = FollowUpCall.objects.in_queue(now).select_for_update(skip_locked=True).first()
        if call is None:
            return None
        _claim(call, by, now)
    return call


def call_claim(*, call, by, now=None):
    """Open a call from the list: `by` takes it if it is free (nobody on it, or the holder's lease lapsed).

    Returns the call as it is now: held by `by`, still held by someone else (`claimed_by`, since `claimed_at`), or
    no longer open. A CSR holds one call at a time: with another call in hand this refuses, naming that call.
    """
    now = _now(now)
    with transaction.atomic():
        _one_call_at_a_time(by)
        call = FollowUpCall.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=call.pk)
        if not call.is_open or call.is_held_by_other(by, now):
            return call
        if call.state == State.CLAIMED and call.claimed_by_id == by.pk:
            call.claimed_until = _lease(now)
            call.save(update_fields=["claimed_until"])
            return call
        other = FollowUpCall.objects.held_by(by).exclude(pk=call.pk).select_related("customer").first()
        if other is not None:
            raise ValidationError(
                f"You are on the call with {other.customer.name}: record it or hand it back before taking another."
            )
        _claim(call, by, now)
    return call


def call_release(*, call, by, now=None):
    """`by` hands the call they hold back to the queue, untouched (they will not make it now)."""
    with transaction.atomic():
        call = _locked(call)
        if call.state != State.CLAIMED or call.claimed_by_id != by.pk:
            raise ValidationError("You are not on this call.")
        call.state = State.DUE
        call.claimed_by = None
        call.claimed_until = None
        call.claimed_at = None
        call.save(update_fields=["state", "claimed_by", "claimed_until", "claimed_at"])
        call_event_record(call=call, action=CallAction.RELEASED, by=by, now=now, note="Handed back to the queue.")
    return call


def _locked(call):
    return FollowUpCall.objects.select_for_update().get(pk=call.pk)


def _check_may_record(call, by, now):
    if not call.is_open:
        raise ValidationError(f"This call is already {call.get_state_display().lower()}.")
    if call.is_held_by_other(by, now):
        raise ValidationError(f"{call_holder(call)} is on this call: only the person on a call records it.")


def call_holder(call):
    """"Carla Reyes (since 2:05 PM)": who is on the call and since when, as the page and the refusal say it."""
    name = call.claimed_by.get_full_name() or call.claimed_by.username
    if call.claimed_at is None:  # claimed before the time of a claim was kept
        return name
    return f"{name} (since {date_format(timezone.localtime(call.claimed_at), 'g:i A')})"


def retry_gap(attempts):
    """Days until the next try after `attempts` unanswered attempts (the last configured gap repeats)."""
    gaps = settings.FOLLOW_UP_CALL_RETRY_DAYS
    return timedelta(days=gaps[min(attempts, len(gaps)) - 1])


def call_record_attempt(*, call, by, outcome, note="", issues="", expectations_met=None, anything_else="",
                        would_refer=None, satisfaction=None, now=None):
    """Record one attempt; every attempt is kept. Reached (with the script's answers) and "asked not to be
    called" finish the call, a wrong number gives it up, no answer and voicemail bring it back on the retry
    schedule until FOLLOW_UP_CALL_MAX_ATTEMPTS, then it is given up."""
    now = _now(now)
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose what happened on the call."})
    if outcome == Outcome.REACHED and satisfaction not in (1, 2, 3, 4, 5):
        raise ValidationError({"satisfaction": "Ask how satisfied the customer is, 1 (not at all) to 5 (very)."})
    with transaction.atomic():
        call = _locked(call)
        _check_may_record(call, by, now)
        CallAttempt.objects.create(call=call, by=by, at=now, outcome=outcome, note=(note or "").strip())
        call.attempts += 1
        call.outcome = outcome
        call.claimed_by = None
        call.claimed_until = None
        call.claimed_at = None
        fields = ["attempts", "outcome", "claimed_by", "claimed_until", "claimed_at", "state"]
        if outcome in FollowUpCall.RETRY_OUTCOMES and call.attempts < settings.FOLLOW_UP_CALL_MAX_ATTEMPTS:
            call.state = State.DUE
            call.next_attempt_at = now + retry_gap(call.attempts)
            fields.append("next_attempt_at")
        else:
            call.state = State.DONE if outcome in (Outcome.REACHED, Outcome.DO_NOT_CALL) else State.GAVE_UP
            call.completed_at = now
            call.completed_by = by
            fields += ["completed_at", "completed_by"]
        if outcome == Outcome.REACHED:
            call.issues = (issues or "").strip()
            call.expectations_met = expectations_met
            call.anything_else = (anything_else or "").strip()
            call.would_refer = would_refer
            call.satisfaction = satisfaction
            fields += ["issues", "expectations_met", "anything_else", "would_refer", "satisfaction"]
        call.save(update_fields=fields)
        if call.completed_at is not None:
            emit("follow_up_call.completed", call)
        if outcome == Outcome.DO_NOT_CALL:
            customer_opt_out_of_contact(customer_id=call.customer_id, by=by, now=now,
                                        note=f"Asked on follow-up call #{call.pk}.")
            calls_update_recorded(
                FollowUpCall.objects.filter(customer=call.customer_id, state=State.DUE).exclude(pk=call.pk),
                action=CallAction.CANCELLED, by=by, via=Via.PAGE, now=now,
                state=State.CANCELLED, cancel_reason="Customer asked not to be called.", completed_at=now,
            )
    return call


# --- one click from the call -----------------------------------------------------------------------------------------


def _reached(call):
    call = _locked(call)
    if call.outcome != Outcome.REACHED:
        raise ValidationError("Record the call as reached first.")
    return call


def call_log_callback(*, call, by, problem="", urgency=Urgency.NORMAL, now=None):
    """A problem the customer reported on the call becomes a callback on the job, in their words."""
    with transaction.atomic():
        call = _reached(call)
        if call.callback_id is not None:
            raise ValidationError(f"Callback #{call.callback_id} was already logged from this call.")
        callback = callback_log(job=call.job, problem=(problem or call.issues), channel=Callback.Channel.PHONE,
                                urgency=urgency, logged_by=by, now=now)
        call.callback = callback
        call.save(update_fields=["callback"])
    return callback


def call_raise_lead(*, call, by, what, now=None):
    """Interest in more work becomes an open recommendation the caller owns (or passes to sales)."""
    what = (what or "").strip()
    if not what:
        raise ValidationError({"what": "Describe the work the customer is interested in."})
    with transaction.atomic():
        call = _reached(call)
        job = call.job
        lead = recommendation_raise(
            site=job.site, raised_by=by, what=what[:200], risk=Risk.SHOULD_BE_DONE, job=job, equipment=None,
            why=f"The customer asked about it on the follow-up call after job {job.invoice_number or job.pk}.",
        )
        if call.lead_id is None:
            call.lead = lead
            call.save(update_fields=["lead"])
    return lead


def call_record_referral(*, call, by, name, phone, note="", now=None):
    """A neighbour or friend referred by the customer, recorded as a new customer for the office to call."""
    name, phone, note = (name or "").strip(), (phone or "").strip(), (note or "").strip()
    errors = {}
    if not name:
        errors["name"] = "Write the referred person's name."
    if not 7 <= len(phone_digits(phone)) <= 15:  # at most 15 digits (E.164)
        errors["phone"] = "Write a phone number the referral can be reached at."
    if errors:
        raise ValidationError(errors)
    now = _now(now)
    with transaction.atomic():
        call = _reached(call)
        customer = customer_add_referral(
            name=name, phone=phone, now=now,
            notes=f"Referred by {call.customer.name} on follow-up call #{call.pk}. {note}".strip(),
        )
        return Referral.objects.create(call=call, referred_customer=customer, name=name[:200], phone=phone[:40],
                                       note=note, by=by, at=now)
