import django_filters
from django import forms
from django.contrib.auth import get_user_model

from servicedesk import roles

from .models import Customer, Job, Site


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="search",
        widget=forms.TextInput(
            attrs={"placeholder": "Name, phone, address or invoice #", "type": "search", "autocomplete": "off"}
        ),
    )
    site_type = django_filters.ChoiceFilter(
        label="Site type", choices=Site.SiteType.choices, method="filter_site_type", empty_label="Any site type"
    )
    city = django_filters.CharFilter(label="City", method="filter_city")
    contact_opt_out = django_filters.BooleanFilter(label="Opted out of contact")

    class Meta:
        model = Customer
        fields = ["q", "site_type", "city", "contact_opt_out"]

    def search(self, queryset, name, value):
        return queryset.search(value)

    def filter_site_type(self, queryset, name, value):
        return queryset.filter(pk__in=Site.objects.filter(site_type=value).values("customer_id"))

    def filter_city(self, queryset, name, value):
        return queryset.filter(pk__in=Site.objects.filter(city__iexact=value.strip()).values("customer_id"))


def technician_choices(request=None):
    return get_user_model().objects.filter(groups__name=roles.TECHNICIAN).order_by("first_name", "last_name")


class JobFilter(django_filters.FilterSet):
    scheduled_from = django_filters.DateFilter(
        field_name="scheduled_start", lookup_expr="date__gte", label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    scheduled_to = django_filters.DateFilter(
        field_name="scheduled_start", lookup_expr="date__lte", label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    status = django_filters.ChoiceFilter(choices=Job.Status.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=Job.Kind.choices, empty_label="Any kind")
    technician = django_filters.ModelChoiceFilter(
        label="Technician", queryset=technician_choices, method="filter_technician", empty_label="Any technician"
    )
    invoice_number = django_filters.CharFilter(lookup_expr="iexact", label="Invoice #")
    # The managers' notification after an import links here (customers.importing); not a field on the form.
    flagged = django_filters.BooleanFilter(field_name="booked_in_dispatch_for_do_not_service",
                                           label="Booked in the dispatch system for a do-not-service customer")

    class Meta:
        model = Job
        fields = ["scheduled_from", "scheduled_to", "status", "kind", "technician", "invoice_number", "flagged"]

    def filter_technician(self, queryset, name, value):
        return queryset.assigned_to(value)
