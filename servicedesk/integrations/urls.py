from django.urls import path

from . import views
from .intake import views as intake

app_name = "integrations"

urlpatterns = [
    path("", views.integration_list, name="list"),
    path("<int:pk>/", views.integration_detail, name="detail"),
    path("<int:pk>/tokens/", views.token_issue, name="token_issue"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("<int:pk>/webhook-secret/", intake.webhook_secret_set, name="webhook_secret"),
    path("<int:pk>/events/retry/", intake.events_retry_all, name="events_retry"),
    path("<int:pk>/events/<int:event_pk>/retry/", intake.event_retry, name="event_retry"),
]
