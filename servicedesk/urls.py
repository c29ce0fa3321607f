"""The URL root: the roof, which routes to every app and every cross-app room."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health, lockouts, notifications
from .home import views as home
from .integrations.intake import views as intake

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz/", health.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", lockouts.ThrottledPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include("customers.urls")),
    path("", include("callbacks.urls")),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notification_mark_read, name="notifications_read"),
    path("notifications/<int:pk>/open/", notifications.notification_open, name="notification_open"),
    path("notifications/preferences/", notifications.preferences, name="notification_preferences"),
    path("", include("recommendations.urls")),
    path("", include("servicedesk.public.urls")),
    path("dashboards/", include("servicedesk.dashboards.urls")),
    path("api/", include("servicedesk.api.urls")),
    path("integrations/", include("servicedesk.integrations.urls")),
    path("hooks/<int:pk>/", intake.hook, name="webhook_intake"),
    path("integrations/<int:integration_pk>/webhooks/", include("servicedesk.webhooks.urls")),
    path("texts/", include("servicedesk.texting.urls")),
    path("hooks/sms/", include("servicedesk.texting.hook_urls")),
    path("lockouts/", lockouts.lockout_list, name="lockouts"),
    path("lockouts/unlock/", lockouts.lockout_unlock, name="lockout_unlock"),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "servicedesk administration"
admin.site.site_title = "servicedesk"
