"""Every write to customers, sites, equipment and jobs: adding a customer, booking and completing a job, and the
relationship itself (feedback received, reminders consent, do-not-service, abusive calls).

Keyword-only functions named for the action, each atomic, notifications on commit (servicedesk.notifications).
What other apps require of a completion plugs in through customers.completion.
The callback a complaint creates is logged by servicedesk/public/services.py, which may import every app;
`customers` imports none.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from servicedesk import limits, roles
from servicedesk.audit import Via
from servicedesk.notifications import managers, notify
from servicedesk.outbox import emit

from . import completion
from .events import consent_event_record, job_event_record
from .models import (
    AbusiveCall,
    BookedJobDecision,
    ConsentEvent,
    Customer,
    DoNotServiceAttempt,
    DoNotServiceDecision,
    Feedback,
    Job,
    JobEvent,
    Site,
)
from .phones import phone_digits

Decision = DoNotServiceDecision.State
FEEDBACK_TEXT_MAX = 4000


def _now(now):
    return now or timezone.now()


# --- customers and jobs ---------------------------------------------------------------------------------------------


def customer_add(*, name, phone, street, city):
    """A caller the system does not know yet: the customer and their service address, from the log page."""
    with transaction.atomic():
        customer = Customer.objects.create(name=name.strip(), phone=phone.strip(), phone_digits=phone_digits(phone))
        Site.objects.create(customer=customer, street=street.strip(), city=city.strip())
    return customer


def customer_add_referral(*, name, phone, notes, now=None):
    """Someone a customer referred to us (on a follow-up call): a customer with no service address yet."""
    return Customer.objects.create(
        name=name[:200], phone=phone[:40], phone_digits=phone_digits(phone), created_at=_now(now), notes=notes
    )


def customer_opt_out_of_contact(*, customer_id, by=None, via=Via.PAGE, note="", now=None):
    """The customer asked us not to contact them (on a follow-up call); the first time asked is the one kept."""
    changed = Customer.objects.filter(pk=customer_id, contact_opt_out=False).update(
        contact_opt_out=True, contact_opt_out_at=_now(now)
    )
    if changed:
        consent_event_record(customer_id=customer_id, action=ConsentEvent.Action.CONTACT_OPT_OUT, by=by, via=via,
                             note=note, now=now)
    return changed


def job_book(*, customer_id, site_id, kind, scheduled_start, scheduled_end, summary, equipment_id=None,
             lead_technician=None, helpers=(), no_charge=False, revisit_of_past_work=False, by=None,
             via=Via.PAGE):
    """A scheduled visit. Refused (BookingRefused) for a do-not-service customer, unless it is the revisit of a
    callback on work already done: we stand behind past work. The caller has checked the window."""
    refused = job = None
    # Part of the caller's transaction when there is one: no savepoint, so a booking costs the same queries.
    with transaction.atomic(savepoint=False):
        if not revisit_of_past_work:
            # The customer's row locked: an approval being written waits for this booking (which it then lists for
            # a decision), or this booking waits for the approval and is refused; none slips between the two.
            refused = _booking_refused(
                Customer.objects.select_for_update()
                .only("name", "do_not_service", "do_not_service_since").get(pk=customer_id)
            )
        if refused is None:
            job = Job.objects.create(
                customer_id=customer_id,
                site_id=site_id,
                equipment_id=equipment_id,
                kind=kind,
                status=Job.Status.SCHEDULED,
                scheduled_start=scheduled_start,
                scheduled_end=scheduled_end,
                lead_technician=lead_technician,
                no_charge=no_charge,
                summary=summary,
            )
            if helpers:
                job.helpers.set(helpers)
            job_event_record(job=job, action=JobEvent.Action.BOOKED, by=by, via=via, to_status=job.status)
    # Raised outside the block: inside it, having no savepoint, it would spoil the caller's whole transaction.
    if refused is not None:
        raise refused
    return job


def job_complete(*, job, completed_by, summary, via=Via.PAGE, **details):
    """Close the visit with what was done, after every registered completion rule (customers.completion) has
    recorded its part and agreed; `details` go to the rules (e.g. recommendations' discussions)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS):
            raise ValidationError(f"This job is already {job.get_status_display().lower()}.")
        from_status = job.status
        summary = (summary or "").strip()
        if not summary:
            raise ValidationError({"summary": "Write what was done on this visit."})
        for rule in completion.rules():
            rule(job=job, completed_by=completed_by, **details)
        job.status = Job.Status.COMPLETED
        job.completed_at = timezone.now()
        job.summary = summary
        job.save(update_fields=["status", "completed_at", "summary"])
        job_event_record(job=job, action=JobEvent.Action.COMPLETED, by=completed_by, via=via,
                         from_status=from_status, to_status=job.status, now=job.completed_at)
        jobs_completed(job_ids=[job.pk], completed_by=completed_by, now=job.completed_at)
    return job


def jobs_completed(*, job_ids, completed_by=None, now=None):
    """The jobs were just written completed (by job_complete, the admin or an import): every after-completion hook
    (customers.completion) records what follows, in the writer's transaction. Call it once per write, with only
    the jobs whose status became completed in it."""
    job_ids = list(job_ids)
    if not job_ids:
        return
    now = _now(now)
    for hook in completion.after_hooks():
        hook(job_ids=job_ids, completed_by=completed_by, now=now)


class CompletionRefused(ValidationError):
    """A completion rule refused a job completed elsewhere; `job_id` says which."""

    def __init__(self, job_id, error):
        self.job_id = job_id
        super().__init__(error.messages)


def jobs_complete_elsewhere(*, job_ids):
    """Jobs the dispatch system completed, written as completed by the import or the API (their status and
    completion time come from there): each registered completion rule is run with `completed_elsewhere=True` and no
    `completed_by`, since the discussions a technician records on our page could not be, and the jobs are marked
    completed elsewhere. Inside the writer's transaction, so a rule's refusal (CompletionRefused) undoes the write.
    The jobs are read a few thousand at a time: an import completes ten thousand in a handful of queries."""
    rules = completion.rules()
    job_ids = list(job_ids)
    for start in range(0, len(job_ids), 2000):
        batch = job_ids[start:start + 2000]
        if rules:
            for job in Job.objects.filter(pk__in=batch).order_by("pk"):
                for rule in rules:
                    try:
                        rule(job=job, completed_by=None, completed_elsewhere=True)
                    except ValidationError as exc:
                        raise CompletionRefused(job.pk, exc) from exc
        Job.objects.filter(pk__in=batch).update(completed_elsewhere=True)


def job_mark_completed(*, job, by=None, via=Via.PAGE, note="", now=None):
    """The visit is over because what it was booked for is settled (the callback its revisit serves was
    resolved), so it is closed without the summary and the completion rules of job_complete, which is how the
    technician closes a visit. A job already completed or cancelled is left as it is."""
    if job.status in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS):
        from_status = job.status
        job.status = Job.Status.COMPLETED
        job.completed_at = _now(now)
        job.save(update_fields=["status", "completed_at"])
        job_event_record(job=job, action=JobEvent.Action.COMPLETED, by=by, via=via, from_status=from_status,
                         to_status=job.status, note=note, now=job.completed_at)
    return job


