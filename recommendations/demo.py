"""Demo data for recommendations: raised on past visits, discussed (or not) on later ones.

A `customers.demo` step. One pass over the demo jobs in site order keeps only the current site's
open recommendations in memory, so it runs the same at 3,000 jobs and at 1,000,000 (about 30% of
completed visits raise one, as in a shop whose technicians do look at the equipment).
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Exists

from customers.demo import next_id
from customers.models import Equipment, Job
from servicedesk import roles

from .models import Discussion, LaterVisitsCount, Recommendation, RecommendationEvent, Risk, mentioned_on_a_later_visit

# What technicians recommend, by the kind of equipment they were working on.
WORK = {
    Equipment.Kind.FURNACE: [
        ("Replace cracked heat exchanger", "Crack at the rear cell; carbon monoxide risk.", Risk.FAILURE_LIKELY, 3800),
        ("Replace inducer motor", "Bearings noisy, amps climbing.", Risk.SHOULD_BE_DONE, 650),
        ("Add a media air cleaner", "Heavy dust on the blower wheel.", Risk.ADVISORY, 900),
    ],
    Equipment.Kind.AIR_CONDITIONER: [
        ("Replace weak run capacitor", "Reads 20% under rating.", Risk.FAILURE_LIKELY, 240),
        ("Repair refrigerant leak at evaporator", "System 1 lb low; dye at the coil.", Risk.SHOULD_BE_DONE, 1400),
        ("Replace 18-year-old condenser", "R-22 system near end of life.", Risk.ADVISORY, 7200),
    ],
    Equipment.Kind.HEAT_PUMP: [
        ("Replace reversing valve", "Sticks in heating mode.", Risk.FAILURE_LIKELY, 1600),
        ("Clean and straighten outdoor coil", "Fins matted, head pressure high.", Risk.SHOULD_BE_DONE, 350),
    ],
    Equipment.Kind.BOILER: [
        ("Replace leaking circulator pump", "Weeping at the flange.", Risk.FAILURE_LIKELY, 900),
        ("Add a low-water cutoff", "None installed.", Risk.SHOULD_BE_DONE, 650),
    ],
    Equipment.Kind.WATER_HEATER: [
        ("Replace water heater", "Tank rusting at the base; 14 years old.", Risk.FAILURE_LIKELY, 2200),
        ("Replace anode rod", "Rod consumed.", Risk.SHOULD_BE_DONE, 280),
        ("Install expansion tank", "Closed system, none present.", Risk.ADVISORY, 380),
    ],
    Equipment.Kind.TANKLESS_WATER_HEATER: [("Descale heat exchanger", "Scale error codes.", Risk.SHOULD_BE_DONE, 300)],
    Equipment.Kind.SUMP_PUMP: [
        ("Replace sump pump", "Float switch sticking; basement finished.", Risk.FAILURE_LIKELY, 700),
        ("Add battery backup pump", "No backup on a finished basement.", Risk.ADVISORY, 1100),
    ],
    Equipment.Kind.WATER_SOFTENER: [("Rebuild softener valve", "Not regenerating.", Risk.SHOULD_BE_DONE, 450)],
    Equipment.Kind.SEWER_LINE: [
        ("Line the sewer lateral", "Root intrusion at 40 ft on camera.", Risk.FAILURE_LIKELY, 6500),
        ("Annual hydro-jetting", "Grease build-up.", Risk.ADVISORY, 450),
    ],
    Equipment.Kind.ELECTRICAL_PANEL: [
        ("Replace Federal Pacific panel", "Stab-Lok breakers do not trip reliably.", Risk.FAILURE_LIKELY, 3200),
        ("Add whole-home surge protector", "None installed.", Risk.ADVISORY, 450),
    ],
    Equipment.Kind.GENERATOR: [("Replace generator battery", "Fails load test.", Risk.SHOULD_BE_DONE, 250)],
}
GENERAL = [
    ("Install carbon monoxide detector", "None on the sleeping floor.", Risk.SHOULD_BE_DONE, 120),
    ("Replace corroded shut-off valve", "Will not close fully.", Risk.SHOULD_BE_DONE, 320),
    ("Annual maintenance agreement", "Keeps the warranty valid.", Risk.ADVISORY, 199),
]
FINAL_STATES = [  # (state, weight): what became of the recommendation, decided when it is raised
    (Recommendation.State.OPEN, 55),
    (Recommendation.State.ACCEPTED, 16),
    (Recommendation.State.DECLINED, 14),
    (Recommendation.State.DEFERRED, 5),
    (Recommendation.State.DONE_BY_OTHERS, 5),
    (Recommendation.State.WITHDRAWN, 3),
    (Recommendation.State.FAILED_WHILE_OPEN, 2),
]
FOLLOW_UP_DAYS = {Risk.FAILURE_LIKELY: 7, Risk.SHOULD_BE_DONE: 30, Risk.ADVISORY: 90}
RESPONSES = [
    (Discussion.Response.INTERESTED, 20, "Wants a price in writing."),
    (Discussion.Response.NOT_NOW, 45, "Maybe after the holidays."),
    (Discussion.Response.DECLINED, 15, "Will live with it for now."),
    (Discussion.Response.NOT_DISCUSSED, 20, "Customer not home; tenant let us in."),
]

REC_FIELDS = [
    "id",
    "customer_id",
    "site_id",
    "equipment_id",
    "raised_on_job_id",
    "raised_by_id",
    "what",
    "why",
    "risk",
    "price_low",
    "price_high",
    "customer_acknowledged",
    "state",
    "decline_reason",
    "deferred_until",
    "owner_id",
    "next_follow_up_on",
    "passed_to_sales_at",
    "passed_to_sales_by_id",
    "created_at",
    "state_changed_at",
    "accepted_job_id",
]
STATE, STATE_CHANGED_AT, ACCEPTED_JOB = REC_FIELDS.index("state"), REC_FIELDS.index("state_changed_at"), -1
CREATED_AT, FOLLOW_UP, OWNER = (
    REC_FIELDS.index("created_at"),
    REC_FIELDS.index("next_follow_up_on"),
    REC_FIELDS.index("owner_id"),
)
EVENT_FIELDS = ["recommendation_id", "action", "by_id", "at", "from_state", "to_state", "note"]
DISCUSSION_FIELDS = ["recommendation_id", "job_id", "technician_id", "discussed_at", "response", "note"]


def create_recommendations(demo):
    rng = demo.random("recommendations")
    states = [state for state, weight in FINAL_STATES for _ in range(weight)]
    responses = [(response, note) for response, weight, note in RESPONSES for _ in range(weight)]
    sales = [user.pk for user in demo.staff.get(roles.SALES, [])]
    now = demo.now
    recommendations, events, discussions = [], [], []
    next_rec = first_rec = next_id(Recommendation)
    site, open_here, awaiting_job = None, [], []
    jobs = (
        Job.objects.filter(pk__gte=demo.job_ids.start, pk__lt=demo.job_ids.stop, status=Job.Status.COMPLETED)
        .order_by("site_id", "completed_at", "pk")
        .values_list(
            "pk", "site_id", "customer_id", "equipment_id", "equipment__kind", "lead_technician_id", "completed_at"
        )
    )
    rows = jobs.iterator(chunk_size=20_000)
    for job_id, site_id, customer_id, equipment_id, kind, technician_id, completed_at in rows:
        if site_id != site:
            _settle_without_job(awaiting_job)
            if len(recommendations) >= 20_000:  # only between sites: rows of this site may still change
                _flush(demo, recommendations, events, discussions)
            site, open_here, awaiting_job = site_id, [], []
        # The first visit after an accepted recommendation is the job that does the work.
        for row in [row for row in awaiting_job if row[STATE_CHANGED_AT] <= completed_at]:
            row[ACCEPTED_JOB] = job_id
            awaiting_job.remove(row)
        for rec_id, settled_at in open_here:
            if settled_at is not None and settled_at <= completed_at:
                continue  # settled before this visit: nothing left to discuss
            if rng.random() < 0.75:  # the rest are the "never mentioned again" that seed 001 is about
                response, note = rng.choice(responses)
                discussions.append(
                    (
                        rec_id,
                        job_id,
                        technician_id,
                        completed_at,
                        response,
                        note if response == Discussion.Response.NOT_DISCUSSED or rng.random() < 0.3 else "",
                    )
                )
        if technician_id is None or rng.random() >= 0.32:
            continue
        options = WORK.get(kind, []) + GENERAL
        what, why, risk, price = rng.choice(options)
        state = rng.choice(states)
        settled_at = None
        passed = sales and rng.random() < 0.1
        owner = rng.choice(sales) if passed else technician_id
        created_at = completed_at
        follow_up = (created_at + timedelta(days=FOLLOW_UP_DAYS[risk])).date()
        deferred_until = None
        if state != Recommendation.State.OPEN:
            settled_at = min(created_at + timedelta(days=rng.randint(3, 120)), now)
            if state == Recommendation.State.DEFERRED:
                deferred_until = (settled_at + timedelta(days=rng.choice([30, 60, 90, 180]))).date()
                follow_up = deferred_until
            elif state not in Recommendation.OUTSTANDING_STATES:
                follow_up = None
        price_low = Decimal(price) * Decimal("0.85")
        row = [
            next_rec,
            customer_id,
            site_id,
            equipment_id,
            job_id,
            technician_id,
            what,
            why,
            risk,
            price_low.quantize(Decimal("1")),
            Decimal(price),
            rng.random() < 0.6,
            state,
            "Price too high." if state == Recommendation.State.DECLINED else "",
            deferred_until,
            owner,
            follow_up,
            created_at if passed else None,
            technician_id if passed else None,
            created_at,
            settled_at or created_at,
            None,
        ]
        recommendations.append(row)
        if state == Recommendation.State.ACCEPTED:
            awaiting_job.append(row)
        open_here.append((next_rec, settled_at))
        next_rec += 1
    _settle_without_job(awaiting_job)
    _flush(demo, recommendations, events, discussions)
    # The state recommendation_record_discussion keeps one discussion at a time, here for all of them at once.
    Recommendation.objects.filter(pk__gte=first_rec, pk__lt=next_rec).filter(
        Exists(mentioned_on_a_later_visit())
    ).update(discussed_on_later_visit=True)
    # Visits were written back-dated, before any earlier count: no stamp makes the dashboard count every visit
    # live (exact) until the sweep counts them (recommendation_count_later_visits, run by hand after a seed).
    LaterVisitsCount.objects.all().delete()
    demo.log(
        f"recommendations: {demo.counts.get('recommendations', 0)}, discussions: {demo.counts.get('discussions', 0)}"
    )


def _settle_without_job(rows):
    """Accepted, but the site had no later visit to do the work: the customer has not booked yet."""
    for row in rows:
        row[STATE] = Recommendation.State.OPEN
        row[STATE_CHANGED_AT] = row[CREATED_AT]
        row[FOLLOW_UP] = (row[CREATED_AT] + timedelta(days=FOLLOW_UP_DAYS[row[REC_FIELDS.index("risk")]])).date()


def _events(row):
    """The trail the services would have written: raised, passed to sales, the final state change."""
    rec, technician, owner, created = row[0], row[REC_FIELDS.index("raised_by_id")], row[OWNER], row[CREATED_AT]
    yield rec, RecommendationEvent.Action.RAISED, technician, created, "", "open", ""
    if row[REC_FIELDS.index("passed_to_sales_at")] is not None:
        yield rec, RecommendationEvent.Action.PASSED_TO_SALES, technician, created, "open", "open", "For a proposal."
    if row[STATE] != Recommendation.State.OPEN:
        yield rec, RecommendationEvent.Action.STATE_CHANGED, owner, row[STATE_CHANGED_AT], "open", row[STATE], ""


def _flush(demo, recommendations, events, discussions):
    events.extend(event for row in recommendations for event in _events(row))
    for key, model, fields, rows in (
        ("recommendations", Recommendation, REC_FIELDS, recommendations),
        ("recommendation events", RecommendationEvent, EVENT_FIELDS, events),
        ("discussions", Discussion, DISCUSSION_FIELDS, discussions),
    ):
        if rows:
            demo.counts[key] = demo.counts.get(key, 0) + demo.insert(model, fields, map(tuple, rows))
            rows.clear()
