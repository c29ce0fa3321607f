"""The recommendation dashboard: is every warning raised again and followed up until it is answered (seeds 001, 004)?

Recommendations raised in the range make the funnel and the conversions; what is open now (its age, the ones never
discussed on later visits, the stale leads) is shown whatever the range, with the other filters applied. The
technician filter means the technician who raised the recommendation.
"""

from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from customers.models import Job
from recommendations.models import AGE_BUCKETS, Discussion, LaterVisitsCount, Recommendation, Risk

from .tables import Chart, Column, Panels, Table, people, person, rate

State = Recommendation.State
USER = ("first_name", "last_name", "username")
_STATE_COUNTS = dict.fromkeys(State.values, 0)


class RecommendationDashboard(Panels):
    TABLES = ("funnel", "by_risk", "by_technician", "age_of_open", "never_discussed", "failures", "failure_list",
              "stale_leads")
    CSV_OPTIONS = {"failure_list": {"complete": True}}
    # Each failure is a row with two counting subqueries and a year can hold thousands: the page shows the newest.
    FAILURES_SHOWN = 50

    def __init__(self, scope, today=None):
        self.scope = scope
        self.today = today or timezone.localdate()

    def _filtered(self, queryset):
        scope = self.scope
        if scope.technician is not None:
            queryset = queryset.filter(raised_by=scope.technician)
        if scope.kind:
            queryset = queryset.filter(raised_on_job__kind=scope.kind)
        if scope.site_type:
            queryset = queryset.filter(site__site_type=scope.site_type)
        return queryset

    def raised(self):
        """Raised in the range; withdrawn ones were mistakes and are left out, as in the conversion reports."""
        return self._filtered(
            Recommendation.objects.filter(created_at__gte=self.scope.start, created_at__lt=self.scope.end)
        ).exclude(state=State.WITHDRAWN)

    @cached_property
    def _raised_groups(self):
        """What the funnel and both conversion tables add up, in one query: per risk × technician × state, the
        count and the quoted prices (~100,000 rows a year grouped into a few hundred, from one index)."""
        return list(
            self.raised().order_by()
            .values("risk", "state", "raised_by")
            # COUNT(*), not COUNT(id): the covering index has no id, and reading it would mean visiting the table.
            .annotate(n=Count("*"), value_low=Sum("price_low"), value_high=Sum("price_high"))
        )

    @cached_property
    def _outstanding_groups(self):
        """What the age and stale-lead tables add up: the outstanding ones per owner, age bucket, overdue and
        passed to sales, in one pass (Recommendation.objects.outstanding_by_owner)."""
        return list(self._filtered(Recommendation.objects.all()).outstanding_by_owner(today=self.today))

    @cached_property
    def _names(self):
        """Everyone the tables name, in one query."""
        return people({group["raised_by"] for group in self._raised_groups}
                      | {group["owner"] for group in self._outstanding_groups})

    def _totals(self, key):
        """The groups added up per `key` (a function of a group; None for one total) into conversion figures."""
        totals = {}
        for group in self._raised_groups:
            # One count per state (so "accepted" is State.ACCEPTED's), plus the raised total and the accepted value.
            figures = totals.setdefault(key(group), {"raised": 0, "value_low": None, "value_high": None,
                                                     **_STATE_COUNTS})
            figures["raised"] += group["n"]
            figures[group["state"]] += group["n"]
            if group["state"] == State.ACCEPTED:
                for value in ("value_low", "value_high"):
                    if group[value] is not None:
                        figures[value] = (figures[value] or 0) + group[value]
        for figures in totals.values():
            figures["failed"] = figures[State.FAILED_WHILE_OPEN]
        return totals

    def funnel(self):
        figures = self._totals(lambda group: None).get(None) or {
            "raised": 0, "value_low": None, "value_high": None, **_STATE_COUNTS
        }
        figures["open"] = sum(figures[state] for state in Recommendation.OUTSTANDING_STATES)
        rows = [
            {"stage": label, "n": figures[key], "share": rate(figures[key], figures["raised"])}
            for key, label in (
                ("raised", "Raised"),
                ("open", "Still open (incl. deferred)"),
                (State.ACCEPTED, "Accepted"),
                (State.DECLINED, "Declined"),
                (State.FAILED_WHILE_OPEN, "Failed while open"),
                (State.DONE_BY_OTHERS, "Done by someone else"),
            )
        ]
        columns = [Column("stage", "Stage", "text"), Column("n", "Recommendations"),
                   Column("share", "Share of raised", "percent")]
        table = Table("funnel", "Recommendations raised in the range, by outcome", columns, rows,
                      chart=Chart("bar", "stage", ["n"], axis="Recommendations"),
                      note="Value accepted is the sum of the quoted price ranges of the accepted recommendations.")
        table.extra = {"value_low": figures["value_low"], "value_high": figures["value_high"],
                       "accepted": figures["accepted"]}
        return table

    def _conversion_rows(self, results, label):
        return [
            {**row, "label": label(row), "conversion": rate(row["accepted"], row["raised"]),
             "failure_rate": rate(row["failed"], row["raised"])}
            for row in results
        ]

    def _conversion_columns(self, first):
        return [
            Column("label", first, "text"),
            Column("raised", "Raised"),
            Column("accepted", "Accepted"),
            Column("conversion", "Conversion", "percent"),
            Column("failed", "Failed while open"),
            Column("failure_rate", "Failed while open (%)", "percent"),
            Column("value_low", "Value accepted (low)", "money"),
            Column("value_high", "Value accepted (high)", "money"),
        ]

    @staticmethod
    def _conversion(key, figures):
        return {**key, **{name: figures[name] for name in ("raised", "accepted", "failed", "value_low",
                                                           "value_high")}}

    def by_risk(self):
        labels = dict(Risk.choices)
        order = {value: index for index, value in enumerate(Risk.values)}
        results = [self._conversion({"risk": risk}, figures)
                   for risk, figures in self._totals(lambda group: group["risk"]).items()]
        rows = self._conversion_rows(results, lambda row: labels[row["risk"]])
        rows.sort(key=lambda row: order[row["risk"]])
        return Table("by_risk", "Conversion by risk", self._conversion_columns("Risk"), rows,
                     chart=Chart("bar", "label", ["conversion", "failure_rate"], axis="Share of raised (%)"))

    def by_technician(self):
        results = [
            self._conversion({"raised_by": raised_by}, figures)
            for raised_by, figures in self._totals(lambda group: group["raised_by"]).items()
        ]
        rows = self._conversion_rows(results, lambda row: self._names.get(row["raised_by"], "(nobody)"))
        rows.sort(key=lambda row: (-row["raised"], row["label"]))
        return Table("by_technician", "Conversion by technician (raised by)", self._conversion_columns("Technician"),
                     rows, chart=Chart("bar", "label", ["conversion"], axis="Conversion (%)"))

    def age_of_open(self):
        counts = dict.fromkeys(range(len(AGE_BUCKETS)), 0)
        oldest = None
        for group in self._outstanding_groups:
            counts[group["age_bucket"]] += group["n"]
            oldest = group["oldest"] if oldest is None else min(oldest, group["oldest"])
        labels = {"under_30_days": "Under 30 days", "30_to_90_days": "30–90 days", "90_to_180_days": "90–180 days",
                  "over_180_days": "Over 180 days"}
        rows = [{"age": labels[name], "n": counts[index]} for index, (name, _) in enumerate(AGE_BUCKETS)]
        table = Table("age_of_open", "Age of open recommendations", [Column("age", "Open for", "text"),
                                                                     Column("n", "Recommendations")], rows,
                      chart=Chart("bar", "age", ["n"], axis="Recommendations"),
                      note="Open now (including deferred), whatever the date range.")
        table.extra = {"total": sum(counts.values()), "oldest": oldest}
        return table

    @cached_property
    def completed_elsewhere(self):
        """Visits completed in the range outside servicedesk (the dispatch system, by the API, a webhook or an
        import) while an open recommendation at the site was not discussed on them: the dispatch system cannot record
        that conversation, so each is a visit where seed 001's rule went unchecked. One query. The technician filter
        means the visit's lead technician here."""
        scope = self.scope
        undiscussed = (
            Recommendation.objects.filter(site=OuterRef("site"), created_at__lt=OuterRef("completed_at"))
            # Open when the visit was completed: open or deferred now, or closed only after it.
            .filter(Q(state__in=Recommendation.OUTSTANDING_STATES) | Q(state_changed_at__gt=OuterRef("completed_at")))
            .exclude(raised_on_job=OuterRef("pk"))
            .exclude(Exists(Discussion.objects.filter(recommendation=OuterRef("pk"), job=OuterRef(OuterRef("pk")))))
        )
        visits = Job.objects.filter(status=Job.Status.COMPLETED, completed_elsewhere=True,
                                    completed_at__gte=scope.start, completed_at__lt=scope.end)
        if scope.technician is not None:
            visits = visits.filter(lead_technician=scope.technician)
        if scope.kind:
            visits = visits.filter(kind=scope.kind)
        if scope.site_type:
            visits = visits.filter(site__site_type=scope.site_type)
        return visits.aggregate(
            visits=Count("pk", filter=Q(Exists(undiscussed))), all=Count("pk"))

    def never_discussed(self):
        counted_to = LaterVisitsCount.objects.values_list("counted_to", flat=True).first()
        counted, live = self._filtered(Recommendation.objects.all()).never_discussed_by_owner(counted_to=counted_to)
        owners = {row["owner"]: row for row in counted}
        # The sites visited since the sweep's count, a few recommendations: added in one by one.
        for row in live:
            owner = owners.setdefault(row["owner"], {**row, "n": 0, "most_visits": 0, "oldest": row["created_at"]})
            owner["n"] += 1
            owner["most_visits"] = max(owner["most_visits"], row["visits"])
            owner["oldest"] = min(owner["oldest"], row["created_at"])
        results = sorted(owners.values(), key=lambda row: (-row["n"], row["owner__first_name"]))
        rows = [
            {"owner": person(*(row[f"owner__{name}"] for name in USER)), "n": row["n"],
             "most_visits": row["most_visits"], "oldest": timezone.localtime(row["oldest"]).date()}
            for row in results
        ]
        columns = [
            Column("owner", "Owner", "text"),
            Column("n", "Open, visited since, never discussed"),
            Column("most_visits", "Most visits without a word"),
            Column("oldest", "Oldest raised on", "date"),
        ]
        return Table("never_discussed", "Visits since raised, never discussed", columns, rows,
                     chart=Chart("bar", "owner", ["n"], axis="Recommendations"),
                     note="Open recommendations whose site had completed visits after they were raised, and that were "
                          "not raised with the customer on any of them (seed 001).")

    def failures(self):
        results = (
            self._filtered(Recommendation.objects.failed_while_open())
            .filter(state_changed_at__gte=self.scope.start, state_changed_at__lt=self.scope.end)
            .values("risk")
            .annotate(n=Count("pk"), value_high=Sum("price_high"))
        )
        labels = dict(Risk.choices)
        order = {value: index for index, value in enumerate(Risk.values)}
        rows = sorted(
            ({"risk": labels[row["risk"]], "key": row["risk"], "n": row["n"], "value_high": row["value_high"]}
             for row in results),
            key=lambda row: order[row["key"]],
        )
        columns = [Column("risk", "Risk", "text"), Column("n", "Equipment failed while open"),
                   Column("value_high", "Work that was quoted (high)", "money")]
        return Table("failures", "Failures while open (in the range)", columns, rows,
                     chart=Chart("bar", "risk", ["n"], axis="Failures"),
                     note="The outcome to drive to zero: the equipment failed while the recommendation was waiting.")

    def failure_list(self, complete=False):
        """Each failure in the range, newest first, with the visits the warning had to be raised again before it
        (seed 001): the newest FAILURES_SHOWN on the page (counted only when there are more), all in the CSV."""
        limit = None if complete else self.FAILURES_SHOWN
        in_range = self._filtered(Recommendation.objects.failed_while_open()).filter(
            state_changed_at__gte=self.scope.start, state_changed_at__lt=self.scope.end
        )
        failures = list(
            in_range.select_related("equipment", "customer")
            .with_visits_until_failure()
            .order_by("-state_changed_at", "-pk")[: None if limit is None else limit + 1]
        )
        flags = []
        if limit is not None and len(failures) > limit:
            failures = failures[:limit]
            flags.append(f"The newest {limit} of {in_range.count():,} failures in the range; the CSV has them all.")
        labels = dict(Risk.choices)
        rows = [
            {"equipment": str(failure.equipment) if failure.equipment else "(no equipment named)",
             "equipment_url": failure.get_absolute_url(), "what": failure.what, "customer": failure.customer.name,
             "risk": labels[failure.risk], "raised": timezone.localtime(failure.created_at).date(),
             "failed": timezone.localtime(failure.state_changed_at).date(),
             "visits": failure.visits_since_raised, "discussed": failure.visits_discussed}
            for failure in failures
        ]
        columns = [
            Column("equipment", "Equipment", "text"),
            Column("what", "Recommendation", "text"),
            Column("customer", "Customer", "text"),
            Column("risk", "Risk", "text"),
            Column("raised", "Raised on", "date"),
            Column("failed", "Failed on", "date"),
            Column("visits", "Visits since raised"),
            Column("discussed", "Of them, discussed"),
        ]
        return Table("failure_list", "Each failure while open (in the range)", columns, rows, flags=flags,
                     note="Visits since raised: completed visits at the site after the one that raised it, up to the "
                          "failure. Discussed: those on which it was raised with the customer.")

    def stale_leads(self):
        owners = {}
        for group in self._outstanding_groups:
            if not group["overdue"]:
                continue
            row = owners.setdefault(group["owner"], {"owner": self._names.get(group["owner"], "(nobody)"), "n": 0,
                                                     "with_sales": 0, "oldest_due": group["oldest_due"]})
            row["n"] += group["n"]
            row["with_sales"] += group["n"] if group["with_sales"] else 0
            row["oldest_due"] = min(row["oldest_due"], group["oldest_due"])
        rows = sorted(owners.values(), key=lambda row: (-row["n"], row["owner"]))
        columns = [
            Column("owner", "Owner", "text"),
            Column("n", "Follow-ups overdue"),
            Column("with_sales", "Of them passed to sales"),
            Column("oldest_due", "Oldest due", "date"),
        ]
        return Table("stale_leads", "Stale leads by owner", columns, rows,
                     chart=Chart("bar", "owner", ["n"], axis="Overdue follow-ups"),
                     note="Open recommendations whose next follow-up date has passed, by the person who owes it.")
