"""The follow-up call queue, the call screen and the rules; callbacks/urls.py splices these patterns into its own,
so the names stay in the "callbacks" namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_queue, name="calls"),
    path("calls/next/", views.call_next, name="call_next"),
    path("calls/rules/", views.follow_up_rules, name="call_rules"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/claim/", views.call_claim, name="call_claim"),
    path("calls/<int:pk>/release/", views.call_release, name="call_release"),
    path("calls/<int:pk>/attempt/", views.call_record_attempt, name="call_attempt"),
    path("calls/<int:pk>/callback/", views.call_log_callback, name="call_callback"),
    path("calls/<int:pk>/lead/", views.call_raise_lead, name="call_lead"),
    path("calls/<int:pk>/referral/", views.call_record_referral, name="call_referral"),
]
