"""The admin of issue 23's settings and records: recall windows by job kind (a manager's edit is on the settings'
trail, as on the page) and warranty part claims."""

from django.contrib import admin
from django.utils import timezone

from servicedesk.audit import Via, setting_changes_record

from .models import CallbackEvent, Closure, OpeningHours, RecallWindow, WarrantyClaim


def _days(days):
    return "none" if days is None else f"{days} day{'' if days == 1 else 's'}"


@admin.register(RecallWindow)
class RecallWindowAdmin(admin.ModelAdmin):
    list_display = ("kind", "days", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request, obj, form, change):
        before = RecallWindow.objects.filter(pk=obj.pk).values_list("days", flat=True).first() if change else None
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        setting_changes_record(setting="recall_windows", by=request.user, via=Via.ADMIN,
                               changes={obj.get_kind_display(): (_days(before) if change else "default",
                                                                 _days(obj.days))})


@admin.register(WarrantyClaim)
class WarrantyClaimAdmin(admin.ModelAdmin):
    """For corrections: the office moves claims on from their own page (callbacks/recalls/claim_views.py). An edit
    here is on the callback's timeline too."""

    list_display = ("part_name", "supplier", "status", "created_at", "sent_on", "expected_credit", "credit_received")
    list_filter = ("status", "supplier")
    search_fields = ("part_name", "part_number", "supplier", "manufacturer", "rma_number")
    raw_id_fields = ("callback",)
    readonly_fields = ("created_at", "updated_at", "updated_by")

    def save_model(self, request, obj, form, change):
        obj.updated_at, obj.updated_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)
        changed = ", ".join(form.changed_data) or "nothing"
        CallbackEvent.objects.create(callback_id=obj.callback_id, action=CallbackEvent.Action.CLAIM,
                                     by=request.user, at=obj.updated_at,
                                     note=f"Warranty claim ({obj.part_name}) edited in the admin: {changed}.")


class _SettingTrail:
    """An edit here is on the settings' trail ("business_hours"), who and when, like the targets page's."""

    def _record(self, request, item, before, after):
        setting_changes_record(setting="business_hours", by=request.user, via=Via.ADMIN, changes={item: (before,
                                                                                                     after)})

    def save_model(self, request, obj, form, change):
        before = str(type(obj).objects.get(pk=obj.pk)) if change else "—"
        super().save_model(request, obj, form, change)
        self._record(request, self.item(obj), before, str(obj))

    def delete_model(self, request, obj):
        self._record(request, self.item(obj), str(obj), "—")
        super().delete_model(request, obj)


@admin.register(OpeningHours)
class OpeningHoursAdmin(_SettingTrail, admin.ModelAdmin):
    list_display = ("weekday", "opens", "closes")

    def item(self, obj):
        return obj.get_weekday_display()


@admin.register(Closure)
class ClosureAdmin(_SettingTrail, admin.ModelAdmin):
    list_display = ("day", "reason", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")

    def item(self, obj):
        return f"Closure {obj.day:%Y-%m-%d}"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)
