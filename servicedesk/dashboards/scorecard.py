"""One technician's scorecard, and the team list managers open it from.

The callback rate is charged to the technicians of the original job (see callbacks.py); fixing a callback on
its revisit is credited separately and never offsets the rate.
"""

from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Callback, TrainingItem
from recommendations.models import Discussion, Recommendation

from .callbacks import CallbackDashboard
from .filters import Scope, technicians
from .tables import Chart, Column, Panels, Table, person, rate

State = Recommendation.State
FIXED = [Callback.State.RESOLVED, Callback.State.CLOSED]


def _fixed_by(queryset, user, scope):
    """Callbacks resolved in the range on a revisit the user led."""
    return queryset.filter(state__in=FIXED, revisit_job__lead_technician=user, resolved_at__gte=scope.start,
                           resolved_at__lt=scope.end)


def _discussed_later():
    """Raised with the customer on a visit after the one that raised it (an excuse is not a discussion)."""
    return Exists(
        Discussion.objects.filter(recommendation=OuterRef("pk"), job__isnull=False)
        .exclude(response=Discussion.Response.NOT_DISCUSSED)
        # NULL would make "<> raised_on_job" unknown and drop every row; no job has id 0.
        .exclude(job=Coalesce(OuterRef("raised_on_job"), Value(0)))
    )


class Scorecard(Panels):
    TABLES = ("callback_rate", "root_causes", "training", "recommendations")

    def __init__(self, technician, start, end, today=None):
        self.technician = technician
        # The team's figures and the technician's from one pass over the team's callbacks.
        self.team = CallbackDashboard(Scope(start=start, end=end), groupings=("total", "cause"),
                                      technician=technician)
        self.mine = self.team.technician_dashboard()
        self.scope = self.mine.scope
        self.today = today or timezone.localdate()

    def callback_rate(self):
        mine, team = self.mine.totals, self.team.totals
        fixed = _fixed_by(Callback.objects.counted(), self.technician, self.scope).count()
        rows = [
            {"who": person(self.technician.first_name, self.technician.last_name, self.technician.username),
             "jobs": mine["jobs"], "came_back": mine["came_back"], "rate": mine["rate"],
             "repeats": mine["second_on_job"], "fixed": fixed},
            {"who": "Team", "jobs": team["jobs"], "came_back": team["came_back"], "rate": team["rate"],
             "repeats": team["second_on_job"], "fixed": None},
        ]
        columns = [
            Column("who", "Who", "text"),
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
            Column("repeats", "Second callbacks on a job"),
            Column("fixed", "Callbacks fixed on a revisit"),
        ]
        return Table("callback_rate", "Callback rate against the team", columns, rows,
                     chart=Chart("bar", "who", ["rate"], axis="Callback rate (%)"),
                     note="Jobs this technician led or helped on. Callbacks fixed are credited separately.")

    def root_causes(self):
        table = self.mine.root_causes()
        table.title = "Root causes of their callbacks"
        return table

    def training(self):
        figures = TrainingItem.objects.filter(technician=self.technician).aggregate(
            open=Count("pk", filter=Q(done_on__isnull=True)),
            overdue=Count("pk", filter=Q(done_on__isnull=True, due_on__lt=self.today)),
            done=Count("pk", filter=Q(done_on__isnull=False)),
            done_in_range=Count("pk", filter=Q(done_on__gte=self.scope.first_day, done_on__lte=self.scope.last_day)),
        )
        rows = [
            {"what": "Open", "n": figures["open"]},
            {"what": "Open and past their date", "n": figures["overdue"]},
            {"what": "Done (all time)", "n": figures["done"]},
            {"what": "Done in the range", "n": figures["done_in_range"]},
        ]
        return Table("training", "Training items", [Column("what", "Training items", "text"), Column("n", "Count")],
                     rows)

    @cached_property
    def open_training(self):
        return list(
            TrainingItem.objects.filter(technician=self.technician, done_on__isnull=True)
            .select_related("callback", "callback__customer")
            .order_by("due_on", "pk")[:20]
        )

    def recommendations(self):
        raised = Recommendation.objects.filter(
            raised_by=self.technician, created_at__gte=self.scope.start, created_at__lt=self.scope.end
        ).exclude(state=State.WITHDRAWN)
        figures = raised.aggregate(
            raised=Count("pk"),
            discussed_later=Count("pk", filter=_discussed_later()),
            accepted=Count("pk", filter=Q(state=State.ACCEPTED)),
            failed=Count("pk", filter=Q(state=State.FAILED_WHILE_OPEN)),
        )
        visits = Discussion.objects.filter(
            technician=self.technician, job__isnull=False,
            discussed_at__gte=self.scope.start, discussed_at__lt=self.scope.end,
        ).aggregate(
            discussed=Count("pk", filter=~Q(response=Discussion.Response.NOT_DISCUSSED)),
            not_discussed=Count("pk", filter=Q(response=Discussion.Response.NOT_DISCUSSED)),
        )
        rows = [
            {"what": "Raised", "n": figures["raised"], "share": None},
            {"what": "Discussed again on a later visit", "n": figures["discussed_later"],
             "share": rate(figures["discussed_later"], figures["raised"])},
            {"what": "Converted (accepted)", "n": figures["accepted"],
             "share": rate(figures["accepted"], figures["raised"])},
            {"what": "Failed while open", "n": figures["failed"], "share": rate(figures["failed"], figures["raised"])},
            {"what": "Open recommendations they raised with customers on their visits", "n": visits["discussed"],
             "share": None},
            {"what": "… and marked “not discussed” (with a reason)", "n": visits["not_discussed"], "share": None},
        ]
        columns = [Column("what", "Recommendations", "text"), Column("n", "Count"),
                   Column("share", "Share of raised", "percent")]
        return Table("recommendations", "Recommendations", columns, rows,
                     note="Raised in the range (withdrawn ones left out); discussions held on their visits in the "
                          "range.")


