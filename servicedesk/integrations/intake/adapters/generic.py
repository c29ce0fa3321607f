"""The generic kind: Standard Webhooks' payload (`{"type", "timestamp", "data"}`) whose data is the API's own record
shape (a `PUT /api/v1/<kind>/<id>` body with its `external_id`), so any script or service can send it."""

from .base import Accept, Adapter, AdapterError, Envelope, Upsert, moment, need

STATUS_OF = {"job.started": "in_progress", "job.completed": "completed", "job.cancelled": "cancelled"}


def envelope(payload, headers, body):
    return Envelope(event_id=headers.get("webhook-id", ""), kind=str(payload.get("type", ""))[:100],
                    occurred_at=moment(payload.get("timestamp")) or moment(headers.get("webhook-timestamp")))


def _data(payload):
    data = payload.get("data")
    if not isinstance(data, dict):
        raise AdapterError("The event has no data object.")
    need(data, "external_id", "data")
    return data


def _upsert(kind):
    return lambda payload, envelope: [Upsert(kind, _data(payload))]


def _job(payload, envelope):
    data = dict(_data(payload))
    status = STATUS_OF.get(envelope.kind)
    if status:
        data.setdefault("status", status)
        if status == "completed" and envelope.occurred_at:
            data.setdefault("completed_at", envelope.occurred_at.isoformat())
    return [Upsert("jobs", data)]


def _estimate_approved(payload, envelope):
    data = payload.get("data") or {}
    recommendation = data.get("recommendation")
    return [Accept(job=str(need(data, "job", "data")), what=str(data.get("name") or ""),
                   recommendation=int(recommendation) if str(recommendation or "").isdigit() else None)]


ADAPTER = Adapter(envelope=envelope, handlers={
    "customer.created": _upsert("customers"),
    "customer.updated": _upsert("customers"),
    "site.created": _upsert("sites"),
    "site.updated": _upsert("sites"),
    "equipment.created": _upsert("equipment"),
    "equipment.updated": _upsert("equipment"),
    **{f"job.{name}": _job for name in ("created", "scheduled", "rescheduled", "technicians_assigned", "started",
                                        "completed", "cancelled")},
    "estimate.approved": _estimate_approved,
})
