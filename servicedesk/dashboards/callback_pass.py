"""Every callback figure of a scope from one pass over its callbacks (issue 8: dashboards at a million jobs).

Reaching a callback's job costs an index lookup per callback (~17,000 over twelve months of a large contractor);
done once per figure that was most of a second. Here the callbacks in scope are read once, in a common table
expression whose columns (the job's week, kind and lead, flags such as "counted" or "contacted on time", the
durations and the recovery steps done as a bit mask) the ORM writes, so the filters and the date arithmetic are
the same SQL the rest of the app uses on PostgreSQL and on SQLite. The outer statement then groups that set
several ways at once (UNION ALL: per week × kind × lead, per root cause, per urgency, per fixing technician, per
helper, and in total), each branch with only the measures its tables need, and the CTE has only the columns the
requested groupings read. Every figure is still an aggregate computed in the database; Python only picks the rows
apart.

The look-ups into the jobs table (the original job, and the revisit only for the groupings that need it) read
only the covering index job_figures (customers migration), never the table: at a million jobs that replaced a
parallel scan of every job and halved the pass.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncWeek

from callbacks.models import STATE_ORDER, Callback, RecoveryStep
from customers.models import Job

RootCause = Callback.RootCause
State = Callback.State
STEPS = list(RecoveryStep.Step)
RESOLVED = [State.RESOLVED, State.CLOSED]


def _flag(condition):
    return ExpressionWrapper(condition, output_field=BooleanField())


def _duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _steps_done():
    """The recovery steps done on the callback as a bit mask (a step is recorded once per callback)."""
    bits = Case(*(When(step=step, then=Value(1 << index)) for index, step in enumerate(STEPS)),
                default=Value(0), output_field=IntegerField())
    done = (
        RecoveryStep.objects.filter(callback=OuterRef("pk")).order_by().values("callback")
        .annotate(mask=Sum(bits)).values("mask")
    )
    return Subquery(done, output_field=IntegerField())


def _columns(now, *, steps, revisit):
    counted = ~Q(root_cause=RootCause.UNRELATED)
    resolved = Q(state__in=RESOLVED)
    columns = {
        "c_job": F("job_id"),
        "c_week": Cast(TruncWeek("job__completed_at"), DateField()),
        "c_kind": F("job__kind"),
        "c_lead": F("job__lead_technician"),
        "c_cause": F("root_cause"),
        "c_urgency": F("urgency"),
        "c_counted": _flag(counted),
        "c_unresolved": _flag(Q(root_cause="")),
        "c_repeat": _flag(Q(is_repeat=True)),
        "c_faulty": _flag(Q(root_cause=RootCause.FAULTY_PART)),
        "c_contacted": _flag(Q(acknowledged_at__isnull=False)),
        "c_contact_on_time": _flag(Q(acknowledged_at__lte=F("first_contact_due_at"))),
        "c_waiting_late": _flag(Q(acknowledged_at__isnull=True, first_contact_due_at__lt=now)),
        "c_resolved": _flag(resolved),
        "c_closed": _flag(Q(state=State.CLOSED)),
        "c_resolved_on_time": _flag(resolved & Q(resolved_at__lte=F("revisit_due_at"))),
        "c_unresolved_late": _flag(~resolved & Q(revisit_due_at__lt=now)),
        "c_to_contact": _duration("acknowledged_at", "logged_at"),
        "c_to_resolve": Case(When(resolved, then=_duration("resolved_at", "logged_at")), default=None,
                             output_field=DurationField()),
        "c_labour": F("labour_hours"),
        "c_parts": F("parts_cost"),
    }
    if revisit:
        # A second look-up per callback (into the revisit job): only for the groupings that read it.
        columns["c_fixer"] = F("revisit_job__lead_technician")
        columns["c_no_charge"] = _flag(Q(revisit_job__no_charge=True))
    if not steps:
        return columns
    # A look-up per callback (through the recovery steps' (callback, step) index): only for the pages that show
    # the recovery steps. Measured against one join of the steps with the callbacks, it costs the same.
    columns["c_steps"] = _steps_done()
    for index, step in enumerate(STEPS):
        due = STATE_ORDER.index(RecoveryStep.DUE_BY[step])
        columns[f"c_reached_{index}"] = _flag(Q(state__in=STATE_ORDER[due:]))
    return columns


def _measures():
    """name -> SQL over the CTE `s`; the counted callbacks are the ones every figure but "unrelated" is about."""
    counted = "s.c_counted"
    measures = {
        "came_back": f"COUNT(DISTINCT s.c_job) FILTER (WHERE {counted})",
        "callbacks": f"COUNT(*) FILTER (WHERE {counted})",
        "unresolved": "COUNT(*) FILTER (WHERE s.c_unresolved)",
        "repeats": f"COUNT(*) FILTER (WHERE s.c_repeat AND {counted})",
        "unrelated": f"COUNT(*) FILTER (WHERE NOT {counted})",
        "faulty_part": "COUNT(*) FILTER (WHERE s.c_faulty)",
        "contacted": f"COUNT(*) FILTER (WHERE {counted} AND s.c_contacted)",
        "contacted_on_time": f"COUNT(*) FILTER (WHERE {counted} AND s.c_contact_on_time)",
        "waiting_late": f"COUNT(*) FILTER (WHERE {counted} AND s.c_waiting_late)",
        "to_contact": f"AVG(s.c_to_contact) FILTER (WHERE {counted})",
        "resolved": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved)",
        "resolved_on_time": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved_on_time)",
        "unresolved_late": f"COUNT(*) FILTER (WHERE {counted} AND s.c_unresolved_late)",
        "to_resolve": f"AVG(s.c_to_resolve) FILTER (WHERE {counted})",
        "labour_hours": f"SUM(s.c_labour) FILTER (WHERE {counted})",
        "parts_cost": f"SUM(s.c_parts) FILTER (WHERE {counted})",
        "no_charge_visits": f"COUNT(*) FILTER (WHERE {counted} AND s.c_no_charge)",
        "fixed": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved)",
        "closed": f"COUNT(*) FILTER (WHERE {counted} AND s.c_closed)",
    }
    for index in range(len(STEPS)):
        reached = f"{counted} AND s.c_reached_{index}"
        measures[f"expected_{index}"] = f"COUNT(*) FILTER (WHERE {reached})"
        done = f"(COALESCE(s.c_steps, 0) & {1 << index}) <> 0"
        measures[f"skipped_{index}"] = f"COUNT(*) FILTER (WHERE {reached} AND NOT {done})"
    return measures


MEASURES = _measures()
KEYS = ("k_week", "k_kind", "k_tech", "k_text")
STEP_MEASURES = [name for name in MEASURES if name.startswith(("expected_", "skipped_"))]
# grouping -> (key columns of the CTE, in KEYS order or None, extra FROM/WHERE, measures)
GROUPINGS = {
    "total": ((None, None, None, None), "", ["came_back", "callbacks", "unresolved", "repeats", "unrelated",
                                             "faulty_part"]),
    "steps": ((None, None, None, None), "", STEP_MEASURES),
    "week": (("s.c_week", "s.c_kind", "s.c_lead", None), "", ["came_back"]),
    "cause": ((None, None, None, "s.c_cause"), "WHERE s.c_counted", ["callbacks"]),
    # Apart from "cause" because no-charge revisits take a look-up into the revisit job, which the root causes
    # alone (the scorecard) do without.
    "cost": ((None, None, None, "s.c_cause"), "WHERE s.c_counted",
             ["callbacks", "labour_hours", "parts_cost", "no_charge_visits"]),
    "urgency": ((None, None, None, "s.c_urgency"), "WHERE s.c_counted",
                ["callbacks", "contacted", "contacted_on_time", "waiting_late", "to_contact", "resolved",
                 "resolved_on_time", "unresolved_late", "to_resolve"]),
    "fixer": ((None, None, "s.c_fixer", None), "WHERE s.c_resolved AND s.c_fixer IS NOT NULL", ["fixed", "closed"]),
    # Helpers on the original job, apart from its lead: each job once per helper however many callbacks it had.
    "helper": ((None, None, "h.user_id", None),
               "JOIN {helpers} h ON h.job_id = s.c_job WHERE (s.c_lead IS NULL OR h.user_id <> s.c_lead)",
               ["came_back"]),
}


# The groupings that read the revisit job (c_fixer, c_no_charge).
REVISIT_GROUPINGS = ("fixer", "cost")


def callback_pass(callbacks, *, now, groupings=tuple(GROUPINGS), mine=None, mine_groupings=()):
    """{grouping: [row dicts]} for `callbacks` (a Callback queryset: the scope's callbacks, unrelated included),
    for the named groupings only.

    `mine` (a Q over the callbacks, such as "on one technician's jobs") with `mine_groupings` adds those groupings
    over the callbacks it selects, as "<grouping>:mine", from the same pass: the scorecard sets a technician
    against the team without reading the team's callbacks twice."""
    with_steps = "steps" in groupings or "steps" in mine_groupings
    requested = [(name, name, "") for name in groupings]
    requested += [(name, f"{name}:mine", "s.c_mine") for name in mine_groupings]
    # Only the measures and CTE columns the named groupings read (the rest would be computed per callback for
    # nothing).
    wanted = {measure for name, _label, _where in requested for measure in GROUPINGS[name][2]}
    measures_used = [name for name in MEASURES if name in wanted]
    revisit = any(name in REVISIT_GROUPINGS for name, _label, _where in requested)
    columns = _columns(now, steps=with_steps, revisit=revisit)
    if mine is not None:
        columns["c_mine"] = _flag(mine)
    base = callbacks.order_by().values(**columns)
    sql, params = base.query.sql_with_params()
    quote = connection.ops.quote_name
    helpers_table = quote(Job.helpers.through._meta.db_table)
    # PostgreSQL types a UNION's columns from its first branch onwards, and a bare NULL would be text: this first
    # branch names every column with its type and returns no row.
    typed = ("s.c_week", "s.c_kind", "s.c_lead", "s.c_cause")
    branches = [f"SELECT 'typed', {', '.join(typed)}, {', '.join(MEASURES[m] for m in measures_used)} FROM s "
                f"WHERE 1 = 0 GROUP BY {', '.join(typed)}"]
    for name, label, where in requested:
        keys, extra, measures = GROUPINGS[name]
        # The grouping's label is a literal from this module, never from a request.
        selected = [f"'{label}'"]
        selected += [f"{key}" if key else "NULL" for key in keys]
        selected += [MEASURES[measure] if measure in measures else "NULL" for measure in measures_used]
        group_by = [key for key in keys if key]
        branch = f"SELECT {', '.join(selected)} FROM s {extra.format(helpers=helpers_table)}"
        if where:
            branch += f" AND {where}" if "WHERE" in extra else f" WHERE {where}"
        if group_by:
            branch += f" GROUP BY {', '.join(group_by)}"
        branches.append(branch)
    statement = f"WITH s AS ({sql}) " + " UNION ALL ".join(branches)
    results = {label: [] for _name, label, _where in requested}
    names = ["grouping", *KEYS, *measures_used]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            results.setdefault(row["grouping"], []).append(_clean(row))
    return results


def _clean(row):
    """PostgreSQL and SQLite return dates, durations and decimals differently; give both the same types."""
    if isinstance(row["k_week"], str):
        row["k_week"] = date.fromisoformat(row["k_week"][:10])
    for key in ("to_contact", "to_resolve"):
        if row.get(key) is not None and not isinstance(row[key], timedelta):
            row[key] = timedelta(microseconds=float(row[key]))
    for key in ("labour_hours", "parts_cost"):
        if row.get(key) is not None and not isinstance(row[key], Decimal):
            row[key] = Decimal(str(round(row[key], 2)))
    return row
