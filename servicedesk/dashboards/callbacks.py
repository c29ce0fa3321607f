"""The callback dashboard's figures. Each is one aggregate query (or two: jobs, and the callbacks on them).

What counts, stated once and repeated on the page:
- the jobs are the completed jobs in the range that match the filters (callback revisits excluded);
- a callback counts unless its root cause is "unrelated new problem" or it was classified a new problem on
  diagnosis; a callback not yet resolved has no root cause yet and counts (it is a callback until shown otherwise),
  except one logged as a potential callback, which counts only once classified (callbacks/recalls);
- the callback rate is the share of those jobs that came back at least once, so a job with a second callback
  still counts once (the second one shows under repeat callbacks);
- a callback is caused by the original job's technicians (lead and helpers) and fixed by the revisit's lead.

The jobs in range are counted once, grouped by (week, kind, lead technician) and per helper, from the weekly
rollup where it is complete and live elsewhere (rollup.py); the callbacks on them are read once and grouped every
way the tables need in the same statement (callback_pass.py), and for the whole company (no filter) the settled
callbacks of complete past weeks come pre-grouped from their own weekly rollup (callback_rollup.py). The totals,
the per-technician, per-kind and weekly figures add up those groups (every job is in exactly one group, so the
sums are exact, distinct counts included).
No query returns one row per job or per callback.
"""

from dataclasses import replace
from datetime import timedelta
from functools import cached_property

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from callbacks.models import Callback, CallbackPause, Urgency
from callbacks.services import urgency_targets
from customers.models import Job

from . import callback_rollup
from .callback_pass import GROUPINGS, STEPS, callback_pass
from .filters import callback_technician_condition
from .rollup import JobCounts
from .tables import Chart, Column, Panels, Table, people, rate

RootCause = Callback.RootCause
State = Callback.State
# "Faulty part" is claimed far more often than parts fail: under 1% of parts arrive faulty (seed 003).
FAULTY_PART_BASELINE = 1.0
NOT_YET_FOUND = "Not found yet (still open)"
OPEN_AGE_BUCKETS = [
    ("Under 1 day", timedelta(0), timedelta(days=1)),
    ("1–3 days", timedelta(days=1), timedelta(days=3)),
    ("3–7 days", timedelta(days=3), timedelta(days=7)),
    ("1–4 weeks", timedelta(days=7), timedelta(days=28)),
    ("Over 4 weeks", timedelta(days=28), None),
]


def _sums(groups):
    """{"week": {week: n}, "kind": {kind: n}, "lead": {lead: n}} over (week, kind, lead, n) groups, in one loop
    (thousands of groups over a year)."""
    by_week, by_kind, by_lead = {}, {}, {}
    for week, kind, lead, n in groups:
        by_week[week] = by_week.get(week, 0) + n
        by_kind[kind] = by_kind.get(kind, 0) + n
        by_lead[lead] = by_lead.get(lead, 0) + n
    return {"week": by_week, "kind": by_kind, "lead": by_lead}


def _average(total, n):
    return total / n if total is not None and n else None


def _day(week):
    return timezone.localtime(week).date()


