"""Every callback figure of a scope from one pass over its callbacks (issue 8: dashboards at a million jobs).

Reaching a callback's job costs an index lookup per callback (~17,000 over twelve months of a large contractor);
done once per figure that was most of a second. Here the callbacks in scope are read once, in a common table
expression whose columns (the job's week, kind and lead, flags such as "counted" or "contacted on time", the
durations and the recovery steps done, a bit mask kept on the callback) the ORM writes, so the filters and the date
arithmetic are the same SQL the rest of the app uses on PostgreSQL and on SQLite. The outer statement then groups
that set several ways at once (UNION ALL: per week × kind × lead, per root cause, per urgency, per fixing
technician, per helper, and in total), each branch with only the measures its tables need, and the CTE has only the
columns the requested groupings read; the groupings that count jobs, not callbacks, read the counted callbacks' jobs
once each (`j`). Every figure is still an aggregate computed in the database; Python only picks the rows apart.

The facts of a callback's job and revisit job that the pass reads (completed_at, kind, lead, status; the revisit's
lead and no_charge) are kept on the callback (Callback.job_*, revisit_*, by triggers): the CTE reads the callbacks
table alone. A look-up per callback into the jobs (even from the covering index job_figures) was most of the pass.
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
    Q,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncWeek

from callbacks.models import COUNTED, STATE_ORDER, Callback, Classification, RecoveryStep
from customers.models import Job

RootCause = Callback.RootCause
State = Callback.State
STEPS = list(RecoveryStep.Step)
RESOLVED = [State.RESOLVED, State.CLOSED]


def _flag(condition):
    return ExpressionWrapper(condition, output_field=BooleanField())


def _duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _columns(now, *, steps, revisit):
    counted = COUNTED
    resolved = Q(state__in=RESOLVED)
    columns = {
        "c_job": F("job_id"),
        "c_week": Cast(TruncWeek("job_completed_at"), DateField()),
        "c_kind": F("job_kind"),
        "c_lead": F("job_lead_id"),
        "c_cause": F("root_cause"),
        "c_urgency": F("urgency"),
        "c_counted": _flag(counted),
        "c_potential": _flag(Q(classification=Classification.POTENTIAL)),
        "c_unresolved": _flag(Q(root_cause="")),
        "c_repeat": _flag(Q(is_repeat=True)),
        "c_faulty": _flag(Q(root_cause=RootCause.FAULTY_PART)),
        "c_contacted": _flag(Q(acknowledged_at__isnull=False)),
        "c_contact_on_time": _flag(Q(acknowledged_at__lte=F("first_contact_due_at"))),
        # A callback on hold is late for nothing (callbacks/recalls: pauses).
        "c_waiting_late": _flag(Q(acknowledged_at__isnull=True, first_contact_due_at__lt=now, paused_since=None)),
        "c_resolved": _flag(resolved),
        "c_closed": _flag(Q(state=State.CLOSED)),
        "c_resolved_on_time": _flag(resolved & Q(resolved_at__lte=F("revisit_due_at"))),
        "c_unresolved_late": _flag(~resolved & Q(revisit_due_at__lt=now, paused_since=None)),
        "c_to_contact": _duration("acknowledged_at", "logged_at"),
        "c_to_resolve": Case(When(resolved, then=_duration("resolved_at", "logged_at")), default=None,
                             output_field=DurationField()),
        "c_labour": F("labour_hours"),
        "c_parts": F("parts_cost"),
    }
    if revisit:
        columns["c_fixer"] = F("revisit_lead_id")
        # Every no-charge revisit: the current one's and a reopened callback's earlier ones.
        columns["c_no_charge"] = ExpressionWrapper(
            Coalesce("earlier_no_charge_revisits", 0) + Case(When(revisit_no_charge=True, then=1), default=0),
            output_field=IntegerField(),
        )
    if not steps:
        return columns
    # The steps done, kept on the callback as a bit mask (Callback.steps_done): a look-up per callback into the
    # recovery steps was a sixth of the pass.
    columns["c_steps"] = F("steps_done")
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
        "unresolved": f"COUNT(*) FILTER (WHERE {counted} AND s.c_unresolved)",
        "repeats": f"COUNT(*) FILTER (WHERE s.c_repeat AND {counted})",
        "unrelated": f"COUNT(*) FILTER (WHERE NOT {counted} AND NOT s.c_potential)",
        # Worked like any callback but on nobody's rate until classified (callbacks/recalls).
        "potential": "COUNT(*) FILTER (WHERE s.c_potential)",
        "faulty_part": "COUNT(*) FILTER (WHERE s.c_faulty)",
        "contacted": f"COUNT(*) FILTER (WHERE {counted} AND s.c_contacted)",
        "contacted_on_time": f"COUNT(*) FILTER (WHERE {counted} AND s.c_contact_on_time)",
        "waiting_late": f"COUNT(*) FILTER (WHERE {counted} AND s.c_waiting_late)",
        # Totals, not averages: the dashboard divides by "contacted" and "resolved", so that weeks counted apart
        # (the rollup, callback_rollup.py) add up exactly.
        "to_contact_total": f"SUM(s.c_to_contact) FILTER (WHERE {counted})",
        "resolved": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved)",
        "resolved_on_time": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved_on_time)",
        "unresolved_late": f"COUNT(*) FILTER (WHERE {counted} AND s.c_unresolved_late)",
        "to_resolve_total": f"SUM(s.c_to_resolve) FILTER (WHERE {counted})",
        "labour_hours": f"SUM(s.c_labour) FILTER (WHERE {counted})",
        "parts_cost": f"SUM(s.c_parts) FILTER (WHERE {counted})",
        "no_charge_visits": f"COALESCE(SUM(s.c_no_charge) FILTER (WHERE {counted}), 0)",
        "fixed": f"COUNT(*) FILTER (WHERE {counted} AND s.c_resolved)",
        "closed": f"COUNT(*) FILTER (WHERE {counted} AND s.c_closed)",
    }
    for index in range(len(STEPS)):
        reached = f"{counted} AND s.c_reached_{index}"
        measures[f"expected_{index}"] = f"COUNT(*) FILTER (WHERE {reached})"
        done = f"(s.c_steps & {1 << index}) <> 0"
        measures[f"skipped_{index}"] = f"COUNT(*) FILTER (WHERE {reached} AND NOT {done})"
    return measures


MEASURES = _measures()
KEYS = ("k_week", "k_kind", "k_tech", "k_text")
STEP_MEASURES = [name for name in MEASURES if name.startswith(("expected_", "skipped_"))]
# grouping -> (key columns of the CTE, in KEYS order or None, extra FROM/WHERE, measures)
GROUPINGS = {
    "total": ((None, None, None, None), "", ["came_back", "callbacks", "unresolved", "repeats", "unrelated",
                                             "faulty_part", "potential"]),
    "steps": ((None, None, None, None), "", STEP_MEASURES),
    # Jobs, not callbacks (JOB_GROUPINGS).
    "week": (("s.c_week", "s.c_kind", "s.c_lead", None), "", ["came_back"]),
    "cause": ((None, None, None, "s.c_cause"), "WHERE s.c_counted", ["callbacks"]),
    # Apart from "cause" because no-charge revisits need the revisit's facts (two more CTE columns), which the
    # root causes alone (the scorecard) do without.
    "cost": ((None, None, None, "s.c_cause"), "WHERE s.c_counted",
             ["callbacks", "labour_hours", "parts_cost", "no_charge_visits"]),
    "urgency": ((None, None, None, "s.c_urgency"), "WHERE s.c_counted",
                ["callbacks", "contacted", "contacted_on_time", "waiting_late", "to_contact_total", "resolved",
                 "resolved_on_time", "unresolved_late", "to_resolve_total"]),
    "fixer": ((None, None, "s.c_fixer", None), "WHERE s.c_resolved AND s.c_fixer IS NOT NULL", ["fixed", "closed"]),
    # Helpers on the original job, apart from its lead: each job once per helper however many callbacks it had.
    # Jobs, not callbacks (JOB_GROUPINGS): a look-up per job that came back into the helpers' (job, user) index;
    # joined with the callbacks instead, PostgreSQL hashed every helper row ever recorded (~140,000 at a million
    # jobs), more than twice the cost (~50 ms against ~20).
    "helper": ((None, None, "h.user_id", None),
               "JOIN {helpers} h ON h.job_id = s.c_job WHERE (s.c_lead IS NULL OR h.user_id <> s.c_lead)",
               ["came_back"]),
}
# Groupings that count the jobs that came back and nothing else: they read `j`, the jobs of the counted callbacks,
# each once (a job fixes its week, kind and lead), so "came back" is a plain count. That lets PostgreSQL group by
# hashing, which it cannot do for COUNT(DISTINCT ...): sorting ~19,000 callbacks on (week, kind, lead) took ~25 ms
# against ~15. Only groups with a job that came back have a row. With `mine`, a job is "mine" when any of its
# counted callbacks is.
JOB_GROUPINGS = ("week", "helper")
JOBS = ("SELECT s.c_job, s.c_week, s.c_kind, s.c_lead{mine} FROM s WHERE s.c_counted "
        "GROUP BY s.c_job, s.c_week, s.c_kind, s.c_lead")
JOBS_MINE = ", MAX(CASE WHEN s.c_mine THEN 1 ELSE 0 END) = 1 AS c_mine"
JOB_MEASURES = {"came_back": "COUNT(*)"}


# The groupings that read the revisit's facts (c_fixer, c_no_charge).
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
        source = "s"
        if name in JOB_GROUPINGS:
            # Named `s` too, so that the groupings' SQL reads the same columns from either.
            source = "j AS s"
            selected += [JOB_MEASURES[measure] if measure in measures else "NULL" for measure in measures_used]
        else:
            selected += [MEASURES[measure] if measure in measures else "NULL" for measure in measures_used]
        group_by = [key for key in keys if key]
        branch = f"SELECT {', '.join(selected)} FROM {source} {extra.format(helpers=helpers_table)}"
        if where:
            branch += f" AND {where}" if "WHERE" in extra else f" WHERE {where}"
        if group_by:
            branch += f" GROUP BY {', '.join(group_by)}"
        branches.append(branch)
    statement = f"WITH s AS ({sql})"
    if any(name in JOB_GROUPINGS for name, _label, _where in requested):
        statement += f", j AS ({JOBS.format(mine=JOBS_MINE if mine is not None else '')})"
    statement += " " + " UNION ALL ".join(branches)
    results = {label: [] for _name, label, _where in requested}
    # Each grouping's row holds its own keys and measures only: the week grouping alone is ~5,000 rows, each
    # with every other grouping's measure as a NULL.
    positions = {name: position for position, name in enumerate(["grouping", *KEYS, *measures_used])}
    picked = {
        label: [(key, positions[key]) for key, column in zip(KEYS, GROUPINGS[name][0], strict=True) if column]
        + [(measure, positions[measure]) for measure in GROUPINGS[name][2]]
        for name, label, _where in requested
    }
    converted = {label: [(key, CONVERT[key]) for key, _position in keys if key in CONVERT]
                 for label, keys in picked.items()}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for values in cursor.fetchall():
            label = values[0]
            row = {key: values[position] for key, position in picked[label]}
            for key, convert in converted[label]:
                if row[key] is not None:
                    row[key] = convert(row[key])
            results[label].append(row)
    return results


# PostgreSQL and SQLite return dates, durations and decimals differently: both give these types.
def _as_date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _as_duration(value):
    return value if isinstance(value, timedelta) else timedelta(microseconds=float(value))


def _as_decimal(value):
    return value if isinstance(value, Decimal) else Decimal(str(round(value, 2)))


CONVERT = {"k_week": _as_date, "to_contact_total": _as_duration, "to_resolve_total": _as_duration,
           "labour_hours": _as_decimal, "parts_cost": _as_decimal}
