"""Demo follow-up calls: last weeks' calls already made (with their attempts), and the ones due now.

Runs after the callbacks step (registered later in CallbacksConfig.ready), so a job with an open demo
callback gets no call, as in real life. Deterministic: its own random sequence, dates counted from demo.now.
"""

from datetime import timedelta

from django.conf import settings

from customers.demo import next_id
from customers.models import Job
from servicedesk import roles

from .models import CallAttempt, FollowUpCall
from .services import follow_up_rules, schedule_follow_up_calls

Outcome = FollowUpCall.Outcome
CALL_FIELDS = (
    "id", "job_id", "customer_id", "due_at", "next_attempt_at", "state", "attempts", "outcome", "issues",
    "anything_else", "cancel_reason", "expectations_met", "would_refer", "satisfaction", "completed_at",
    "completed_by_id", "created_at",
)
ATTEMPT_FIELDS = ("call_id", "by_id", "at", "outcome", "note")
ISSUES = ["", "", "", "", "The thermostat took a day to settle.", "A little water on the floor the first night.",
          "Noisier than before.", "Invoice had the wrong address."]


def create_follow_up_calls(demo):
    rng = demo.random("follow-up calls")
    csrs = [user.pk for user in demo.staff[roles.CSR]]
    rules = {kind: days for kind, days in follow_up_rules().items() if days is not None}
    window = timedelta(days=settings.FOLLOW_UP_CALL_WINDOW_DAYS)
    now = demo.now
    jobs = (
        Job.objects.filter(pk__gte=demo.job_ids.start, pk__lt=demo.job_ids.stop, status=Job.Status.COMPLETED,
                           kind__in=rules, completed_at__gte=now - timedelta(days=demo.plan.days_back),
                           customer__contact_opt_out=False, customer__do_not_service=False)
        .order_by("pk")
        .values_list("pk", "customer_id", "kind", "completed_at")
    )
    calls, attempts, made = [], [], 0
    next_call = next_id(FollowUpCall)
    for job_id, customer_id, kind, completed_at in jobs.iterator(chunk_size=20_000):
        due = completed_at + timedelta(days=rules[kind])
        if due > now - window:
            continue  # recent enough for the scheduling sweep below
        tries = [Outcome.NO_ANSWER] * rng.choice([0, 0, 0, 1, 1, 2])
        last = rng.choices([Outcome.REACHED, Outcome.VOICEMAIL, Outcome.WRONG_NUMBER, Outcome.DO_NOT_CALL],
                           weights=[80, 15, 3, 2])[0]
        tries.append(last)
        at, csr = due + timedelta(hours=rng.randint(1, 6)), rng.choice(csrs)
        for outcome in tries:
            attempts.append((next_call, csr, at, outcome, ""))
            at += timedelta(days=1)
        reached = last == Outcome.REACHED
        satisfaction = rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0] if reached else None
        calls.append((
            next_call, job_id, customer_id, due, due, "done" if last in (Outcome.REACHED, Outcome.DO_NOT_CALL)
            else "gave_up", len(tries), last, rng.choice(ISSUES) if reached else "", "", "",
            (satisfaction or 0) >= 3 if reached else None, (satisfaction or 0) >= 4 if reached else None,
            satisfaction, at - timedelta(days=1), csr, due,
        ))
        next_call += 1
        if len(calls) >= 20_000:  # bounded memory at a million jobs
            made += _write(demo, calls, attempts)
    made += _write(demo, calls, attempts)
    # Reset before the sweep inserts rows of its own with ids from the sequence.
    demo.writer.reset_sequences()
    due_now = schedule_follow_up_calls(now=now)
    demo.counts["follow_up_calls"] = made + due_now
    demo.log(f"follow-up calls: {made} made, {due_now} due now")


def _write(demo, calls, attempts):
    written = demo.insert(FollowUpCall, CALL_FIELDS, calls)
    demo.insert(CallAttempt, ATTEMPT_FIELDS, attempts)
    calls.clear()
    attempts.clear()
    return written