class CallbackDashboard(Panels):
    """The figures for one scope; shared counts are computed once per page, each table only when asked for."""

    TABLES = ("summary", "technicians", "job_kinds", "weekly", "root_causes", "repeats", "response",
              "recovery_steps", "cost", "open_by_age", "fixes", "paused")

    def __init__(self, scope, now=None, groupings=None, technician=None):
        self.scope = scope
        self.now = now or timezone.now()
        # The callback groupings to compute (callback_pass.GROUPINGS); pages that show a few tables name theirs.
        self.groupings = groupings
        # A technician whose own figures (technician_dashboard) come from this page's pass over the callbacks.
        self.technician = technician

    # --- shared querysets and counts

    def callbacks(self):
        """Counted callbacks on the jobs in scope."""
        return self._on_jobs_in_scope(Callback.objects.counted())

    def _on_jobs_in_scope(self, queryset):
        # A callback is logged after the job it is about was completed, so `logged_at >= start` loses nothing
        # and lets PostgreSQL start from the few callbacks (callback_logged index) instead of every job in range.
        # The range and filters read the job's facts kept on the callback, not the job itself.
        return self.scope.callbacks_in_range(queryset.filter(logged_at__gte=self.scope.start))

    @cached_property
    def jobs(self):
        """Completed jobs in scope per (week, kind, lead) and per helper (rollup.JobCounts)."""
        # Only the technicians table reads the counts per technician, and it always comes with the per-helper
        # callbacks: a page without those (the scorecard) reads a technician's jobs from the rollup.
        return JobCounts(self.scope, per_technician=self.groupings is None or "helper" in self.groupings)

    @cached_property
    def facts(self):
        """Every callback figure, grouped the ways the tables need, from one pass (callback_pass)."""
        callbacks = self._on_jobs_in_scope(Callback.objects.all())
        groupings = {} if self.groupings is None else {"groupings": self.groupings}
        scope = self.scope
        if self.technician is None and scope.technician is None and not scope.kind and not scope.site_type:
            # The whole company: complete past weeks from the rollup, the rest live (callback_rollup.py).
            return callback_rollup.dashboard_facts(scope, callbacks, now=self.now, **groupings)
        if self.technician is not None:
            groupings.update(mine=callback_technician_condition(self.technician),
                             mine_groupings=self.groupings or tuple(GROUPINGS))
        return callback_pass(callbacks, now=self.now, **groupings)

    def technician_dashboard(self):
        """The same figures for the jobs of `technician` alone (the scope with the technician filter), their
        callback figures taken from this dashboard's pass instead of a second one."""
        mine = CallbackDashboard(replace(self.scope, technician=self.technician), now=self.now,
                                 groupings=self.groupings)
        suffix = ":mine"
        mine.facts = {label[:-len(suffix)]: rows for label, rows in self.facts.items() if label.endswith(suffix)}
        return mine

    @cached_property
    def jobs_by(self):
        """Completed jobs in scope {"week": {week: n}, "kind": {kind: n}, "lead": {lead technician id: n}}: every
        job is in exactly one (week, kind, lead) group."""
        return _sums((week, kind, lead, n) for (week, kind, lead), n in self.jobs.leads.items())

    @cached_property
    def came_back_by(self):
        """The same for the jobs that came back (counted callbacks, each job once)."""
        return _sums((row["k_week"], row["k_kind"], row["k_tech"], row["came_back"]) for row in self.facts["week"])

    @cached_property
    def totals(self):
        jobs = sum(self.jobs_by["week"].values())
        figures = {key: value for key, value in self.facts["total"][0].items()
                   if key in ("came_back", "callbacks", "unresolved", "repeats", "unrelated", "faulty_part",
                              "potential")}
        return {
            "jobs": jobs,
            **figures,
            "rate": rate(figures["came_back"], jobs),
            "faulty_part_rate": rate(figures["faulty_part"], jobs),
            # Callbacks beyond the first on the same job: the "second callback" the seeds say must never happen.
            "second_on_job": figures["callbacks"] - figures["came_back"],
        }

    # --- tables

    def summary(self):
        columns = [
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
            Column("callbacks", "Callbacks counted"),
            Column("unresolved", "Not resolved yet (counted)"),
            Column("unrelated", "Unrelated new problems (not counted)"),
        ]
        return Table("summary", "Callback rate", columns, [self.totals])

    def technicians(self):
        """Per technician who worked the original jobs; a job with a lead and a helper counts for both."""
        rows = {}

        def add(user_id, field, n):
            if user_id is None:
                return
            row = rows.setdefault(user_id, {"user_id": user_id, "jobs": 0, "came_back": 0})
            row[field] += n

        for field, sums in (("jobs", self.jobs_by), ("came_back", self.came_back_by)):
            for user_id, n in sums["lead"].items():
                add(user_id, field, n)
        for user_id, n in self.jobs.helpers.items():
            add(user_id, "jobs", n)
        for row in self.facts["helper"]:
            add(row["k_tech"], "came_back", row["came_back"])
        missing = [user_id for user_id in rows if user_id not in self.jobs.names]
        if missing:  # a technician with callbacks on jobs outside the job counts cannot be, but never a KeyError
            self.jobs.names.update(people(missing))
        for user_id, row in rows.items():
            row["name"] = self.jobs.names[user_id]
        for row in rows.values():
            row["rate"] = rate(row["came_back"], row["jobs"])
            row["team_rate"] = self.totals["rate"]
        ordered = sorted(rows.values(), key=lambda row: (-(row["rate"] or 0), row["name"]))
        columns = [
            Column("name", "Technician", "text"),
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
            Column("team_rate", "Team rate", "percent"),
        ]
        return Table("technicians", "Callback rate by technician (caused by)", columns, ordered,
                     chart=Chart("bar", "name", ["rate", "team_rate"], axis="Callback rate (%)"),
                     note="Caused by: the lead technician and the helpers on the original job.")

    def job_kinds(self):
        jobs, came_back = self.jobs_by["kind"], self.came_back_by["kind"]
        labels = dict(Job.Kind.choices)
        rows = [
            {"kind": labels.get(kind, kind), "jobs": n, "came_back": came_back.get(kind, 0),
             "rate": rate(came_back.get(kind, 0), n)}
            for kind, n in sorted(jobs.items(), key=lambda item: str(labels.get(item[0], item[0])))
        ]
        columns = [
            Column("kind", "Job kind", "text"),
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
        ]
        return Table("job_kinds", "Callback rate by job kind", columns, rows,
                     chart=Chart("bar", "kind", ["rate"], axis="Callback rate (%)"))

    def weekly(self):
        jobs, came_back = self.jobs_by["week"], self.came_back_by["week"]
        rows = []
        week = self.scope.first_day - timedelta(days=self.scope.first_day.weekday())
        while week <= self.scope.last_day:
            n = jobs.get(week, 0)
            rows.append({"week": week, "jobs": n, "came_back": came_back.get(week, 0),
                         "rate": rate(came_back.get(week, 0), n)})
            week += timedelta(days=7)
        columns = [
            Column("week", "Week of", "date"),
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
        ]
        return Table("weekly", "Callback rate week by week", columns, rows,
                     chart=Chart("line", "week", ["rate"], axis="Callback rate (%)"),
                     note="By the week the original job was completed; the last weeks' jobs may still come back.")

    def root_causes(self):
        labels = {**dict(RootCause.choices), "": NOT_YET_FOUND}
        total = self.totals["callbacks"]
        rows, running = [], 0
        for result in self._by_cause():
            running += result["callbacks"]
            rows.append({
                "cause": labels.get(result["k_text"], result["k_text"]),
                "callbacks": result["callbacks"],
                "share": rate(result["callbacks"], total),
                "cumulative": rate(running, total),
                "of_jobs": rate(result["callbacks"], self.totals["jobs"]),
            })
        columns = [
            Column("cause", "Root cause", "text"),
            Column("callbacks", "Callbacks"),
            Column("share", "Share of callbacks", "percent"),
            Column("cumulative", "Cumulative share", "percent"),
            Column("of_jobs", "Per 100 completed jobs", "percent"),
        ]
        flags = []
        faulty = self.totals["faulty_part_rate"]
        if faulty is not None and faulty > FAULTY_PART_BASELINE:
            flags.append(
                f"“Faulty part” is claimed on {faulty:.1f}% of completed jobs. Under 1% of parts arrive faulty, and "
                "not every job installs a part, so this is far above what parts explain: check each claim's "
                "supplier and RMA reference."
            )
        return Table("root_causes", "Root causes (Pareto)", columns, rows, flags=flags,
                     chart=Chart("pareto", "cause", ["callbacks", "cumulative"], axis="Callbacks"),
                     note="Faulty part is set against the under-1% baseline: faulty-part callbacks per 100 completed "
                          "jobs above 1 are flagged.")

    def _by_cause(self, grouping="cause"):
        """Counted callbacks per root cause, most first (the Pareto order)."""
        return sorted(self.facts[grouping], key=lambda row: (-row["callbacks"], row["k_text"]))

    def repeats(self):
        totals = self.totals
        rows = [
            {"what": "Jobs that came back", "n": totals["came_back"]},
            {"what": "Second or later callbacks on the same job", "n": totals["second_on_job"]},
            {"what": "Callbacks flagged as repeats when logged (same job, equipment or site)", "n": totals["repeats"]},
        ]
        columns = [Column("what", "Repeat callbacks", "text"), Column("n", "Count")]
        return Table("repeats", "Repeat callbacks", columns, rows)

    def response(self):
        keys = ("callbacks", "contacted", "contacted_on_time", "waiting_late", "resolved", "resolved_on_time",
                "unresolved_late")
        by_urgency = {
            row["k_text"]: {
                **{key: row[key] for key in keys},
                "to_contact": _average(row["to_contact_total"], row["contacted"]),
                "to_resolve": _average(row["to_resolve_total"], row["resolved"]),
            }
            for row in self.facts["urgency"]
        }
        targets = urgency_targets()
        rows = []
        for urgency, label in Urgency.choices:
            row = by_urgency.get(urgency)
            if row is None:
                continue
            first_contact_within, revisit_within = targets[urgency]
            rows.append({
                **row,
                "urgency": label,
                "contact_target": first_contact_within,
                "contact_on_time_rate": rate(row["contacted_on_time"], row["contacted"]),
                "resolve_target": revisit_within,
                "resolve_on_time_rate": rate(row["resolved_on_time"], row["resolved"]),
            })
        columns = [
            Column("urgency", "Urgency", "text"),
            Column("callbacks", "Callbacks"),
            Column("contact_target", "First contact target", "duration"),
            Column("to_contact", "Average time to first contact", "duration"),
            Column("contact_on_time_rate", "First contact on time", "percent"),
            Column("waiting_late", "Still waiting, past target"),
            Column("resolve_target", "Revisit target", "duration"),
            Column("to_resolve", "Average time to resolve", "duration"),
            Column("resolve_on_time_rate", "Resolved on time", "percent"),
            Column("unresolved_late", "Unresolved, past target"),
        ]
        return Table("response", "Time to first contact and to resolve, against the targets", columns, rows,
                     chart=Chart("bar", "urgency", ["contact_on_time_rate", "resolve_on_time_rate"],
                                 axis="On time (%)"),
                     note="Each callback is measured against the targets in force when it was logged; the target "
                          "columns show today's.")

    def recovery_steps(self):
        results = self.facts["steps"][0]
        rows = [
            {
                "step": step.label,
                "expected": results[f"expected_{index}"],
                "skipped": results[f"skipped_{index}"],
                "skip_rate": rate(results[f"skipped_{index}"], results[f"expected_{index}"]),
            }
            for index, step in enumerate(STEPS)
        ]
        rows.sort(key=lambda row: (-row["skipped"], -(row["skip_rate"] or 0)))
        columns = [
            Column("step", "Recovery step", "text"),
            Column("expected", "Callbacks past the step"),
            Column("skipped", "Skipped"),
            Column("skip_rate", "Skipped (%)", "percent"),
        ]
        return Table("recovery_steps", "Recovery steps skipped most often", columns, rows,
                     chart=Chart("bar", "step", ["skipped"], axis="Callbacks"),
                     note="A step is skipped when the callback moved past the state it belongs to without it.")

    def cost(self):
        labels = {**dict(RootCause.choices), "": NOT_YET_FOUND}
        keys = ("callbacks", "labour_hours", "parts_cost", "no_charge_visits")
        rows = [{**{key: row[key] for key in keys}, "cause": labels.get(row["k_text"], row["k_text"])}
                for row in self._by_cause("cost")]
        if rows:
            rows.append({
                "cause": "All callbacks",
                **{key: sum(row[key] or 0 for row in rows) for key in
                   ("callbacks", "labour_hours", "parts_cost", "no_charge_visits")},
            })
        columns = [
            Column("cause", "Root cause", "text"),
            Column("callbacks", "Callbacks"),
            Column("labour_hours", "Labour (hours)", "hours"),
            Column("parts_cost", "Parts", "money"),
            Column("no_charge_visits", "No-charge revisits"),
        ]
        return Table("cost", "Cost of callbacks", columns, rows,
                     note="Labour and parts as recorded when each callback was resolved.")

    def open_by_age(self):
        now = self.now
        counts = {}
        for index, (_label, low, high) in enumerate(OPEN_AGE_BUCKETS):
            condition = Q(logged_at__lte=now - low)
            if high is not None:
                condition &= Q(logged_at__gt=now - high)
            counts[f"bucket_{index}"] = Count("pk", filter=condition)
        open_callbacks = self.scope.filter_callbacks(Callback.objects.counted().open())
        results = open_callbacks.aggregate(
            overdue=Count("pk", filter=Q(due_at__lt=now)), oldest=Min("logged_at"), **counts
        )
        rows = [
            {"age": label, "n": results[f"bucket_{index}"]}
            for index, (label, _low, _high) in enumerate(OPEN_AGE_BUCKETS)
        ]
        columns = [Column("age", "Open for", "text"), Column("n", "Open callbacks")]
        table = Table("open_by_age", "Open callbacks by age", columns, rows,
                      chart=Chart("bar", "age", ["n"], axis="Callbacks"),
                      note="Every callback open now on jobs matching the filters, whatever the date range.")
        table.extra = {"overdue": results["overdue"], "oldest": results["oldest"]}
        return table

    def fixes(self):
        results = sorted(self.facts["fixer"], key=lambda row: -row["fixed"])
        names = people([row["k_tech"] for row in results])
        rows = sorted(
            ({"name": names[row["k_tech"]], "fixed": row["fixed"], "closed": row["closed"]} for row in results),
            key=lambda row: (-row["fixed"], row["name"]),
        )
        columns = [
            Column("name", "Technician", "text"),
            Column("fixed", "Callbacks fixed"),
            Column("closed", "Confirmed fixed by the customer"),
        ]
        return Table("fixes", "Callbacks fixed (credited to the revisit's technician)", columns, rows,
                     note="Credit for fixing is kept apart from the callback rate, which is charged to the original "
                          "job's technicians.")

    def paused(self):
        """Time on hold per reason (callbacks/recalls: pauses) of the holds started in the range on callbacks
        matching the filters; a hold still on counts up to now. One query."""
        now = self.now
        scope = self.scope
        pauses = CallbackPause.objects.filter(started_at__gte=scope.start, started_at__lt=scope.end)
        if scope.technician is not None or scope.kind or scope.site_type:
            pauses = pauses.filter(callback__in=scope.filter_callbacks(Callback.objects.all()))
        held = ExpressionWrapper(Coalesce("ended_at", Value(now)) - F("started_at"), output_field=DurationField())
        results = {row["reason"]: row for row in pauses.order_by().values("reason").annotate(
            holds=Count("pk"), on_hold=Count("pk", filter=Q(ended_at=None)), total=Sum(held))}
        rows = [{"reason": label, "holds": results.get(value, {}).get("holds", 0),
                 "on_hold": results.get(value, {}).get("on_hold", 0), "total": results.get(value, {}).get("total")}
                for value, label in CallbackPause.Reason.choices]
        columns = [Column("reason", "On hold", "text"), Column("holds", "Holds"),
                   Column("on_hold", "Still on hold"), Column("total", "Time on hold", "duration")]
        return Table("paused", "Time on hold, per reason", columns, rows,
                     note="Holds started in the date range; their clocks were stopped meanwhile.")
