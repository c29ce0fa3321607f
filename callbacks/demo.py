"""Demo data for callbacks: about 6% of completed visits come back, most long since closed.

A `customers.demo` step (listed in servicedesk/demo/). One pass over the demo jobs in site order, so a
repeat (a second callback at the same site within the window) is known without a query, and memory
stays bounded at any scale. Callbacks that reached a revisit get their own no-charge revisit job.
"""

from datetime import timedelta
from decimal import Decimal

from customers.demo import next_id
from customers.models import Job
from servicedesk import roles

from .models import DEFAULT_TARGETS, Callback, CallbackEvent, RecoveryStep, RevisitCost, TrainingItem, Urgency

State, Cause, Action = Callback.State, Callback.RootCause, CallbackEvent.Action
PROBLEMS = [
    "No heat again since yesterday evening, same as before you came out.",
    "Water on the floor under the water heater you just worked on.",
    "The AC runs but the house won't get below 80.",
    "Breaker you replaced keeps tripping when the dryer starts.",
    "Furnace is making a banging noise on start-up since the repair.",
    "Drain is backing up again, three days after you cleared it.",
    "Thermostat shows an error code and the system won't start.",
    "There's a burning smell from the vents when the heat comes on.",
    "Toilet you installed rocks and leaks at the base.",
    "Outlet in the kitchen is dead again.",
]
# Honest root causes, most of them workmanship (seed 003): "faulty part" stays rare, with evidence.
CAUSES = [
    (Cause.WORKMANSHIP, 34),
    (Cause.MISDIAGNOSIS, 15),
    (Cause.INSTALLATION, 12),
    (Cause.COMMUNICATION, 10),
    (Cause.PRE_EXISTING, 8),
    (Cause.CUSTOMER_CAUSED, 7),
    (Cause.UNRELATED, 7),
    (Cause.FAULTY_PART, 7),
]
URGENCIES = [(Urgency.EMERGENCY, 10), (Urgency.HIGH, 30), (Urgency.NORMAL, 60)]
CHANNELS = [
    (Callback.Channel.PHONE, 80),
    (Callback.Channel.EMAIL, 8),
    (Callback.Channel.WEB, 10),
    (Callback.Channel.WALK_IN, 2),
]
REPEAT_WINDOW = timedelta(days=90)

CALLBACK_FIELDS = [
    "id",
    "job_id",
    "customer_id",
    "site_id",
    "equipment_id",
    "problem",
    "channel",
    "urgency",
    "state",
    "is_repeat",
    "repeat_of_id",
    "logged_by_id",
    "logged_at",
    "assigned_to_id",
    "revisit_job_id",
    "first_contact_due_at",
    "revisit_due_at",
    "acknowledged_at",
    "next_update_due_at",
    "due_at",
    "root_cause",
    "resolution",
    "faulty_part",
    "part_supplier",
    "rma_reference",
    "labour_hours",
    "parts_cost",
    "resolved_at",
    "resolved_by_id",
    "closed_at",
    "closed_by_id",
    "confirmed_by_customer",
    "customer_confirmation",
]
JOB_FIELDS = [
    "id",
    "customer_id",
    "site_id",
    "equipment_id",
    "kind",
    "status",
    "scheduled_start",
    "scheduled_end",
    "lead_technician_id",
    "completed_at",
    "summary",
    "invoice_number",
    "no_charge",
    "created_at",
]
EVENT_FIELDS = ["callback_id", "action", "at", "by_id", "from_state", "to_state", "note", "job_id"]
STEP_FIELDS = ["callback_id", "step", "done_at", "done_by_id", "note", "answer_yes"]
COST_FIELDS = ["callback_id", "revisit_job_id", "labour_hours", "parts_cost", "recorded_at", "recorded_by_id"]
TRAINING_FIELDS = [
    "technician_id",
    "callback_id",
    "root_cause",
    "what_happened",
    "lesson",
    "due_on",
    "done_on",
    "created_at",
]


def _weighted(pairs):
    return [value for value, weight in pairs for _ in range(weight)]


