from django.contrib import admin

from servicedesk.audit import Via

from .models import Discussion, FollowUpInterval, Recommendation, RecommendationEvent
from .services import follow_up_intervals_set


@admin.register(FollowUpInterval)
class FollowUpIntervalAdmin(admin.ModelAdmin):
    list_display = ["risk", "days"]

    def get_readonly_fields(self, request, obj=None):
        return ["risk"] if obj else []

    def save_model(self, request, obj, form, change):
        # Through the service, so the edit is on the trail like the page's (before and after, who, via the admin).
        follow_up_intervals_set(days={obj.risk: obj.days}, by=request.user, via=Via.ADMIN)
        obj.pk = FollowUpInterval.objects.values_list("pk", flat=True).get(risk=obj.risk)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Changes go through the services so each one is recorded as an event; the admin only reads."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = RecommendationEvent
    extra = 0
    readonly_fields = ["action", "by", "at", "from_state", "to_state", "note"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ["what", "customer", "risk", "state", "owner", "next_follow_up_on", "created_at"]
    list_filter = ["state", "risk"]
    search_fields = ["what", "customer__name"]
    list_select_related = ["customer", "owner"]
    raw_id_fields = ["customer", "site", "equipment", "raised_on_job", "accepted_job"]
    inlines = [EventInline]


@admin.register(Discussion)
class DiscussionAdmin(ReadOnlyAdmin):
    list_display = ["recommendation", "response", "technician", "discussed_at"]
    list_select_related = ["recommendation", "technician"]
    list_filter = ["response"]
