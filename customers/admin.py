"""The Django admin for customers, sites, equipment and jobs, kept fast at a large contractor's
scale (100,000 customers, 1,000,000 jobs): foreign keys are picked by search or id instead of a
<select> of every row, lists join what they display, and no page counts the whole table."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from servicedesk import roles

from .admin_trail import ConsentTrail, JobTrail
from .models import CompanySettings, Customer, Equipment, Job, Site
from .services import ensure_bookable, jobs_completed


class TechnicianFilter(admin.SimpleListFilter):
    """Lead technician, offering only the people in the Technician group (not every user)."""

    title = "lead technician"
    parameter_name = "technician"

    def lookups(self, request, model_admin):
        return [(str(user.pk), user.get_full_name() or user.username) for user in _technicians()]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(lead_technician_id=int(self.value()))
        return queryset


class SiteTypeFilter(admin.SimpleListFilter):
    """Customers with a site of the type: a subquery rather than a join, so no DISTINCT over 100,000 rows."""

    title = "site type"
    parameter_name = "site_type"

    def lookups(self, request, model_admin):
        return Site.SiteType.choices

    def queryset(self, request, queryset):
        if self.value() in Site.SiteType.values:
            return queryset.filter(pk__in=Site.objects.filter(site_type=self.value()).values("customer_id"))
        return queryset


def _technicians():
    return get_user_model().objects.filter(groups__name=roles.TECHNICIAN).order_by("first_name", "last_name")


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ("label", "street", "unit", "city", "state", "postal_code", "site_type", "external_id")
    show_change_link = True


class EquipmentInline(admin.TabularInline):
    model = Equipment
    extra = 0
    fields = ("kind", "make", "model_number", "serial_number", "installed_on", "external_id")
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(ConsentTrail, admin.ModelAdmin):
    list_display = ("name", "phone", "email", "preferred_contact", "contact_opt_out", "external_id", "created_at")
    list_filter = ("preferred_contact", "contact_opt_out", SiteTypeFilter)
    # The app's own search (phone in any format, address, invoice number) plus the external id;
    # search_fields only switches the admin's search box and autocomplete on.
    search_fields = ("name",)
    readonly_fields = ("phone_digits", "alt_phone_digits", "created_at")
    inlines = [SiteInline]
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.search(term) | queryset.filter(external_id=term), False

    def save_model(self, request, obj, form, change):
        from .phones import phone_digits

        obj.phone_digits, obj.alt_phone_digits = phone_digits(obj.phone), phone_digits(obj.alt_phone)
        super().save_model(request, obj, form, change)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("street", "unit", "city", "state", "postal_code", "site_type", "customer", "external_id")
    list_filter = ("site_type", "state")
    list_select_related = ("customer",)
    search_fields = ("street", "city", "postal_code", "customer__name", "=external_id")
    autocomplete_fields = ("customer",)
    inlines = [EquipmentInline]
    show_full_result_count = False
    list_per_page = 50


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ("kind", "make", "model_number", "serial_number", "installed_on", "site", "external_id")
    list_filter = ("kind", "installed_on")
    list_select_related = ("site",)
    search_fields = ("=serial_number", "model_number", "make", "site__street", "=external_id")
    autocomplete_fields = ("site",)
    show_full_result_count = False
    list_per_page = 50


class JobAdminForm(forms.ModelForm):
    """A job booked in the admin is a booking like any other: refused for a do-not-service customer by the same
    check as customers.services.job_book (a job entered as already completed is a record, not a booking)."""

    def clean(self):
        cleaned = super().clean()
        customer, status = cleaned.get("customer"), cleaned.get("status")
        opened = (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS)
        before = self.instance
        books = status in opened and (
            before._state.adding or before.status not in opened or before.customer_id != getattr(customer, "pk", None)
        )
        if customer is not None and books:
            ensure_bookable(customer)
        return cleaned


@admin.register(Job)
class JobAdmin(JobTrail, admin.ModelAdmin):
    form = JobAdminForm
    list_display = (
        "scheduled_start", "kind", "status", "customer", "lead_technician", "invoice_number", "no_charge",
        "external_id",
    )
    list_filter = ("status", "kind", "no_charge", TechnicianFilter, "scheduled_start",
                   "booked_in_dispatch_for_do_not_service")
    list_select_related = ("customer", "lead_technician")
    search_fields = ("=invoice_number", "=external_id", "customer__name")
    # Users are a short list, and a manager may not have the permission to search them.
    autocomplete_fields = ("customer", "site")
    raw_id_fields = ("equipment",)
    filter_horizontal = ("helpers",)
    readonly_fields = ("created_at",)
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        """An invoice number or external id when one matches (indexed), else the customer's name.

        The admin's default ORs all three across a join, which scans a million jobs."""
        term = search_term.strip()
        if not term:
            return queryset, False
        exact = queryset.filter(Q(invoice_number=term) | Q(external_id=term))
        if exact.exists():
            return exact, False
        return queryset.filter(customer__in=Customer.objects.filter(name__icontains=term).values("pk")), False

    def save_model(self, request, obj, form, change):
        # A job a manager marks completed here is completed as much as one its technician closed: what follows
        # (a callback's revisit done) must follow here too.
        completes = obj.status == Job.Status.COMPLETED and form.initial.get("status") != Job.Status.COMPLETED
        super().save_model(request, obj, form, change)
        if completes:
            jobs_completed(job_ids=[obj.pk], completed_by=request.user, now=obj.completed_at)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_technician":
            kwargs["queryset"] = _technicians()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "helpers":
            kwargs["queryset"] = _technicians()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(CompanySettings)
class CompanySettingsAdmin(admin.ModelAdmin):
    """The leave-behind's wording: who we are, what the customer can expect, the hotline. One row."""

    fields = ["about", "expectations", "hotline", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request):
        return not CompanySettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        obj.updated_at = timezone.now()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
