"""The follow-up dashboard: are the post-visit calls made, do they reach the customer, and what do they find (seed 002)?

Everything is about the calls that fell due in the range (by `due_at`), with the job filters applied through the
call's job: technician (lead or helper of the visit), job kind, site type. Per CSR is who made the attempts.

Twelve months of a large contractor is ~270,000 calls and ~450,000 attempts (issue 8): the complete weeks of the
range come from FollowUpRollup (settled calls, see follow_up_rollup.py), and one statement adds, counted live, what
the rollup does not hold: the partial weeks at the range's ends and this week, the calls of rolled-up weeks still in
the queue or settled since the rollup's cutoff, the reviews and referrals since then, and every callback and lead
raised from a call. The live calls are read once (a CTE) and grouped with the rollup's rows the four ways the tables
need (in total, per week, per CSR who finished the call, per CSR who made the attempts): three queries in all.
A technician's figures are all live (the rollup has no technician), from that technician's jobs.
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import BooleanField, Case, CharField, Count, ExpressionWrapper, F, Q, Sum, Value, When

from callbacks.models import CallAttempt, FollowUpCall, Referral
from customers.models import Job
from servicedesk.models import FollowUpRollup, FollowUpRollupWeek

from .follow_up_rollup import (
    SCORES,
    as_date,
    call_groups,
    due_in,
    settled_before,
    unsettled_at,
)
from .rollup import week_intervals
from .tables import Chart, Column, Panels, Table, people, rate

quote_name = connection.ops.quote_name
State, Outcome = FollowUpCall.State, FollowUpCall.Outcome
Part = FollowUpRollup.Part
KEYS = {"g_part": "text", "g_week": "date", "g_csr": "integer", "g_cancelled": "boolean"}
MEASURES = ("calls", "made", "reached", "gave_up", "still_due", *(f"score_{score}" for score in SCORES), "issues",
            "would_refer", "reviews", "referrals", "callbacks", "leads", "attempts", "reached_attempts")


class FollowUpDashboard(Panels):
    TABLES = ("summary", "weekly", "satisfaction", "found", "per_csr")

    def __init__(self, scope):
        self.scope = scope

    def calls(self):
        """The calls that fell due in the range, on jobs matching the filters."""
        scope = self.scope
        calls = FollowUpCall.objects.filter(due_at__gte=scope.start, due_at__lt=scope.end)
        if scope.technician is not None:
            # The technician's jobs (led or helped on) first, then their calls through the unique job: the filter's
            # "led OR helped" across the join would read every call of the range (a second and more).
            led = Job.objects.filter(lead_technician=scope.technician).order_by().values("pk")
            helped = Job.helpers.through.objects.filter(user=scope.technician).order_by().values("job_id")
            calls = calls.filter(job__in=led.union(helped, all=True))
            scope = replace(scope, technician=None)
        return scope.filter_jobs(calls, prefix="job__")

    @cached_property
    def _groups(self):
        """{grouping: rows} for every table: one query for the rolled-up weeks, one for the figures."""
        return _figures(self.scope, self.calls(), *self._rolled())

    @cached_property
    def _totals(self):
        """The calls in total: {"all": ..., "due": not cancelled, "cancelled": ...}, each {measure: n}."""
        rows = {row["g_cancelled"]: row for row in self._groups["total"]}
        nothing = dict.fromkeys(MEASURES, 0)
        due, cancelled = rows.get(False, nothing), rows.get(True, nothing)
        return {"all": {name: due[name] + cancelled[name] for name in MEASURES}, "due": due, "cancelled": cancelled}

    def _rolled(self):
        """(complete weeks of the range the rollup holds, its cutoff); none with a technician filter, which the
        rollup cannot answer (a call counts for its job's lead and for each helper)."""
        scope = self.scope
        if scope.technician is not None:
            return [], None
        rows = list(
            FollowUpRollupWeek.objects.filter(week__range=scope.whole_weeks())
            .order_by("week").values_list("week", "cutoff")
        )
        if not rows:
            return [], None
        # A refresh moves every week to the same cutoff; should one ever lag, it is counted live instead.
        cutoff = max(cutoff for _, cutoff in rows)
        return [week for week, at in rows if at == cutoff], cutoff

    def summary(self):
        totals = self._totals["all"]
        due, cancelled = self._totals["due"]["calls"], self._totals["cancelled"]["calls"]
        made, reached, gave_up, still_due = (totals[name] for name in ("made", "reached", "gave_up", "still_due"))
        rows = [
            {"figure": "Calls due (not cancelled)", "n": due, "share": None},
            {"figure": "Calls made (at least one attempt)", "n": made, "share": rate(made, due)},
            {"figure": "Customers reached", "n": reached, "share": rate(reached, made)},
            {"figure": "Given up after the last attempt", "n": gave_up, "share": rate(gave_up, made)},
            {"figure": "Still to call", "n": still_due, "share": rate(still_due, due)},
            {"figure": "Cancelled (opted out, do-not-service, an open callback)", "n": cancelled, "share": None},
        ]
        columns = [Column("figure", "Calls", "text"), Column("n", "Number"), Column("share", "Rate", "percent")]
        table = Table("summary", "Calls due and made", columns, rows,
                      chart=Chart("bar", "figure", ["n"], axis="Calls"),
                      note="Calls made is the share of calls due; customers reached and given up are shares of the "
                           "calls made (the reach rate).")
        table.extra = {"reach_rate": rate(reached, made), "made_rate": rate(made, due),
                       "satisfaction": _average_score(totals)}
        return table

    def weekly(self):
        by_week = {row["g_week"]: row for row in self._groups["week"]}
        rows = []
        week = self.scope.first_day - timedelta(days=self.scope.first_day.weekday())
        while week <= self.scope.last_day:
            row = by_week.get(week)
            due, made, reached = (row[name] if row else 0 for name in ("calls", "made", "reached"))
            rows.append({"week": week, "due": due, "made": made, "reach_rate": rate(reached, made),
                         "satisfaction": _one_decimal(_average_score(row)) if row else None})
            week += timedelta(days=7)
        columns = [
            Column("week", "Week of", "date"),
            Column("due", "Calls due"),
            Column("made", "Calls made"),
            Column("reach_rate", "Reach rate", "percent"),
            Column("satisfaction", "Average satisfaction (1–5)", "decimal"),
        ]
        return Table("weekly", "Week by week", columns, rows,
                     chart=Chart("line", "week", ["reach_rate"], axis="Reach rate (%)"),
                     note="By the week the call fell due; satisfaction is asked only of customers reached.")

    def satisfaction(self):
        counts = {score: self._totals["all"][f"score_{score}"] for score in SCORES}
        total = sum(counts.values())
        rows = [{"score": f"{score} of 5", "n": counts[score], "share": rate(counts[score], total)}
                for score in reversed(SCORES)]
        columns = [Column("score", "Satisfaction", "text"), Column("n", "Customers"),
                   Column("share", "Share", "percent")]
        return Table("satisfaction", "How satisfied the customers reached were", columns, rows,
                     chart=Chart("bar", "score", ["n"], axis="Customers"))

    def found(self):
        totals = self._totals["all"]
        reached = totals["reached"]
        rows = [
            {"what": "Issues mentioned since the visit", "n": totals["issues"]},
            {"what": "Problems turned into callbacks", "n": totals["callbacks"]},
            {"what": "Interest in more work, passed on as leads", "n": totals["leads"]},
            {"what": "Customers who would refer us", "n": totals["would_refer"]},
            {"what": "Referrals recorded (new customers)", "n": totals["referrals"]},
            {"what": "Reviews asked on the call (before every customer got the link)", "n": totals["reviews"]},
        ]
        for row in rows:
            row["share"] = rate(row["n"], reached)
        columns = [Column("what", "Found on the calls", "text"), Column("n", "Number"),
                   Column("share", "Per 100 customers reached", "percent")]
        return Table("found", "What the calls found", columns, rows,
                     chart=Chart("bar", "what", ["n"], axis="Calls"))

    def per_csr(self):
        attempts = self._groups["attempts"]  # one row per CSR, most attempts first
        completed = {row["g_csr"]: row for row in self._groups["csr"]}
        names = people(row["g_csr"] for row in attempts)
        rows = []
        for row in attempts:
            done = completed.get(row["g_csr"])
            rows.append({
                "csr": names.get(row["g_csr"], "(nobody)"),
                "calls": row["calls"],
                "attempts": row["attempts"],
                "reach_rate": rate(row["reached_attempts"], row["attempts"]),
                "satisfaction": _one_decimal(_average_score(done)) if done else None,
                "callbacks": done["callbacks"] if done else 0,
                "reviews": done["reviews"] if done else 0,
            })
        columns = [
            Column("csr", "CSR", "text"),
            Column("calls", "Calls worked"),
            Column("attempts", "Attempts"),
            Column("reach_rate", "Attempts that reached", "percent"),
            Column("satisfaction", "Average satisfaction", "decimal"),
            Column("callbacks", "Problems turned into callbacks"),
            Column("reviews", "Reviews asked"),
        ]
        return Table("per_csr", "Per CSR", columns, rows,
                     chart=Chart("bar", "csr", ["attempts"], axis="Attempts"))


def _figures(scope, calls, weeks, cutoff):
    """Every figure of the page in one statement: the rollup's rows for `weeks` plus, counted live, the calls of the
    other weeks and the calls of `weeks` not settled before `cutoff` (with their attempts and referrals), the reviews
    and referrals on settled calls since the cutoff, and the callbacks and leads raised from any call. Each branch
    yields rows keyed (part, week, CSR, cancelled) with some of the MEASURES; the outer query adds them up per key."""
    calls_part = Value(Part.CALLS, output_field=CharField())
    live = calls
    if weeks:
        live = calls.filter(due_in(scope.outside(weeks)) | unsettled_at(cutoff))
    branches = [
        # Never rolled up: few, on the partial index of calls with a callback or a lead.
        calls.filter(Q(callback__isnull=False) | Q(lead__isnull=False)).order_by()
        .values(**call_groups(), g_part=calls_part)
        .annotate(callbacks=Count("pk", filter=Q(callback__isnull=False)),
                  leads=Count("pk", filter=Q(lead__isnull=False))),
    ]
    if weeks:
        settled = calls.filter(due_in(week_intervals(weeks)), settled_before(cutoff))
        rollup = FollowUpRollup.objects.filter(week__gte=weeks[0], week__lte=weeks[-1]).filter(week__in=weeks)
        if scope.kind:
            rollup = rollup.filter(kind=scope.kind)
        if scope.site_type:
            rollup = rollup.filter(site_type=scope.site_type)
        branches += [
            settled.filter(review_requested_at__gte=cutoff).order_by()
            .values(**call_groups(), g_part=calls_part).annotate(reviews=Count("pk")),
            Referral.objects.filter(at__gte=cutoff, call__in=settled.values("pk")).order_by()
            .values(**call_groups("call__"), g_part=calls_part).annotate(referrals=Count("pk")),
            rollup.order_by().values("part", "week", "csr_id", "cancelled")
            .annotate(**{f"r_{name}": Sum(name) for name in _ROLLED}),
        ]
    return _run(live, branches)


def _flag(condition):
    return ExpressionWrapper(condition, output_field=BooleanField())


def _live_columns():
    """The columns of the live calls the statement reads once (the CTE `s`) and groups three ways."""
    reached = Q(outcome=Outcome.REACHED)
    return {
        "s_id": F("pk"),
        **call_groups(),
        "s_open": _flag(Q(state__in=FollowUpCall.OPEN_STATES)),
        "s_made": _flag(Q(attempts__gt=0)),
        "s_reached": _flag(reached),
        "s_gave_up": _flag(Q(state=State.GAVE_UP)),
        "s_score": Case(When(reached, then=F("satisfaction")), default=None),
        "s_issues": _flag(reached & ~Q(issues="")),
        "s_refer": _flag(Q(would_refer=True)),
        "s_review": _flag(Q(review_requested_at__isnull=False)),
    }


def _live_branches():
    """SQL over the CTE `s`: {measure: expression} per branch, with the branch's keys and its FROM ... GROUP BY.
    These are the rollup's measures (follow_up_rollup.call_measures and attempt_measures) over the live calls; the
    tests compare the two on the same calls, rolled up and not."""
    calls = {
        "calls": "COUNT(*)",
        "made": "COUNT(*) FILTER (WHERE s.s_made)",
        "reached": "COUNT(*) FILTER (WHERE s.s_reached)",
        "gave_up": "COUNT(*) FILTER (WHERE s.s_gave_up)",
        "still_due": "COUNT(*) FILTER (WHERE s.s_open)",
        **{f"score_{score}": f"COUNT(*) FILTER (WHERE s.s_score = {score})" for score in SCORES},
        "issues": "COUNT(*) FILTER (WHERE s.s_issues)",
        "would_refer": "COUNT(*) FILTER (WHERE s.s_refer)",
        "reviews": "COUNT(*) FILTER (WHERE s.s_review)",
    }
    by_call = {"g_part": f"'{Part.CALLS}'", "g_week": "s.g_week", "g_csr": "s.g_csr", "g_cancelled": "s.g_cancelled"}
    group_by_call = "GROUP BY s.g_week, s.g_csr, s.g_cancelled"
    referral = quote_name(Referral._meta.db_table)
    attempt = quote_name(CallAttempt._meta.db_table)
    return [
        (by_call, calls, f"FROM s {group_by_call}"),
        (by_call, {"referrals": "COUNT(*)"}, f"FROM s JOIN {referral} r ON r.call_id = s.s_id {group_by_call}"),
        ({"g_part": f"'{Part.ATTEMPTS}'", "g_csr": "a.by_id"},
         {"calls": "COUNT(DISTINCT a.call_id)", "attempts": "COUNT(*)",
          "reached_attempts": f"COUNT(*) FILTER (WHERE a.outcome = '{Outcome.REACHED}')"},
         # A call's attempts counter counts its attempt rows (recorded together): most live calls are in the queue
         # untried, and need no look-up.
         f"FROM s JOIN {attempt} a ON a.call_id = s.s_id WHERE s.s_made GROUP BY a.by_id"),
    ]


# The rollup's own columns; its attempt rows count per CSR over the whole range, like the live ones.
_ROLLED = [name for name in MEASURES if name not in ("still_due", "callbacks", "leads")]
_ROLLUP_KEYS = {
    "g_part": "b.part",
    "g_week": f"CASE WHEN b.part = '{Part.CALLS}' THEN b.week END",
    "g_csr": "b.csr_id",
    "g_cancelled": f"CASE WHEN b.part = '{Part.CALLS}' THEN b.cancelled END",
}


def _select(keys, measures, source):
    """One branch of the UNION: every key and measure, in order, named (PostgreSQL types the columns from the
    first branch: the live calls', whose keys are typed columns)."""
    columns = [f"{keys.get(key) or f'CAST(NULL AS {kind})'} AS {quote_name(key)}" for key, kind in KEYS.items()]
    columns += [f"{measures.get(name, '0')} AS {quote_name(name)}" for name in MEASURES]
    return f"SELECT {', '.join(columns)} {source}"


def _run(live, branches):
    sql, params = live.order_by().values(**_live_columns()).query.sql_with_params()
    selects = [_select(keys, measures, source) for keys, measures, source in _live_branches()]
    params = list(params)
    for branch in branches:
        branch_sql, branch_params = branch.query.sql_with_params()
        aliases = set(branch.query.values_select) | set(branch.query.annotation_select)
        if branch.model is FollowUpRollup:
            keys = _ROLLUP_KEYS
        else:
            keys = {key: f"b.{quote_name(key)}" for key in KEYS if key in aliases}
        measures = {name: f"b.{quote_name(alias)}" for name in MEASURES for alias in (name, f"r_{name}")
                    if alias in aliases}
        selects.append(_select(keys, measures, f"FROM ({branch_sql}) b"))
        params += branch_params
    sums = ", ".join(f"SUM(u.{quote_name(name)}) AS {quote_name(name)}" for name in MEASURES)
    part, week, csr, cancelled = (f"u.{quote_name(key)}" for key in KEYS)
    calls, attempts = f"{part} = '{Part.CALLS}'", f"{part} = '{Part.ATTEMPTS}'"
    # The summed set grouped the ways the tables need; the grouping's name and keys are literals from this module.
    no_week, no_csr, no_flag = (f"CAST(NULL AS {KEYS[key]})" for key in ("g_week", "g_csr", "g_cancelled"))
    groupings = [
        ("total", f"{no_week}, {no_csr}, {cancelled}", f"WHERE {calls} GROUP BY {cancelled}"),
        ("week", f"{week}, {no_csr}, {no_flag}", f"WHERE {calls} AND NOT {cancelled} GROUP BY {week}"),
        ("csr", f"{no_week}, {csr}, {no_flag}", f"WHERE {calls} AND {csr} IS NOT NULL GROUP BY {csr}"),
        ("attempts", f"{no_week}, {csr}, {no_flag}", f"WHERE {attempts} GROUP BY {csr}"),
    ]
    outer = " UNION ALL ".join(f"SELECT '{name}' AS g_grouping, {keys}, {sums} FROM u {where}"
                               for name, keys, where in groupings)
    statement = (f"WITH s AS ({sql}), u AS ({' UNION ALL '.join(selects)}) "
                 f"SELECT * FROM ({outer}) g ORDER BY g_grouping, {quote_name('attempts')} DESC, 2, 3")
    names = ["grouping", "g_week", "g_csr", "g_cancelled", *MEASURES]
    groups = {name: [] for name, _, _ in groupings}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            row["g_week"] = as_date(row["g_week"])
            row.update((name, int(row[name] or 0)) for name in MEASURES)
            groups[row["grouping"]].append(row)
    return groups


def _average_score(counts):
    """The customers' average satisfaction, exact, from the counts per score (None when nobody gave one)."""
    answers = sum(counts[f"score_{score}"] for score in SCORES)
    if not answers:
        return None
    return Decimal(sum(score * counts[f"score_{score}"] for score in SCORES)) / Decimal(answers)


def _one_decimal(value):
    return None if value is None else round(float(value), 1)