class TeamList(Panels):
    """Every technician with their figures for the range; one row per technician, a handful of queries in all."""

    TABLES = ("team",)

    def __init__(self, start, end):
        self.scope = Scope(start=start, end=end)
        self.callbacks = CallbackDashboard(self.scope, groupings=("total", "week", "helper"))

    def team(self):
        rows = {
            user["pk"]: {
                "name": person(user["first_name"], user["last_name"], user["username"]),
                "name_url": reverse("dashboards:scorecard", args=[user["pk"]]),
                "jobs": 0, "came_back": 0, "rate": None, "fixed": 0, "training_open": 0, "raised": 0, "accepted": 0,
            }
            for user in technicians().values("pk", "first_name", "last_name", "username")
        }
        for row in self.callbacks.technicians().rows:
            if row["user_id"] in rows:
                rows[row["user_id"]].update(jobs=row["jobs"], came_back=row["came_back"], rate=row["rate"])
        scope = self.scope
        fixed = (
            Callback.objects.counted()
            .filter(state__in=FIXED, resolved_at__gte=scope.start, resolved_at__lt=scope.end)
            .values("revisit_job__lead_technician")
            .annotate(n=Count("pk"))
        )
        for result in fixed:
            if result["revisit_job__lead_technician"] in rows:
                rows[result["revisit_job__lead_technician"]]["fixed"] = result["n"]
        training = TrainingItem.objects.filter(done_on__isnull=True).values("technician").annotate(n=Count("pk"))
        for result in training:
            if result["technician"] in rows:
                rows[result["technician"]]["training_open"] = result["n"]
        raised = (
            Recommendation.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end)
            .exclude(state=State.WITHDRAWN)
            .values("raised_by")
            # Not COUNT(id): the raised-at covering index has no id, and reading it would mean visiting the table.
            .annotate(n=Count("*"), accepted=Count("state", filter=Q(state=State.ACCEPTED)))
        )
        for result in raised:
            if result["raised_by"] in rows:
                rows[result["raised_by"]].update(raised=result["n"], accepted=result["accepted"])
        for row in rows.values():
            row["conversion"] = rate(row["accepted"], row["raised"])
        columns = [
            Column("name", "Technician", "text"),
            Column("jobs", "Completed jobs"),
            Column("came_back", "Jobs that came back"),
            Column("rate", "Callback rate", "percent"),
            Column("fixed", "Callbacks fixed"),
            Column("training_open", "Training items open"),
            Column("raised", "Recommendations raised"),
            Column("conversion", "Converted", "percent"),
        ]
        return Table("team", "Technicians", columns, list(rows.values()),
                     note=f"Team callback rate: {_percent(self.callbacks.totals['rate'])}.")


def _percent(value):
    return "—" if value is None else f"{value:.1f}%"