def create_callbacks(demo):
    rng = demo.random("callbacks")
    causes, urgencies, channels = _weighted(CAUSES), _weighted(URGENCIES), _weighted(CHANNELS)
    csrs = [user.pk for user in demo.staff[roles.CSR]]
    technicians = [user.pk for user in demo.staff[roles.TECHNICIAN]]
    now = demo.now
    rows = {"callbacks": [], "jobs": [], "events": [], "steps": [], "training": [], "costs": []}
    next_callback, next_job = next_id(Callback), next_id(Job)
    site, last_at_site = None, None
    jobs = (
        Job.objects.filter(pk__gte=demo.job_ids.start, pk__lt=demo.job_ids.stop, status=Job.Status.COMPLETED)
        .exclude(kind__in=[Job.Kind.CALLBACK_REVISIT, Job.Kind.ESTIMATE])
        .order_by("site_id", "completed_at", "pk")
        .values_list("pk", "site_id", "customer_id", "equipment_id", "lead_technician_id", "completed_at")
    )
    for job_id, site_id, customer_id, equipment_id, technician_id, completed_at in jobs.iterator(chunk_size=20_000):
        if site_id != site:
            if len(rows["callbacks"]) >= 10_000:
                _flush(demo, rows)
            site, last_at_site = site_id, None
        if rng.random() >= 0.07:
            continue
        logged_at = completed_at + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 8))
        if logged_at >= now:
            continue
        urgency, csr = rng.choice(urgencies), rng.choice(csrs)
        first_within, revisit_within = DEFAULT_TARGETS[urgency]
        callback = dict.fromkeys(CALLBACK_FIELDS)
        callback.update(
            id=next_callback,
            job_id=job_id,
            customer_id=customer_id,
            site_id=site_id,
            equipment_id=equipment_id,
            problem=rng.choice(PROBLEMS),
            channel=rng.choice(channels),
            urgency=urgency,
            state=State.NEW,
            is_repeat=False,
            logged_by_id=csr,
            logged_at=logged_at,
            assigned_to_id=csr,
            first_contact_due_at=logged_at + first_within,
            revisit_due_at=logged_at + revisit_within,
            root_cause="",
            resolution="",
            faulty_part="",
            part_supplier="",
            rma_reference="",
            confirmed_by_customer=False,
            customer_confirmation="",
        )
        if last_at_site and logged_at - last_at_site[1] <= REPEAT_WINDOW:
            callback.update(is_repeat=True, repeat_of_id=last_at_site[0])
        last_at_site = (next_callback, logged_at)
        events = rows["events"]
        events.append((next_callback, Action.LOGGED, logged_at, csr, "", State.NEW, "", None))
        if callback["is_repeat"]:
            events.append((next_callback, Action.ESCALATED, logged_at, None, "", "", "Repeat callback.", None))
        _progress(demo, rng, callback, rows, technician_id, technicians, causes, next_job)
        if callback["revisit_job_id"]:
            next_job += 1
        rows["callbacks"].append(tuple(callback[name] for name in CALLBACK_FIELDS))
        next_callback += 1
    _flush(demo, rows)
    demo.log(f"callbacks: {demo.counts.get('callbacks', 0)} ({demo.counts.get('callback revisits', 0)} revisits)")


