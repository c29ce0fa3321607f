"""Warranty part claims (issue 23): opened once per callback when a manufacturer's part under warranty is found
(the root cause "faulty part", or the classification), then to send → sent → approved → credited, or denied with
the reason. Every change is on the callback's timeline. A sibling of services.py, which opens claims through it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicedesk import roles

from .models import CallbackEvent, WarrantyClaim

Status = WarrantyClaim.Status

# status -> the statuses it may move to
NEXT = {
    Status.TO_SEND: {Status.SENT},
    Status.SENT: {Status.APPROVED, Status.DENIED},
    Status.APPROVED: {Status.CREDITED, Status.DENIED},
    Status.CREDITED: set(),
    Status.DENIED: set(),
}


def _event(claim, *, by, now, note):
    CallbackEvent.objects.create(callback_id=claim.callback_id, action=CallbackEvent.Action.CLAIM, by=by, at=now,
                                 note=note)


def claim_open(*, callback, by, now=None):
    """The callback's claim, opened from its part and supplier when it has none: exactly one per callback, however
    often the part is found (resolved again after a reopen, classified and resolved). Inside the caller's
    transaction, with the callback locked."""
    now = now or timezone.now()
    claim, created = WarrantyClaim.objects.get_or_create(
        callback=callback,
        defaults={"part_name": callback.faulty_part, "supplier": callback.part_supplier,
                  "rma_number": callback.rma_reference, "created_at": now, "updated_at": now, "updated_by": by},
    )
    if created:
        _event(claim, by=by, now=now, note=f"Warranty claim opened: {claim.part_name} from {claim.supplier}, to send.")
    return claim


def claim_update(*, claim, by, status, confirm_credit=False, now=None, **details):
    """Record the claim's details and move it on (or leave its status as it is). Sent needs the date and the RMA or
    claim number; denied the reason; credited the credit received, which asks for confirmation when larger than
    expected."""
    now = now or timezone.now()
    if not roles.is_office(by):
        raise ValidationError("Only the office works warranty claims.")
    with transaction.atomic():
        claim = WarrantyClaim.objects.select_for_update().get(pk=claim.pk)
        before = claim.status
        if status != before and status not in NEXT[before]:
            allowed = ", ".join(Status(value).label.lower() for value in NEXT[before]) or "nothing (it is settled)"
            raise ValidationError({"status": f"A claim {claim.get_status_display().lower()} can move to {allowed}."})
        for name, value in details.items():
            setattr(claim, name, value.strip() if isinstance(value, str) else value)
        claim.status = status
        errors = {}
        if not claim.part_name or not claim.supplier:
            errors["part_name"] = "A claim needs the part and its supplier."
        if status == Status.SENT and before != Status.SENT:
            claim.sent_on = claim.sent_on or timezone.localdate(now)
            if not claim.rma_number:
                errors["rma_number"] = "Write the RMA or claim number the supplier gave."
        if status in (Status.APPROVED, Status.DENIED) and before != status:
            claim.answered_on = timezone.localdate(now)
        if status == Status.DENIED and not claim.denial_reason:
            errors["denial_reason"] = "Say why the claim was denied."
        if status == Status.CREDITED:
            if claim.credit_received is None:
                errors["credit_received"] = "Write the credit received."
            elif (claim.expected_credit is not None and claim.credit_received > claim.expected_credit
                  and not confirm_credit):
                errors["credit_received"] = (f"${claim.credit_received} is more than the ${claim.expected_credit} "
                                             "expected: tick “confirm” if that is right.")
            claim.credited_on = claim.credited_on or timezone.localdate(now)
        if errors:
            raise ValidationError(errors)
        claim.updated_at, claim.updated_by = now, by
        claim.save()
        moved = f"{Status(before).label} → {claim.get_status_display()}" if before != status else "Details updated"
        extra = {Status.DENIED: f": {claim.denial_reason}", Status.CREDITED: f": ${claim.credit_received} received",
                 Status.SENT: f", RMA {claim.rma_number}"}.get(status, "") if before != status else ""
        _event(claim, by=by, now=now, note=f"Warranty claim ({claim.part_name}): {moved}{extra}.")
    return claim
