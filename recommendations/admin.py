from django.contrib import admin

from .models import Discussion, FollowUpInterval, Recommendation, RecommendationEvent


@admin.register(FollowUpInterval)
class FollowUpIntervalAdmin(admin.ModelAdmin):
    list_display = ["risk", "days"]


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
