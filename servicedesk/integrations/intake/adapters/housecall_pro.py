"""Housecall Pro: `{"event": "job.completed", "job": {...}}`, the record as its public API returns it (a job with its
customer, address, schedule, assigned employees and work timestamps; a customer with its addresses; an estimate with
its options). It sends no event id, so a delivery is known by its body's digest (a retry repeats the body); the
vendor's moment is the record's `updated_at`."""

from .base import Accept, Adapter, AdapterError, Envelope, Upsert, body_digest, moment, need, record, text

# Housecall Pro's work statuses, as servicedesk's job statuses.
WORK_STATUS = {
    "needs scheduling": "scheduled", "unscheduled": "scheduled", "scheduled": "scheduled",
    "in progress": "in_progress", "in_progress": "in_progress",
    "complete unrated": "completed", "complete rated": "completed", "completed": "completed",
    "user canceled": "cancelled", "pro canceled": "cancelled", "canceled": "cancelled",
}
ENTITY = {"job": "job", "customer": "customer", "estimate": "estimate"}


def envelope(payload, headers, body):
    kind = str(payload.get("event", ""))[:100]
    entity = payload.get(kind.split(".", 1)[0]) if kind else None
    updated = entity.get("updated_at") if isinstance(entity, dict) else None
    return Envelope(event_id=body_digest(body), kind=kind,
                    occurred_at=moment(updated) or moment(headers.get("api-timestamp")))


def _customer(customer):
    name = " ".join(filter(None, (text(customer.get("first_name")).strip(), text(customer.get("last_name")).strip())))
    phones = [customer.get(key) for key in ("mobile_number", "home_number", "work_number") if customer.get(key)]
    return Upsert("customers", record(
        external_id=text(need(customer, "id", "customer")),
        name=name or customer.get("company") or None,
        phone=phones[0] if phones else None,
        alt_phone=phones[1] if len(phones) > 1 else None,
        email=customer.get("email") or None,
    ), occurred_at=moment(customer.get("updated_at")))


def _site(address, customer_id):
    return Upsert("sites", record(
        external_id=text(need(address, "id", "address")),
        customer=customer_id,
        street=need(address, "street", "address"),
        unit=address.get("street_line_2") or "",
        city=need(address, "city", "address"),
        state=address.get("state") or "",
        postal_code=address.get("zip") or "",
    ))


def _customer_changes(payload, envelope):
    customer = need(payload, "customer", "event")
    changes = [_customer(customer)]
    for address in customer.get("addresses") or []:
        if address.get("type", "service") == "service":
            changes.append(_site(address, text(customer["id"])))
    return changes


def _job_changes(payload, envelope):
    job = need(payload, "job", "event")
    customer = need(job, "customer", "job")
    address = need(job, "address", "job")
    changes = [_customer(customer), _site(address, text(customer["id"]))]
    schedule = job.get("schedule") or {}
    if not schedule.get("scheduled_start"):
        return changes  # not scheduled yet: the job comes with its schedule
    status = WORK_STATUS.get(text(job.get("work_status")).lower())
    if status is None:
        raise AdapterError(f"The job's work status {job.get('work_status')!r} is not one servicedesk knows.")
    employees = [employee.get("email") or " ".join(filter(None, (employee.get("first_name"),
                                                                 employee.get("last_name"))))
                 for employee in job.get("assigned_employees") or []]
    completed_at = (job.get("work_timestamps") or {}).get("completed_at") if status == "completed" else None
    changes.append(Upsert("jobs", record(
        external_id=text(need(job, "id", "job")),
        customer=text(customer["id"]),
        site=text(address["id"]),
        status=status,
        scheduled_start=schedule["scheduled_start"],
        scheduled_end=schedule.get("scheduled_end") or schedule["scheduled_start"],
        lead_technician=employees[0] if employees else "",
        helpers=employees[1:],
        completed_at=completed_at or ("" if status != "completed" else envelope.occurred_at.isoformat()),
        summary=job.get("description"),
        invoice_number=text(job.get("invoice_number")) or None,
    )))
    return changes


def _estimate_option_approval(payload, envelope):
    estimate = need(payload, "estimate", "event")
    approved = [option for option in estimate.get("options") or [] if option.get("approval_status") == "approved"]
    if not approved:
        return []
    job = estimate.get("job_id") or (estimate.get("job") or {}).get("id")
    if not job:
        raise AdapterError("The approved estimate names no job (job_id): servicedesk links an acceptance to a job.")
    return [Accept(job=text(job), what=text(option.get("name"))) for option in approved]


JOB_EVENTS = ("job.created", "job.scheduled", "job.appointment.scheduled", "job.appointment.rescheduled",
              "job.appointment.appointment_pros_assigned", "job.on_my_way", "job.started", "job.completed",
              "job.canceled")

ADAPTER = Adapter(envelope=envelope, handlers={
    "customer.created": _customer_changes,
    "customer.updated": _customer_changes,
    **{kind: _job_changes for kind in JOB_EVENTS},
    "estimate.option.approval_status_changed": _estimate_option_approval,
})
