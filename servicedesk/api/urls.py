"""/api/v1/: every API view is exempt from the login redirect (LoginRequiredMiddleware): a request without a valid
token or a manager's session gets 401 or 403 from the API itself, as a client expects."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import views

app_name = "api"

_LIST = {"get": "list"}
_RECORD = {"get": "retrieve", "put": "update"}
_VIEWSETS = {
    "customers": ("customer", views.CustomerViewSet),
    "sites": ("site", views.SiteViewSet),
    "equipment": ("equipment_item", views.EquipmentViewSet),
    "jobs": ("job", views.JobViewSet),
}

urlpatterns = [path("v1/", login_not_required(views.ApiRoot.as_view()), name="root")]
for kind, (one, viewset) in _VIEWSETS.items():
    urlpatterns += [
        path(f"v1/{kind}/", login_not_required(viewset.as_view(_LIST)), name=kind),
        # Before the records' path, which "bulk" would otherwise match.
        path(f"v1/{kind}/bulk", login_not_required(viewset.as_view({"post": "bulk"})), name=f"{kind}_bulk"),
        path(f"v1/{kind}/<str:external_id>", login_not_required(viewset.as_view(_RECORD)), name=one),
    ]

urlpatterns += [
    path("v1/callbacks/", login_not_required(views.CallbackViewSet.as_view({"get": "list", "post": "create"})),
         name="callbacks"),
    path("v1/callbacks/<int:pk>", login_not_required(views.CallbackViewSet.as_view({"get": "retrieve"})),
         name="callback"),
    path("v1/recommendations/", login_not_required(views.RecommendationViewSet.as_view(_LIST)),
         name="recommendations"),
    path("v1/recommendations/<int:pk>", login_not_required(views.RecommendationViewSet.as_view({"get": "retrieve"})),
         name="recommendation"),
    path("v1/follow-up-calls/", login_not_required(views.FollowUpCallViewSet.as_view(_LIST)),
         name="follow_up_calls"),
    path("v1/follow-up-calls/<int:pk>", login_not_required(views.FollowUpCallViewSet.as_view({"get": "retrieve"})),
         name="follow_up_call"),
]

# The schema, for clients and the two readers; the readers themselves are pages for a manager who is logged in
# (an anonymous visitor is sent to log in, as on every page).
urlpatterns += [
    path("v1/schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    # DRF marks its views exempt from the login redirect; these two are pages, so they ask for it again.
    path("v1/docs/", login_required(SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/swagger_ui.html", title="servicedesk API",
    )), name="docs"),
    # Redoc's bundle writes <style> elements as it loads, before it can be handed a nonce: this page alone allows
    # inline styles. Never inline scripts: its script-src is the strict one (Swagger UI runs under the full policy).
    path("v1/redoc/", login_required(csp_update({"style-src": [UNSAFE_INLINE]})(
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html", title="servicedesk API")
    )), name="redoc"),
]
