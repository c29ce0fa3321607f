"""ServiceTitan: its webhook bodies carry the record (as its REST API returns it: a job with `jobStatus`,
`customerId`, `locationId`, `completedOn`, `modifiedOn`; a customer; a location; an estimate) beside
`__eventInfo` (`eventId`, `webhookType`) and `__tenantId`. The vendor's moment is the record's `modifiedOn`. A job's
appointment (`appointment`: start, end) and its technicians (`technicians`: names or e-mails) are read from the job
record as the webhook sends them."""

from .base import Accept, Adapter, AdapterError, Envelope, Upsert, moment, need, record, text

JOB_STATUS = {"scheduled": "scheduled", "dispatched": "scheduled", "hold": "scheduled", "working": "in_progress",
              "completed": "completed", "canceled": "cancelled", "cancelled": "cancelled"}


def _info(payload):
    info = payload.get("__eventInfo")
    return info if isinstance(info, dict) else {}


def envelope(payload, headers, body):
    info = _info(payload)
    return Envelope(event_id=text(info.get("eventId") or headers.get("webhook-id", ""))[:200],
                    kind=text(info.get("webhookType"))[:100],
                    occurred_at=moment(payload.get("modifiedOn")) or moment(info.get("createdOn"))
                    or moment(headers.get("webhook-timestamp")))


def _address(address, what):
    address = need({"address": address}, "address", what)
    return {"street": need(address, "street", f"{what}'s address"), "unit": address.get("unit") or "",
            "city": need(address, "city", f"{what}'s address"), "state": address.get("state") or "",
            "postal_code": address.get("zip") or ""}


def _customer(payload, envelope):
    contacts = payload.get("contacts") or []
    phones = [contact.get("value") for contact in contacts if contact.get("type") in ("Phone", "MobilePhone")]
    emails = [contact.get("value") for contact in contacts if contact.get("type") == "Email"]
    return [Upsert("customers", record(
        external_id=text(need(payload, "id", "customer")),
        name=payload.get("name") or None,
        phone=phones[0] if phones else None,
        alt_phone=phones[1] if len(phones) > 1 else None,
        email=emails[0] if emails else None,
    ))]


def _location(payload, envelope):
    return [Upsert("sites", record(
        external_id=text(need(payload, "id", "location")),
        customer=text(need(payload, "customerId", "location")),
        label=payload.get("name") or None,
        **_address(payload.get("address"), "location"),
    ))]


def _job(payload, envelope):
    status = JOB_STATUS.get(text(payload.get("jobStatus")).lower())
    if status is None:
        raise AdapterError(f"The job's status {payload.get('jobStatus')!r} is not one servicedesk knows.")
    appointment = payload.get("appointment") or {}
    technicians = [text(technician.get("email") or technician.get("name"))
                   for technician in payload.get("technicians") or []]
    completed_on = payload.get("completedOn") if status == "completed" else ""
    return [Upsert("jobs", record(
        external_id=text(need(payload, "id", "job")),
        customer=text(need(payload, "customerId", "job")),
        site=text(need(payload, "locationId", "job")),
        status=status,
        scheduled_start=need(appointment, "start", "job's appointment"),
        scheduled_end=appointment.get("end") or appointment["start"],
        lead_technician=technicians[0] if technicians else "",
        helpers=technicians[1:],
        completed_at=completed_on or ("" if status != "completed" else envelope.occurred_at.isoformat()),
        summary=payload.get("summary"),
        invoice_number=text(payload.get("invoiceNumber")) or None,
    ))]


def _estimate_sold(payload, envelope):
    if text((payload.get("status") or {}).get("name")).lower() != "sold":
        return []
    return [Accept(job=text(need(payload, "jobId", "estimate")), what=text(payload.get("name")))]


ADAPTER = Adapter(envelope=envelope, handlers={
    "CustomerCreated": _customer, "CustomerUpdated": _customer,
    "LocationCreated": _location, "LocationUpdated": _location,
    **{f"Job{name}": _job for name in ("Created", "Scheduled", "Rescheduled", "TechniciansAssigned", "Started",
                                       "Completed", "Canceled")},
    "EstimateSold": _estimate_sold,
})
