from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("feedback/<str:token>/", views.feedback, name="feedback"),
    path("feedback/<str:token>/thanks/", views.feedback_thanks, name="feedback_thanks"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("jobs/<int:pk>/leave-behind/", views.leave_behind, name="leave_behind"),
]
