"""The Django admin, for managers only.

is_staff alone is a flag anyone with admin rights can tick by mistake; the admin edits every table
without the per-role and per-object checks of the staff pages, so it also requires the Manager role.

Installed the way Django documents for replacing the default site: INSTALLED_APPS names
ManagerAdminConfig instead of "django.contrib.admin", so `admin.site` (and every @admin.register in
the apps) is a ManagerAdminSite from the start, with no module patching the site after the fact.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from . import roles


class ManagerAdminSite(admin.AdminSite):
    site_header = "servicedesk administration"
    site_title = "servicedesk"

    def has_permission(self, request):
        return super().has_permission(request) and roles.has_role(request.user, roles.MANAGER)


class ManagerAdminConfig(AdminConfig):
    default_site = "servicedesk.admin_site.ManagerAdminSite"