def job_set_no_charge(*, job, no_charge, by, reason, now=None):
    """Make a visit billable or no charge, with who and why on its trail (a callback's revisit found to be a new
    problem is billable). Unchanged: nothing written."""
    if job.no_charge == no_charge:
        return job
    job.no_charge = no_charge
    job.save(update_fields=["no_charge"])
    job_event_record(job=job, action=JobEvent.Action.CHARGE_CHANGED, by=by, note=(
        f"{'No charge' if no_charge else 'Billable'}: {reason}")[:limits.RECORD], now=_now(now))
    return job


# --- feedback -----------------------------------------------------------------------------------------------------


def feedback_receive(*, job, kind, text, rating=None, wants_call_back=False, ip_hash="", token_digest="", now=None):
    """Record what the customer wrote about `job` on the public page."""
    text = (text or "").strip()
    errors = {}
    if kind not in Feedback.Kind.values:
        errors["kind"] = "Choose praise, a concern, a complaint or a question."
    if not text:
        errors["text"] = "Tell us in a few words what you would like us to know."
    elif len(text) > FEEDBACK_TEXT_MAX:
        errors["text"] = f"Please keep it under {FEEDBACK_TEXT_MAX} characters."
    if rating is not None and not 1 <= rating <= 5:
        errors["rating"] = "A rating is from 1 to 5 stars."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        feedback = Feedback.objects.create(
            job=job,
            customer_id=job.customer_id,
            kind=kind,
            rating=rating,
            text=text,
            wants_call_back=wants_call_back,
            created_at=_now(now),
            ip_hash=ip_hash,
            token_digest=token_digest,
        )
        emit("feedback.received", feedback)
    return feedback


