from django.urls import path

from . import hooks

app_name = "texting_hooks"
urlpatterns = [
    path("twilio/", hooks.incoming, name="inbound"),
    path("twilio/status/", hooks.status, name="status"),
]
