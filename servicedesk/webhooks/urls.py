from django.urls import path

from . import views

app_name = "webhooks"

# Under an integration's page: /integrations/<integration>/webhooks/...
urlpatterns = [
    path("new/", views.subscription_add, name="add"),
    path("<int:pk>/", views.subscription_detail, name="detail"),
    path("<int:pk>/edit/", views.subscription_edit, name="edit"),
    path("<int:pk>/test/", views.subscription_test, name="test"),
    path("<int:pk>/enable/", views.subscription_enable, name="enable"),
    path("<int:pk>/disable/", views.subscription_disable, name="disable"),
    path("<int:pk>/rotate/", views.subscription_rotate, name="rotate"),
    path("<int:pk>/replay/", views.replay_since, name="replay_since"),
    path("<int:pk>/deliveries/<int:delivery_pk>/replay/", views.delivery_replay, name="replay"),
]
