"""Manager dashboards and the technician scorecard. Each table of a page exports as CSV with
`?format=csv&table=<slug>` (plus the page's own filters), which computes that one table only.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from servicedesk import roles

from .callbacks import CallbackDashboard
from .claims import ClaimDashboard
from .filters import DashboardFilterForm, RangeForm, technicians
from .follow_ups import FollowUpDashboard
from .recommendations import RecommendationDashboard
from .scorecard import Scorecard, TeamList


def _export_query(request):
    query = request.GET.copy()
    for key in ("format", "table"):
        query.pop(key, None)
    return query.urlencode()


def _page(request, template, *, dashboard, prefix, context):
    if request.GET.get("format") == "csv":
        table = dashboard.table(request.GET.get("table", ""))
        if table is None:
            raise Http404("No such table.")
        return table.csv_response(prefix)
    return render(request, template, {
        **context,
        "dashboard": dashboard,
        "tables": {table.slug: table for table in dashboard.tables()},
        "export_query": _export_query(request),
    })


def _filtered(request, template, dashboard_class, *, name, title):
    """A dashboard over the shared date range and filters (technician, job kind, site type)."""
    form = DashboardFilterForm(request.GET)
    scope = form.scope()
    return _page(request, template, dashboard=dashboard_class(scope),
                 prefix=f"{name}-{scope.first_day}-{scope.last_day}",
                 context={"form": form, "scope": scope, "title": title})


@roles.role_required(roles.MANAGER)
def callback_dashboard(request):
    return _filtered(request, "dashboards/callbacks.html", CallbackDashboard, name="callbacks",
                     title="Callback dashboard")


@roles.role_required(roles.MANAGER)
def recommendation_dashboard(request):
    return _filtered(request, "dashboards/recommendations.html", RecommendationDashboard, name="recommendations",
                     title="Recommendation dashboard")


@roles.role_required(roles.MANAGER)
def follow_up_dashboard(request):
    return _filtered(request, "dashboards/follow_ups.html", FollowUpDashboard, name="follow-ups",
                     title="Follow-up dashboard")


@roles.role_required(roles.MANAGER)
def claim_dashboard(request):
    return _page(request, "dashboards/claims.html", dashboard=ClaimDashboard(), prefix="warranty-claims",
                 context={"title": "Warranty claims"})


@roles.role_required(roles.MANAGER)
def technician_list(request):
    form = RangeForm(request.GET)
    start, end = form.period()
    dashboard = TeamList(start, end)
    return _page(request, "dashboards/technician_list.html", dashboard=dashboard,
                 prefix=f"technicians-{dashboard.scope.first_day}-{dashboard.scope.last_day}",
                 context={"form": form, "scope": dashboard.scope, "title": "Technician scorecards"})


@roles.role_required(roles.MANAGER, roles.TECHNICIAN)
def technician_scorecard(request, user_id):
    """Managers see every technician's scorecard; a technician only their own (another's is not found)."""
    if not roles.has_role(request.user, roles.MANAGER) and request.user.pk != user_id:
        raise Http404("No such technician.")
    if request.user.pk == user_id and not roles.has_role(request.user, roles.MANAGER):
        technician = request.user
    else:
        technician = get_object_or_404(technicians(), pk=user_id)
    form = RangeForm(request.GET)
    start, end = form.period()
    scorecard = Scorecard(technician, start, end)
    name = technician.get_full_name() or technician.username
    return _page(request, "dashboards/scorecard.html", dashboard=scorecard,
                 prefix=f"scorecard-{technician.username}-{scorecard.scope.first_day}-{scorecard.scope.last_day}",
                 context={"form": form, "scope": scorecard.scope, "technician": technician,
                          "title": f"Scorecard: {name}", "is_own": request.user.pk == user_id})
