from django.urls import path

from . import views

app_name = "recommendations"

urlpatterns = [
    path("jobs/<int:pk>/briefing/", views.briefing, name="briefing"),
    path("jobs/<int:pk>/complete/", views.complete_job, name="complete_job"),
    path("jobs/<int:job_pk>/recommendations/new/", views.raise_recommendation, name="raise"),
    path("jobs/<int:job_pk>/recommendations/<int:pk>/discuss/", views.discuss, name="discuss"),
    path("recommendations/", views.recommendation_list, name="list"),
    path("recommendations/mine/", views.my_follow_ups, name="mine"),
    path("recommendations/follow-up-intervals/", views.follow_up_intervals, name="intervals"),
    path("recommendations/<int:pk>/", views.detail, name="detail"),
    path("recommendations/<int:pk>/photo/", views.photo, name="photo"),
    path("recommendations/<int:pk>/<slug:name>/", views.action, name="action"),
]
