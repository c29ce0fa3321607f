"""What the API answers with (read), and, for the schema, what it takes (write). Writes are validated by the CSV
import's own column rules (customers/importing.py), so the write serializers are built from those columns: one list
of fields, choices and aliases for the file, the API and its documentation."""

from rest_framework import serializers

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback, Urgency
from customers import importing
from customers.models import Customer, Equipment, Job, Site
from recommendations.models import Recommendation


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "name", "phone", "alt_phone", "email", "alt_email", "preferred_contact",
                  "notes", "contact_opt_out", "do_not_service", "created_at", "updated_at"]


class SiteSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", allow_null=True, read_only=True,
                                     help_text="The customer's id in the dispatch system.")

    class Meta:
        model = Site
        fields = ["id", "external_id", "customer", "customer_id", "label", "street", "unit", "city", "state",
                  "postal_code", "site_type", "access_notes", "updated_at"]


class EquipmentSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.external_id", allow_null=True, read_only=True,
                                 help_text="The site's id in the dispatch system.")

    class Meta:
        model = Equipment
        fields = ["id", "external_id", "site", "site_id", "kind", "make", "model_number", "serial_number",
                  "installed_on", "notes", "updated_at"]


class JobSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id", allow_null=True, read_only=True)
    site = serializers.CharField(source="site.external_id", allow_null=True, read_only=True)
    equipment = serializers.SerializerMethodField()
    lead_technician = serializers.SerializerMethodField()
    helpers = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "external_id", "customer", "customer_id", "site", "site_id", "equipment", "equipment_id",
                  "kind", "status", "scheduled_start", "scheduled_end", "lead_technician", "helpers", "completed_at",
                  "completed_elsewhere", "summary", "invoice_number", "no_charge", "created_at", "updated_at"]

    def get_equipment(self, job) -> str | None:
        return job.equipment.external_id if job.equipment_id else None

    def get_lead_technician(self, job) -> str | None:
        return job.lead_technician.username if job.lead_technician_id else None

    def get_helpers(self, job) -> list[str]:
        return sorted(user.username for user in job.helpers.all())


# --- writes (for the schema; the import's columns validate) -------------------------------------------------------

_FIELDS = {
    "boolean": serializers.BooleanField,
    "date": serializers.DateField,
    "datetime": serializers.DateTimeField,
    "email": serializers.EmailField,
}


def _write_field(column):
    kind = importing.column_type(column)
    help_text = column.notes or ""
    if kind == "list":
        return serializers.ListField(child=serializers.CharField(), required=False, help_text=help_text)
    if kind == "choice":
        help_text += " Trade words the dispatch systems use are accepted too, in any case."
    if kind in _FIELDS:
        return _FIELDS[kind](required=column.required, allow_null=not column.required, help_text=help_text)
    return serializers.CharField(required=column.required, allow_blank=not column.required, help_text=help_text)


def write_serializer(kind, with_id=False):
    """A serializer class naming every field the kind's file columns accept, by their keys (with the dispatch
    system's id for a bulk request, where it is not in the URL)."""
    spec = importing.KINDS[kind]
    fields = {column.key: _write_field(column) for column in spec.columns if with_id or column.key != "external_id"}
    name = f"{spec.singular.capitalize()}{'BulkRecord' if with_id else 'Write'}"
    return type(name, (serializers.Serializer,), {**fields, "__doc__": f"A {spec.singular} as the dispatch system "
                                                                          "has it; fields left out are left alone."})


# --- callbacks, recommendations, follow-up calls (read; a callback is logged through callback_log) ---------------


class CallbackSerializer(serializers.ModelSerializer):
    job = serializers.CharField(source="job.external_id", allow_null=True, read_only=True,
                                help_text="The original job's id in the dispatch system.")

    class Meta:
        model = Callback
        fields = ["id", "job", "job_id", "customer_id", "site_id", "equipment_id", "problem", "channel", "urgency",
                  "state", "is_repeat", "repeat_of_id", "logged_at", "assigned_to_id", "revisit_job_id",
                  "first_contact_due_at", "revisit_due_at", "acknowledged_at", "due_at", "reopen_count",
                  "root_cause", "resolution", "resolved_at", "closed_at", "updated_at"]


class CallbackCreateSerializer(serializers.Serializer):
    job = serializers.CharField(help_text="The original job's id in the dispatch system.")
    problem = serializers.CharField(help_text="In the customer's own words.")
    channel = serializers.ChoiceField(choices=Callback.Channel.choices, default=Callback.Channel.PHONE)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)


class RecommendationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recommendation
        fields = ["id", "customer_id", "site_id", "equipment_id", "raised_on_job_id", "what", "why", "risk",
                  "price_low", "price_high", "customer_acknowledged", "state", "decline_reason", "deferred_until",
                  "accepted_job_id", "next_follow_up_on", "created_at", "state_changed_at", "updated_at"]


class FollowUpCallSerializer(serializers.ModelSerializer):
    job = serializers.CharField(source="job.external_id", allow_null=True, read_only=True,
                                help_text="The visit's id in the dispatch system.")

    class Meta:
        model = FollowUpCall
        fields = ["id", "job", "job_id", "customer_id", "due_at", "next_attempt_at", "state", "attempts", "outcome",
                  "issues", "expectations_met", "anything_else", "would_refer", "satisfaction", "callback_id",
                  "lead_id", "completed_at", "cancel_reason", "created_at", "updated_at"]
