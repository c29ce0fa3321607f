"""The job's and the customer's consent trail: one row per change, written by whoever makes the change (the
services, the admin, the import) inside its transaction, so a change and its record commit together.

The callbacks and recommendations keep their own events (CallbackEvent, RecommendationEvent) the same way; the
customer's history reads them all (customers/history.py).
"""

from django.utils import timezone

from servicedesk.audit import Via

from .models import ConsentEvent, Customer, Job, JobEvent

Action = JobEvent.Action


def job_event_record(*, job, action, by=None, via=Via.PAGE, from_status="", to_status="", note="", now=None):
    return JobEvent.objects.create(
        job=job, action=action, at=now or timezone.now(), by=by, via=via, from_status=from_status,
        to_status=to_status, note=note,
    )


def job_status_change_record(*, job, from_status, by=None, via=Via.PAGE, note="", now=None):
    """A job whose status was set directly (the admin, the import, the API): completed, or moved to another
    status; a job that did not exist before (`from_status` empty) was booked."""
    to_status = job.status
    if to_status == from_status:
        return None
    return job_event_record(
        job=job, action=_action(from_status, to_status), by=by, via=via, from_status=from_status or "",
        to_status=to_status, note=note, now=now,
    )


def _action(from_status, to_status):
    if to_status == Job.Status.COMPLETED:
        return Action.COMPLETED
    return Action.STATUS_CHANGED if from_status else Action.BOOKED


def job_events(job):
    """The job's trail, oldest first (one query)."""
    return list(JobEvent.objects.filter(job=job).select_related("by").order_by("at", "pk"))


def consent_event_record(*, customer_id, action, by=None, via=Via.PAGE, note="", now=None):
    return ConsentEvent.objects.create(
        customer_id=customer_id, action=action, at=now or timezone.now(), by=by, via=via, note=note
    )


def import_changes_record(*, kind, records, by, via):
    """The import's part of the trail (customers/importing.py): jobs booked or moved to another status, customers
    opted out of contact or back in. `records` are the rows the import wrote, each with the row as it was before
    (`previous`, None for a new one). Set-based: per batch, a lookup of the ids and an insert."""
    now = timezone.now()
    if kind == "jobs":
        moves = {}
        for record in records:
            before = record.previous["status"] if record.previous else ""
            after = record.fields.get("status", before or Job.Status.SCHEDULED)
            if after != before:
                moves[record.external_id] = (before, after)
        _write_events(Job, JobEvent, moves, lambda pk, before, after: JobEvent(
            job_id=pk, action=_action(before, after), at=now, by=by, via=via, from_status=before, to_status=after,
        ))
    elif kind == "customers":
        moves = {}
        for record in records:
            before = bool(record.previous and record.previous["contact_opt_out"])
            after = record.fields.get("contact_opt_out", before)
            if after != before:
                moves[record.external_id] = (before, after)
        _write_events(Customer, ConsentEvent, moves, lambda pk, before, after: ConsentEvent(
            customer_id=pk, at=now, by=by, via=via,
            action=ConsentEvent.Action.CONTACT_OPT_OUT if after else ConsentEvent.Action.CONTACT_OPT_IN,
        ))


def _write_events(model, event_model, moves, event, batch=2000):
    external_ids = list(moves)
    for start in range(0, len(external_ids), batch):
        ids = model.objects.filter(external_id__in=external_ids[start:start + batch]).values_list("external_id", "pk")
        event_model.objects.bulk_create([event(pk, *moves[external_id]) for external_id, pk in ids])