def _progress(demo, rng, callback, rows, caused_by, technicians, causes, revisit_id):
    """Walk the callback through recovery as far as its age allows, writing what each step records."""
    now, cb, csr = demo.now, callback["id"], callback["assigned_to_id"]
    age = now - callback["logged_at"]
    # The older the callback, the further it got; recent ones are spread over the open states.
    stage = 4 if age > timedelta(days=30) and rng.random() < 0.97 else rng.randint(0, 4)
    steps = rows["steps"]
    if stage >= 1:
        late = rng.random() < 0.2  # one in five first contacts misses its target
        window = callback["first_contact_due_at"] - callback["logged_at"]
        acknowledged_at = callback["logged_at"] + window * (1.5 if late else rng.uniform(0.1, 0.9))
        callback.update(state=State.ACKNOWLEDGED, acknowledged_at=min(acknowledged_at, now))
        rows["events"].append(
            (cb, Action.ACKNOWLEDGED, callback["acknowledged_at"], csr, State.NEW, State.ACKNOWLEDGED, "", None)
        )
        for step in (
            RecoveryStep.Step.APOLOGISED,
            RecoveryStep.Step.LISTENED,
            RecoveryStep.Step.APOLOGISED_AGAIN,
            RecoveryStep.Step.URGENCY_SET,
        ):
            if rng.random() < 0.85:
                steps.append((cb, step, callback["acknowledged_at"], csr, "", None))
    if stage >= 2:
        fixer = caused_by if caused_by and rng.random() < 0.4 else rng.choice(technicians)
        start = min(callback["acknowledged_at"] + timedelta(hours=rng.randint(2, 60)), now + timedelta(days=1))
        done = stage >= 3 and start + timedelta(hours=2) < now
        rows["jobs"].append(
            (
                revisit_id,
                callback["customer_id"],
                callback["site_id"],
                callback["equipment_id"],
                Job.Kind.CALLBACK_REVISIT,
                Job.Status.COMPLETED if done else Job.Status.SCHEDULED,
                start,
                start + timedelta(hours=2),
                fixer,
                start + timedelta(hours=2) if done else None,
                "Callback revisit: found and corrected the fault." if done else "",
                f"CB-{revisit_id}",
                True,
                callback["logged_at"],
            )
        )
        callback.update(state=State.REVISIT_SCHEDULED, revisit_job_id=revisit_id)
        rows["events"].append(
            (
                cb,
                Action.REVISIT_SCHEDULED,
                callback["acknowledged_at"],
                csr,
                State.ACKNOWLEDGED,
                State.REVISIT_SCHEDULED,
                "No-charge revisit booked.",
                revisit_id,
            )
        )
        if rng.random() < 0.8:
            steps.append((cb, RecoveryStep.Step.FIX_EXPLAINED, callback["acknowledged_at"], csr, "", None))
        if not done:
            stage = 2
        else:
            resolved_at = start + timedelta(hours=2)
            cause = rng.choice(causes)
            callback.update(
                state=State.RESOLVED,
                root_cause=cause,
                resolved_at=resolved_at,
                resolved_by_id=fixer,
                resolution="Found the cause on site and corrected it; tested with the customer.",
                labour_hours=Decimal(rng.choice(["1.0", "1.5", "2.0", "3.0", "4.0"])),
                parts_cost=Decimal(rng.choice([0, 0, 35, 80, 140, 260])),
                next_update_due_at=resolved_at + timedelta(days=1),
            )
            rows["costs"].append(
                (cb, revisit_id, callback["labour_hours"], callback["parts_cost"], resolved_at, fixer)
            )
            if cause == Cause.FAULTY_PART:
                callback.update(
                    faulty_part="Igniter",
                    part_supplier="Johnstone Supply",
                    rma_reference=f"RMA-{rng.randint(100000, 999999)}",
                )
            rows["events"].append(
                (
                    cb,
                    Action.RESOLVED,
                    resolved_at,
                    fixer,
                    State.REVISIT_SCHEDULED,
                    State.RESOLVED,
                    Callback.RootCause(cause).label,
                    revisit_id,
                )
            )
            for step in (RecoveryStep.Step.SOLUTION_REVIEWED, RecoveryStep.Step.ANYTHING_ELSE):
                if rng.random() < 0.75:
                    steps.append((cb, step, resolved_at, fixer, "", None))
            if cause in Callback.TRAINING_CAUSES and caused_by:
                rows["training"].append(
                    (
                        caused_by,
                        cb,
                        cause,
                        callback["problem"],
                        "Check the work again before leaving.",
                        (resolved_at + timedelta(days=14)).date(),
                        (resolved_at + timedelta(days=rng.randint(3, 20))).date() if rng.random() < 0.7 else None,
                        resolved_at,
                    )
                )
            if stage >= 4 and resolved_at + timedelta(days=1) < now:
                closed_at = resolved_at + timedelta(days=rng.choice([1, 1, 2, 3]))
                callback.update(
                    state=State.CLOSED,
                    closed_at=min(closed_at, now),
                    closed_by_id=csr,
                    confirmed_by_customer=True,
                    customer_confirmation="All good now, thank you.",
                    next_update_due_at=None,
                )
                rows["events"].append(
                    (
                        cb,
                        Action.CLOSED,
                        callback["closed_at"],
                        csr,
                        State.RESOLVED,
                        State.CLOSED,
                        "Customer confirmed the fix.",
                        None,
                    )
                )
                if rng.random() < 0.6:
                    steps.append((cb, RecoveryStep.Step.OTHER_WORK, callback["closed_at"], csr, "", rng.random() < 0.2))
    callback["due_at"] = _due_at(callback)
    demo.counts["callback revisits"] = demo.counts.get("callback revisits", 0) + (stage >= 2)


def _due_at(callback):
    """What Callback.clock would say: the current state's target, or a sooner promised update."""
    state = callback["state"]
    if state == State.NEW:
        return callback["first_contact_due_at"]
    if state in (State.ACKNOWLEDGED, State.REVISIT_SCHEDULED):
        return callback["revisit_due_at"]
    if state == State.RESOLVED:
        return callback["next_update_due_at"]
    return None


# Written in this order: revisit jobs before the callbacks that point at them, callbacks before their records.
TABLES = [
    ("jobs", "callback revisit jobs", Job, JOB_FIELDS),
    ("callbacks", "callbacks", Callback, CALLBACK_FIELDS),
    ("events", "callback events", CallbackEvent, EVENT_FIELDS),
    ("steps", "recovery steps", RecoveryStep, STEP_FIELDS),
    ("training", "training items", TrainingItem, TRAINING_FIELDS),
    ("costs", "revisit costs", RevisitCost, COST_FIELDS),
]


def _flush(demo, rows):
    for key, label, model, fields in TABLES:
        if rows[key]:
            demo.counts[label] = demo.counts.get(label, 0) + demo.insert(model, fields, rows[key])
            rows[key].clear()