# --- reminders consent --------------------------------------------------------------------------------------------


def customer_set_reminders(*, customer, by, opt_in, via=Via.PAGE, now=None):
    """The customer told a CSR yes (or no) to e-mail reminders about the work we recommended."""
    if not roles.is_office(by):
        raise PermissionDenied
    now = _now(now)
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if opt_in and not customer.email:
            raise ValidationError("Add the customer's e-mail address before turning reminders on.")
        if customer.reminders_opt_in == opt_in:
            return customer
        customer.reminders_opt_in = opt_in
        if opt_in:
            customer.reminders_opt_in_at = now
        else:
            customer.reminders_unsubscribed_at = now
        customer.save(update_fields=["reminders_opt_in", "reminders_opt_in_at", "reminders_unsubscribed_at"])
        consent_event_record(customer_id=customer.pk, by=by, via=via, now=now, action=(
            ConsentEvent.Action.REMINDERS_OPT_IN if opt_in else ConsentEvent.Action.REMINDERS_OPT_OUT))
    return customer


def customer_unsubscribe(*, customer, via=Via.LINK, now=None):
    """The one-click link in a reminder: no more reminder e-mails. Recorded; a second click changes nothing."""
    now = _now(now)
    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk, reminders_opt_in=True).update(
            reminders_opt_in=False, reminders_unsubscribed_at=now
        )
        if changed:
            consent_event_record(customer_id=customer.pk, action=ConsentEvent.Action.UNSUBSCRIBED, via=via, now=now)
    customer.refresh_from_db(fields=["reminders_opt_in", "reminders_unsubscribed_at"])
    return bool(changed)


# --- do-not-service -----------------------------------------------------------------------------------------------


class BookingRefused(ValidationError):
    """A new booking for a customer the company no longer serves."""


def ensure_bookable(customer):
    """Raise BookingRefused for new work at a do-not-service customer. Callbacks on past work are not bookings:
    we still stand behind work already done."""
    refused = _booking_refused(customer)
    if refused is not None:
        raise refused


def _booking_refused(customer):
    if not customer.do_not_service:
        return None
    return BookingRefused(
        f"{customer.name} is marked do-not-service (approved "
        f"{timezone.localtime(customer.do_not_service_since):%b %-d, %Y}); new work cannot be booked. "
        "A callback on past work can still be logged."
    )


def booked_jobs(customer):
    """The customer's jobs still to happen, each with `kept_because` when it was decided to keep it under the
    do-not-service decision in force (None otherwise): one query."""
    kept = BookedJobDecision.objects.filter(
        job=OuterRef("pk"), decision__state=Decision.APPROVED, outcome=BookedJobDecision.Outcome.KEEP
    ).order_by("-decided_at")
    return (
        Job.objects.filter(customer=customer, status__in=[Job.Status.SCHEDULED, Job.Status.IN_PROGRESS])
        .with_related()
        .annotate(kept_because=Subquery(kept.values("reason")[:1]))
        .order_by("scheduled_start")
    )


