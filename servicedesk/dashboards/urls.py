from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("callbacks/", views.callback_dashboard, name="callbacks"),
    path("recommendations/", views.recommendation_dashboard, name="recommendations"),
    path("follow-ups/", views.follow_up_dashboard, name="follow_ups"),
    path("warranty-claims/", views.claim_dashboard, name="claims"),
    path("technicians/", views.technician_list, name="technicians"),
    path("technicians/<int:user_id>/", views.technician_scorecard, name="scorecard"),
]
