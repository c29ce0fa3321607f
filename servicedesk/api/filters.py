"""The API lists' filters. Every list takes `updated_since` (what changed at or after a moment, for syncing);
references are by the dispatch system's ids, as the records are written."""

import django_filters

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from customers.models import Customer, Equipment, Job, Site
from customers.phones import phone_digits
from recommendations.models import Recommendation


def _updated_since():
    return django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after this moment (ISO 8601)."
    )


class _ChangedOnly(django_filters.FilterSet):
    updated_since = _updated_since()


class _Changed(_ChangedOnly):
    external_id = django_filters.CharFilter(label="The dispatch system's id.")


class CustomerFilter(_Changed):
    phone = django_filters.CharFilter(method="filter_phone", label="Any of the customer's phone numbers.")
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Customer
        fields = ["updated_since", "external_id", "phone", "email", "contact_opt_out", "do_not_service"]

    def filter_phone(self, queryset, name, value):
        digits = phone_digits(value)
        return queryset.filter(phone_digits=digits) | queryset.filter(alt_phone_digits=digits)


class SiteFilter(_Changed):
    customer = django_filters.CharFilter(field_name="customer__external_id", label="The customer's id.")
    city = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Site
        fields = ["updated_since", "external_id", "customer", "customer_id", "city", "postal_code", "site_type"]


class EquipmentFilter(_Changed):
    site = django_filters.CharFilter(field_name="site__external_id", label="The site's id.")

    class Meta:
        model = Equipment
        fields = ["updated_since", "external_id", "site", "site_id", "kind"]


class JobFilter(_Changed):
    customer = django_filters.CharFilter(field_name="customer__external_id", label="The customer's id.")
    site = django_filters.CharFilter(field_name="site__external_id", label="The site's id.")
    lead_technician = django_filters.CharFilter(field_name="lead_technician__username",
                                                label="The lead technician's user name.")
    scheduled_after = django_filters.IsoDateTimeFilter(field_name="scheduled_start", lookup_expr="gte")
    scheduled_before = django_filters.IsoDateTimeFilter(field_name="scheduled_start", lookup_expr="lt")
    completed_after = django_filters.IsoDateTimeFilter(field_name="completed_at", lookup_expr="gte")

    class Meta:
        model = Job
        fields = ["updated_since", "external_id", "status", "kind", "customer", "customer_id", "site", "site_id",
                  "lead_technician", "scheduled_after", "scheduled_before", "completed_after", "completed_elsewhere",
                  "invoice_number"]


class CallbackFilter(_ChangedOnly):
    job = django_filters.CharFilter(field_name="job__external_id", label="The original job's id.")
    logged_after = django_filters.IsoDateTimeFilter(field_name="logged_at", lookup_expr="gte")

    class Meta:
        model = Callback
        fields = ["updated_since", "state", "urgency", "channel", "is_repeat", "job", "customer_id", "site_id",
                  "logged_after"]


class RecommendationFilter(_ChangedOnly):
    site = django_filters.CharFilter(field_name="site__external_id", label="The site's id.")

    class Meta:
        model = Recommendation
        fields = ["updated_since", "state", "risk", "site", "site_id", "customer_id", "raised_on_job_id"]


class FollowUpCallFilter(_ChangedOnly):
    job = django_filters.CharFilter(field_name="job__external_id", label="The visit's id.")
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = FollowUpCall
        fields = ["updated_since", "state", "outcome", "job", "customer_id", "due_after", "due_before"]