def booked_jobs_needing_decision(customer):
    """Jobs already booked for the customer: the flag does not cancel them by itself, someone must keep or cancel
    each (do_not_service_decide_booked_job)."""
    return booked_jobs(customer).filter(kept_because__isnull=True)


# Words that say no attempt was made: "n/a" is not a documented attempt.
NO_ATTEMPT = {"na", "none", "nothing", "no", "tbd", "unknown", "see above", "see history", "various"}
MIN_ATTEMPTS = 2


def _documented_attempts(attempts, today):
    """The documented attempts as rows to keep, or the messages saying what is missing (seed 002: reasonable,
    documented attempts: each when, how and what happened, at least two)."""
    rows, problems = [], []
    for number, attempt in enumerate(attempts, start=1):
        on, channel = attempt.get("attempted_on"), attempt.get("channel")
        what = " ".join((attempt.get("what_happened") or "").split())
        if not (on or channel or what):
            continue
        said = re.sub(r"[^a-z ]", "", what.lower()).strip()
        if on is None:
            problems.append(f"Attempt {number}: give the date it was made.")
        elif on > today:
            problems.append(f"Attempt {number}: the date is in the future.")
        if channel not in DoNotServiceAttempt.Channel.values:
            problems.append(f"Attempt {number}: say how the customer was contacted.")
        if said in NO_ATTEMPT or len(said.replace(" ", "")) < 8:
            problems.append(f"Attempt {number}: say what happened in a few words (\"{what}\" is not an attempt).")
        rows.append(DoNotServiceAttempt(attempted_on=on, channel=channel or "", what_happened=what))
    if len(rows) < MIN_ATTEMPTS:
        problems.append(f"Document at least {MIN_ATTEMPTS} attempts to keep the customer, each with its date, how "
                        "they were contacted and what happened (seed 002: only after reasonable attempts).")
    return rows, problems


def do_not_service_propose(*, customer, by, reasons, attempts, now=None):
    """A CSR (or a manager) proposes to stop serving the customer, with the attempts made to keep them (dicts of
    attempted_on, channel and what_happened); the managers are asked to decide."""
    if not roles.is_office(by):
        raise PermissionDenied
    now = _now(now)
    reasons = (reasons or "").strip()
    rows, problems = _documented_attempts(attempts, timezone.localdate(now))
    errors = {}
    if not reasons:
        errors["reasons"] = "Say why the company should stop serving this customer."
    if problems:
        errors["attempts"] = problems
    if errors:
        raise ValidationError(errors)
    if customer.do_not_service:
        raise ValidationError("The customer is already marked do-not-service.")
    try:
        with transaction.atomic():
            decision = DoNotServiceDecision.objects.create(
                customer=customer, reasons=reasons, proposed_by=by, proposed_at=now
            )
            for row in rows:
                row.decision = decision
            DoNotServiceAttempt.objects.bulk_create(rows)
            notify(
                users=[user for user in managers() if user.pk != by.pk],
                text=f"Do-not-service proposed for {customer.name} by {_name(by)}: please approve or decline.",
                url=customer.get_absolute_url(),
                email=True,
            )
    except IntegrityError as exc:
        raise ValidationError("A do-not-service proposal for this customer is already waiting for a manager.") from exc
    return decision


def _lock_decision(decision):
    return DoNotServiceDecision.objects.select_for_update().select_related("customer").get(pk=decision.pk)


def _require_manager(user):
    if not roles.has_role(user, roles.MANAGER):
        raise PermissionDenied("Only a manager decides do-not-service.")


def do_not_service_approve(*, decision, by, note="", now=None):
    _require_manager(by)
    now = _now(now)
    with transaction.atomic():
        decision = _lock_decision(decision)
        if decision.state != Decision.PROPOSED:
            raise ValidationError(f"This proposal was already {decision.get_state_display().lower()}.")
        decision.state = Decision.APPROVED
        decision.decided_by, decision.decided_at, decision.decision_note = by, now, (note or "").strip()
        decision.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        Customer.objects.filter(pk=decision.customer_id).update(do_not_service=True, do_not_service_since=now)
        emit("customer.do_not_service_approved", decision.customer)
        notify(
            users=[decision.proposed_by],
            text=f"Do-not-service approved for {decision.customer.name} by {_name(by)}. Review the booked jobs.",
            url=decision.customer.get_absolute_url(),
        )
    return decision


