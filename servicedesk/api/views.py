"""The API's views: lists, records and upserts of customers, sites, equipment and jobs. Writes go through the
import's one code path per kind (customers.importing.apply_records), so the API takes exactly what a file takes."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from callbacks.services import callback_log
from customers.importing import ImportRejected
from customers.models import Customer, Equipment, Job, Site
from customers.upserts import apply_records
from recommendations.models import Recommendation
from servicedesk.audit import Via
from servicedesk.integrations.models import ApiToken
from servicedesk.integrations.services import callback_log_from_integration

from . import filters, schema  # noqa: F401 (schema: the token's security scheme, registered on import)
from .pagination import UpdatedCursorPagination
from .serializers import (
    CallbackCreateSerializer,
    CallbackSerializer,
    CustomerSerializer,
    EquipmentSerializer,
    FollowUpCallSerializer,
    JobSerializer,
    RecommendationSerializer,
    SiteSerializer,
    write_serializer,
)

RECORD_KINDS = ("customers", "sites", "equipment", "jobs")
READ_KINDS = ("callbacks", "recommendations", "follow_up_calls")
BULK_MAX = 1000

ErrorsSerializer = inline_serializer("Errors", {
    "errors": serializers.ListField(child=inline_serializer("Error", {
        "record": serializers.IntegerField(help_text="The record's index in the request, from 0."),
        "field": serializers.CharField(help_text="The field the error is about; empty for the whole record."),
        "message": serializers.CharField(),
    })),
})


def _person(request):
    """Who the trail names for a write: the manager of a session; nobody for an integration's token (the trail says
    the API)."""
    return request.user if isinstance(request.user, get_user_model()) else None


def errors_response(errors):
    return Response(
        {"errors": [{"record": error.row, "field": error.column, "message": error.message} for error in errors]},
        status=status.HTTP_400_BAD_REQUEST,
    )


class ApiRoot(APIView):
    """The API's index: which integration is calling, and where each kind of record is."""

    @extend_schema(responses=inline_serializer("Root", {
        "integration": serializers.CharField(allow_null=True), "endpoints": serializers.DictField(),
    }))
    def get(self, request, format=None):
        integration = getattr(request.auth, "integration", None)
        return Response({
            "integration": integration.name if integration else None,
            "endpoints": {kind: reverse(f"api:{kind}", request=request) for kind in RECORD_KINDS + READ_KINDS},
        })


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List (in order of change), retrieve and upsert by the dispatch system's id."""

    kind = ""  # the import's kind: customers.importing.KINDS
    lookup_field = "external_id"
    filter_backends = [DjangoFilterBackend]
    pagination_class = UpdatedCursorPagination

    def update(self, request, external_id):
        record = request.data
        if not isinstance(record, dict):
            return Response({"errors": [{"record": 0, "field": "", "message": "Send one JSON object."}]},
                            status=status.HTTP_400_BAD_REQUEST)
        given = record.get("external_id", external_id)
        if given != external_id:
            return Response({"errors": [{"record": 0, "field": "external_id",
                                         "message": "differs from the id in the URL"}]},
                            status=status.HTTP_400_BAD_REQUEST)
        record = {"external_id": external_id, **{key: value for key, value in record.items() if key != "external_id"}}
        try:
            plan = apply_records(kind=self.kind, records=[record], by=_person(request), via=Via.API)
        except ImportRejected as rejected:
            return errors_response(rejected.errors)
        instance = self.get_queryset().get(external_id=external_id)
        created = plan.records[0].status == "new"
        return Response(self.get_serializer(instance).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


    def bulk(self, request):
        records = request.data
        if not isinstance(records, list) or not all(isinstance(record, dict) for record in records) or not records:
            return Response({"errors": [{"record": 0, "field": "", "message": "Send a JSON array of records."}]},
                            status=status.HTTP_400_BAD_REQUEST)
        if len(records) > BULK_MAX:
            return Response({"errors": [{"record": BULK_MAX, "field": "",
                                         "message": f"At most {BULK_MAX:,} records per request."}]},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            plan = apply_records(kind=self.kind, records=records, by=_person(request), via=Via.API)
        except ImportRejected as rejected:
            return errors_response(rejected.errors)
        return Response({"counts": plan.counts})


BulkResult = inline_serializer("BulkResult", {"counts": inline_serializer("BulkCounts", {
    "new": serializers.IntegerField(), "updated": serializers.IntegerField(),
    "unchanged": serializers.IntegerField(),
})})


def _bulk_schema(kind):
    return extend_schema(
        request=write_serializer(kind, with_id=True)(many=True),
        responses={200: BulkResult, 400: ErrorsSerializer},
        description=f"Create or update up to {BULK_MAX:,} records in one transaction: all are written, or none "
                    "when any is refused, and every error is listed by the record's index and field. Every record "
                    "gives the same fields, as the columns of a file.",
    )


def _upsert_schema(kind, serializer):
    return extend_schema(
        request=write_serializer(kind),
        responses={200: serializer, 201: serializer, 400: ErrorsSerializer},
        description="Create or update the record with this id in the dispatch system. The same rules, choices and "
                    "aliases as the CSV import; a field left out is left as it is.",
    )


class CustomerViewSet(RecordViewSet):
    kind = "customers"
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = filters.CustomerFilter

    @_upsert_schema("customers", CustomerSerializer)
    def update(self, request, external_id):
        return super().update(request, external_id)

    @_bulk_schema("customers")
    def bulk(self, request):
        return super().bulk(request)


class SiteViewSet(RecordViewSet):
    kind = "sites"
    queryset = Site.objects.select_related("customer")
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilter

    @_upsert_schema("sites", SiteSerializer)
    def update(self, request, external_id):
        return super().update(request, external_id)

    @_bulk_schema("sites")
    def bulk(self, request):
        return super().bulk(request)


class EquipmentViewSet(RecordViewSet):
    kind = "equipment"
    queryset = Equipment.objects.select_related("site")
    serializer_class = EquipmentSerializer
    filterset_class = filters.EquipmentFilter

    @_upsert_schema("equipment", EquipmentSerializer)
    def update(self, request, external_id):
        return super().update(request, external_id)

    @_bulk_schema("equipment")
    def bulk(self, request):
        return super().bulk(request)


class JobViewSet(RecordViewSet):
    kind = "jobs"
    queryset = Job.objects.with_related().prefetch_related(
        Prefetch("helpers", queryset=get_user_model().objects.only("pk", "username"))
    )
    serializer_class = JobSerializer
    filterset_class = filters.JobFilter

    @_upsert_schema("jobs", JobSerializer)
    def update(self, request, external_id):
        return super().update(request, external_id)

    @_bulk_schema("jobs")
    def bulk(self, request):
        return super().bulk(request)


class _ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List (in order of change) and retrieve by servicedesk's id: these records are made here, not dispatched."""

    filter_backends = [DjangoFilterBackend]
    pagination_class = UpdatedCursorPagination


class CallbackViewSet(_ReadViewSet):
    queryset = Callback.objects.select_related("job")
    serializer_class = CallbackSerializer
    filterset_class = filters.CallbackFilter

    @extend_schema(request=CallbackCreateSerializer, responses={201: CallbackSerializer, 400: ErrorsSerializer},
                   description="Log a callback about a job, as a CSR does on the callback page: a repeat is caught "
                               "and escalated; from a token it goes to the office's triage queue.")
    def create(self, request):
        form = CallbackCreateSerializer(data=request.data)
        if not form.is_valid():
            return Response({"errors": [{"record": 0, "field": field, "message": str(message)}
                                        for field, messages in form.errors.items() for message in messages]},
                            status=status.HTTP_400_BAD_REQUEST)
        data = form.validated_data
        job = Job.objects.select_related("customer", "site").filter(external_id=data["job"]).first()
        if job is None:
            return Response({"errors": [{"record": 0, "field": "job",
                                         "message": f"no job has id {data['job']!r}"}]},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            if isinstance(request.auth, ApiToken):
                callback = callback_log_from_integration(integration=request.auth.integration, job=job, **{
                    key: data[key] for key in ("problem", "channel", "urgency")})
            else:
                callback = callback_log(job=job, logged_by=request.user, **{
                    key: data[key] for key in ("problem", "channel", "urgency")})
        except ValidationError as exc:
            errors = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
            return Response({"errors": [{"record": 0, "field": field, "message": message}
                                        for field, messages in errors for message in messages]},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(CallbackSerializer(callback).data, status=status.HTTP_201_CREATED)


class RecommendationViewSet(_ReadViewSet):
    queryset = Recommendation.objects.all()
    serializer_class = RecommendationSerializer
    filterset_class = filters.RecommendationFilter


class FollowUpCallViewSet(_ReadViewSet):
    queryset = FollowUpCall.objects.select_related("job")
    serializer_class = FollowUpCallSerializer
    filterset_class = filters.FollowUpCallFilter
