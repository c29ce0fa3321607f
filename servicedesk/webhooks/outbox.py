"""The outbox's writer: `servicedesk.outbox.emit` calls record_event inside the service's transaction.

The event's `data` is the record as the API shows it (its serializers), taken now, in the transaction: an event
tells what the record was when it happened, and every retry sends those same bytes. With no subscription for the
type, emitting costs one small query and writes nothing.
"""

import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework import serializers

from callbacks.follow_ups.models import FollowUpCall
from callbacks.models import Callback
from customers.models import Customer, Feedback
from recommendations.models import Recommendation
from servicedesk.api.serializers import (
    CallbackSerializer,
    CustomerSerializer,
    FollowUpCallSerializer,
    RecommendationSerializer,
)

from .models import Delivery, Event, Subscription
from .tasks import enqueue_on_commit

VERSION = 1


class FeedbackSerializer(serializers.ModelSerializer):
    job = serializers.CharField(source="job.external_id", allow_null=True, read_only=True,
                                help_text="The visit's id in the dispatch system.")

    class Meta:
        model = Feedback
        fields = ["id", "job", "job_id", "customer_id", "kind", "rating", "text", "wants_call_back", "created_at"]


SERIALIZERS = {
    Callback: (CallbackSerializer, ["job"]),
    Recommendation: (RecommendationSerializer, []),
    FollowUpCall: (FollowUpCallSerializer, ["job"]),
    Customer: (CustomerSerializer, []),
    Feedback: (FeedbackSerializer, ["job"]),
}


def data_of(record):
    """The record as the API shows it, read again from the database so every field is as this transaction has it."""
    model = type(record)
    serializer, related = SERIALIZERS[model]
    fresh = model.objects.select_related(*related).get(pk=record.pk)
    return serializer(fresh).data


def document(*, event_type, event_uuid, occurred_at, data):
    """The body every subscriber gets: small, versioned, compact JSON."""
    return json.dumps(
        {"type": event_type, "id": f"msg_{event_uuid.hex}", "version": VERSION,
         "occurred_at": occurred_at.isoformat(), "data": data},
        cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False,
    )


def write_event(*, event_type, data, subscription_ids, enabled_ids=None, object_id=None, now=None):
    """The event and one delivery per subscription (unique), in the caller's transaction; the enabled
    subscriptions' deliveries are handed to a worker once that commits (a disabled one's wait for it)."""
    now = now or timezone.now()
    event_uuid = uuid.uuid4()
    event = Event.objects.create(
        uuid=event_uuid, type=event_type, occurred_at=now, object_id=object_id,
        body=document(event_type=event_type, event_uuid=event_uuid, occurred_at=now, data=data),
    )
    deliveries = Delivery.objects.bulk_create(
        [Delivery(event=event, subscription_id=pk, created_at=now, next_attempt_at=now, retry_from=now)
         for pk in subscription_ids],
    )
    enabled_ids = set(subscription_ids if enabled_ids is None else enabled_ids)
    enqueue_on_commit([delivery.pk for delivery in deliveries if delivery.subscription_id in enabled_ids])
    return event


def record_event(event_type, record):
    subscriptions = [(pk, enabled) for pk, types, enabled
                     in Subscription.objects.values_list("pk", "event_types", "enabled") if event_type in types]
    if not subscriptions:
        return None
    return write_event(event_type=event_type, data=data_of(record), object_id=record.pk,
                       subscription_ids=[pk for pk, _ in subscriptions],
                       enabled_ids=[pk for pk, enabled in subscriptions if enabled])