def do_not_service_decline(*, decision, by, note, now=None):
    _require_manager(by)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why, so the CSR knows what to try next."})
    now = _now(now)
    with transaction.atomic():
        decision = _lock_decision(decision)
        if decision.state != Decision.PROPOSED:
            raise ValidationError(f"This proposal was already {decision.get_state_display().lower()}.")
        decision.state = Decision.DECLINED
        decision.decided_by, decision.decided_at, decision.decision_note = by, now, note
        decision.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        notify(
            users=[decision.proposed_by],
            text=f"Do-not-service declined for {decision.customer.name} by {_name(by)}: {note}",
            url=decision.customer.get_absolute_url(),
        )
    return decision


def do_not_service_lift(*, customer, by, reason, now=None):
    """A manager takes the customer back; the decision keeps who lifted it and why."""
    _require_manager(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the customer is served again."})
    now = _now(now)
    with transaction.atomic():
        decision = DoNotServiceDecision.objects.select_for_update().filter(customer=customer).in_force().first()
        if decision is None:
            raise ValidationError("The customer is not marked do-not-service.")
        decision.state = Decision.LIFTED
        decision.lifted_by, decision.lifted_at, decision.lift_reason = by, now, reason
        decision.save(update_fields=["state", "lifted_by", "lifted_at", "lift_reason"])
        Customer.objects.filter(pk=customer.pk).update(do_not_service=False, do_not_service_since=None)
    customer.refresh_from_db(fields=["do_not_service", "do_not_service_since"])
    return decision


def do_not_service_decide_booked_job(*, job, by, keep, reason, now=None):
    """Keep or cancel one job booked for a customer now marked do-not-service, with the reason. A cancelled job is
    cancelled here; the customer is told by whoever decided (the reason says how)."""
    if not roles.is_office(by):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the job is kept or cancelled."})
    now = _now(now)
    with transaction.atomic():
        decision = (
            DoNotServiceDecision.objects.select_for_update().filter(customer=job.customer_id).in_force().first()
        )
        if decision is None:
            raise ValidationError("The customer is not marked do-not-service: there is nothing to decide.")
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS):
            raise ValidationError(f"This job is already {job.get_status_display().lower()}.")
        if BookedJobDecision.objects.filter(decision=decision, job=job).exists():
            raise ValidationError("This job was already decided.")
        outcome = BookedJobDecision.Outcome.KEEP if keep else BookedJobDecision.Outcome.CANCEL
        BookedJobDecision.objects.create(
            decision=decision, job=job, outcome=outcome, reason=reason, decided_by=by, decided_at=now
        )
        if not keep:
            was, job.status = job.status, Job.Status.CANCELLED
            job.save(update_fields=["status"])
            job_event_record(job=job, action=JobEvent.Action.STATUS_CHANGED, by=by, from_status=was,
                             to_status=job.status, note=f"Do-not-service: {reason}", now=now)
    return job


def abusive_call_record(*, customer, by, warned, what_happened, now=None):
    """The CSR ended a call for abuse after warning the customer; it becomes one of the documented attempts."""
    if not roles.is_office(by):
        raise PermissionDenied
    what_happened = (what_happened or "").strip()
    errors = {}
    if not warned:
        errors["warned"] = "Warn the customer first (\"another curse word and I'll end the call\"); then record it."
    if not what_happened:
        errors["what_happened"] = "Write what was said and how the call ended."
    if errors:
        raise ValidationError(errors)
    return AbusiveCall.objects.create(
        customer=customer, recorded_by=by, warned=True, what_happened=what_happened, ended_at=_now(now)
    )


def _name(user):
    return user.get_full_name() or user.username
