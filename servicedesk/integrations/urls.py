from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.integration_list, name="list"),
    path("<int:pk>/", views.integration_detail, name="detail"),
    path("<int:pk>/tokens/", views.token_issue, name="token_issue"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", views.token_revoke, name="token_revoke"),
]
