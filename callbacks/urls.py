from django.urls import path

from . import triage_views, views
from .follow_ups import urls as follow_ups
from .recalls import claim_views
from .recalls import views as recalls

app_name = "callbacks"

urlpatterns = [
    path("callbacks/", views.callback_list, name="list"),
    path("callbacks/mine/", views.my_callbacks, name="mine"),
    path("callbacks/export.csv", views.callback_export, name="export"),
    path("callbacks/new/", views.callback_new, name="new"),
    path("callbacks/new/repeat-check/", views.repeat_check, name="repeat_check"),
    path("callbacks/targets/", views.urgency_targets, name="targets"),
    path("callbacks/recall-windows/", recalls.recall_windows_page, name="recall_windows"),
    path("callbacks/claims/", claim_views.claim_list, name="claims"),
    path("callbacks/claims/<int:pk>/", claim_views.claim_detail, name="claim"),
    path("callbacks/triage/", triage_views.triage, name="triage"),
    path("callbacks/triage/owner/", triage_views.triage_owner, name="triage_owner"),
    path("callbacks/<int:pk>/", views.callback_detail, name="detail"),
    path("callbacks/<int:pk>/take/", triage_views.callback_take, name="take"),
    path("callbacks/<int:pk>/acknowledge/", views.callback_acknowledge, name="acknowledge"),
    path("callbacks/<int:pk>/revisit/", views.callback_schedule_revisit, name="schedule_revisit"),
    path("callbacks/<int:pk>/resolve/", views.callback_resolve, name="resolve"),
    path("callbacks/<int:pk>/close/", views.callback_close, name="close"),
    path("callbacks/<int:pk>/reopen/", views.callback_reopen, name="reopen"),
    path("callbacks/<int:pk>/hand-off/", views.callback_hand_off, name="hand_off"),
    path("callbacks/<int:pk>/contact/", views.callback_record_contact, name="contact"),
    path("callbacks/<int:pk>/step/", views.callback_check_step, name="step"),
    path("callbacks/<int:pk>/classify/", recalls.classify, name="classify"),
    path("callbacks/<int:pk>/hold/", recalls.pause, name="pause"),
    path("callbacks/<int:pk>/off-hold/", recalls.resume, name="resume"),
    path("callbacks/<int:pk>/training/<int:item_pk>/done/", views.training_item_done, name="training_done"),
    # Follow-up calls: their own room, their patterns spliced in flat, in this namespace ("callbacks:calls",
    # "callbacks:call", ...), as before they moved.
    *follow_ups.urlpatterns,
]
