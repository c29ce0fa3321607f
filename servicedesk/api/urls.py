"""/api/v1/: every API view is exempt from the login redirect (LoginRequiredMiddleware): a request without a valid
token or a manager's session gets 401 or 403 from the API itself, as a client expects."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

app_name = "api"


def _api(view):
    return login_not_required(view)


urlpatterns = [
    path("v1/", _api(views.ApiRoot.as_view()), name="root"),
]
