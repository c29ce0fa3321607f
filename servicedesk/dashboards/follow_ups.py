"""The follow-up dashboard: are the post-visit calls made, do they reach the customer, and what do they find (seed 002)?

Everything is about the calls that fell due in the range (by `due_at`), with the job filters applied through the
call's job: technician (lead or helper of the visit), job kind, site type. Per CSR is who made the attempts.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from callbacks.models import CallAttempt, FollowUpCall, Referral

from .tables import Chart, Column, Panels, Table, person, rate

State, Outcome = FollowUpCall.State, FollowUpCall.Outcome
MADE = Q(attempts__gt=0)
REACHED = Q(outcome=Outcome.REACHED)


class FollowUpDashboard(Panels):
    TABLES = ("summary", "weekly", "satisfaction", "found", "per_csr")

    def __init__(self, scope):
        self.scope = scope

    def calls(self):
        calls = FollowUpCall.objects.filter(due_at__gte=self.scope.start, due_at__lt=self.scope.end)
        return self.scope.filter_jobs(calls, prefix="job__")

    def summary(self):
        figures = self.calls().aggregate(
            due=Count("pk", filter=~Q(state=State.CANCELLED)),
            made=Count("pk", filter=MADE),
            reached=Count("pk", filter=REACHED),
            gave_up=Count("pk", filter=Q(state=State.GAVE_UP)),
            still_due=Count("pk", filter=Q(state__in=FollowUpCall.OPEN_STATES)),
            cancelled=Count("pk", filter=Q(state=State.CANCELLED)),
            satisfaction=Avg("satisfaction", filter=REACHED),
        )
        rows = [
            {"figure": "Calls due (not cancelled)", "n": figures["due"], "share": None},
            {"figure": "Calls made (at least one attempt)", "n": figures["made"],
             "share": rate(figures["made"], figures["due"])},
            {"figure": "Customers reached", "n": figures["reached"],
             "share": rate(figures["reached"], figures["made"])},
            {"figure": "Given up after the last attempt", "n": figures["gave_up"],
             "share": rate(figures["gave_up"], figures["made"])},
            {"figure": "Still to call", "n": figures["still_due"], "share": rate(figures["still_due"], figures["due"])},
            {"figure": "Cancelled (opted out, do-not-service, an open callback)", "n": figures["cancelled"],
             "share": None},
        ]
        columns = [Column("figure", "Calls", "text"), Column("n", "Number"), Column("share", "Rate", "percent")]
        table = Table("summary", "Calls due and made", columns, rows,
                      chart=Chart("bar", "figure", ["n"], axis="Calls"),
                      note="Calls made is the share of calls due; customers reached and given up are shares of the "
                           "calls made (the reach rate).")
        table.extra = {"reach_rate": rate(figures["reached"], figures["made"]),
                       "made_rate": rate(figures["made"], figures["due"]),
                       "satisfaction": figures["satisfaction"]}
        return table

    def weekly(self):
        results = {
            row["week"].date() if hasattr(row["week"], "date") else row["week"]: row
            for row in self.calls()
            .exclude(state=State.CANCELLED)
            .annotate(week=TruncWeek("due_at", tzinfo=timezone.get_current_timezone()))
            .values("week")
            .annotate(due=Count("pk"), made=Count("pk", filter=MADE), reached=Count("pk", filter=REACHED),
                      satisfaction=Avg("satisfaction", filter=REACHED))
            .order_by("week")
        }
        rows = []
        week = self.scope.first_day - timedelta(days=self.scope.first_day.weekday())
        while week <= self.scope.last_day:
            row = results.get(week, {})
            due, made, reached = row.get("due", 0), row.get("made", 0), row.get("reached", 0)
            rows.append({"week": week, "due": due, "made": made, "reach_rate": rate(reached, made),
                         "satisfaction": _one_decimal(row.get("satisfaction"))})
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
        counts = dict(
            self.calls().filter(REACHED, satisfaction__isnull=False)
            .values_list("satisfaction").annotate(n=Count("pk")).order_by()
        )
        total = sum(counts.values())
        rows = [{"score": f"{score} of 5", "n": counts.get(score, 0), "share": rate(counts.get(score, 0), total)}
                for score in range(5, 0, -1)]
        columns = [Column("score", "Satisfaction", "text"), Column("n", "Customers"),
                   Column("share", "Share", "percent")]
        return Table("satisfaction", "How satisfied the customers reached were", columns, rows,
                     chart=Chart("bar", "score", ["n"], axis="Customers"))

    def found(self):
        calls = self.calls()
        figures = calls.aggregate(
            reached=Count("pk", filter=REACHED),
            issues=Count("pk", filter=REACHED & ~Q(issues="")),
            callbacks=Count("pk", filter=Q(callback__isnull=False)),
            leads=Count("pk", filter=Q(lead__isnull=False)),
            reviews=Count("pk", filter=Q(review_requested_at__isnull=False)),
            would_refer=Count("pk", filter=Q(would_refer=True)),
        )
        referrals = Referral.objects.filter(call__in=calls).count()
        rows = [
            {"what": "Issues mentioned since the visit", "n": figures["issues"]},
            {"what": "Problems turned into callbacks", "n": figures["callbacks"]},
            {"what": "Interest in more work, passed on as leads", "n": figures["leads"]},
            {"what": "Customers who would refer us", "n": figures["would_refer"]},
            {"what": "Referrals recorded (new customers)", "n": referrals},
            {"what": "Reviews asked (satisfied customers only)", "n": figures["reviews"]},
        ]
        for row in rows:
            row["share"] = rate(row["n"], figures["reached"])
        columns = [Column("what", "Found on the calls", "text"), Column("n", "Number"),
                   Column("share", "Per 100 customers reached", "percent")]
        return Table("found", "What the calls found", columns, rows,
                     chart=Chart("bar", "what", ["n"], axis="Calls"))

    def per_csr(self):
        attempts = (
            CallAttempt.objects.filter(call__in=self.calls())
            .values("by")
            .annotate(attempts=Count("pk"), calls=Count("call", distinct=True),
                      reached=Count("pk", filter=Q(outcome=Outcome.REACHED)))
            .order_by("-attempts")
        )
        completed = {
            row["completed_by"]: row
            for row in self.calls().filter(completed_by__isnull=False).values("completed_by").annotate(
                satisfaction=Avg("satisfaction", filter=REACHED), reviews=Count("pk", filter=Q(
                    review_requested_at__isnull=False)), callbacks=Count("pk", filter=Q(callback__isnull=False)),
            ).order_by()
        }
        attempts = list(attempts)
        people = {
            user["pk"]: person(user["first_name"], user["last_name"], user["username"])
            for user in get_user_model().objects.filter(pk__in=[row["by"] for row in attempts]).values(
                "pk", "first_name", "last_name", "username")
        }
        rows = []
        for row in attempts:
            done = completed.get(row["by"], {})
            rows.append({
                "csr": people.get(row["by"], "(nobody)"),
                "calls": row["calls"],
                "attempts": row["attempts"],
                "reach_rate": rate(row["reached"], row["attempts"]),
                "satisfaction": _one_decimal(done.get("satisfaction")),
                "callbacks": done.get("callbacks", 0),
                "reviews": done.get("reviews", 0),
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


def _one_decimal(value):
    return None if value is None else round(float(value), 1)
