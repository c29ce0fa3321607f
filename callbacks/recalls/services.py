"""Classifying a callback after diagnosis (issue 23): the technician or the office classifies a potential callback;
a manager reclassifies one already classified, with a reason. Keyword-only, atomic, like callbacks.services."""

from django.core.exceptions import ValidationError
from django.db import transaction

from servicedesk import roles

from .. import services as callback_services
from ..claims import claim_open
from ..classification import OUTCOMES, apply_classification
from ..models import Classification


def callback_classify(*, callback, by, classification, reason="", faulty_part="", part_supplier="", root_cause="",
                      now=None):
    """Classify a potential callback (technician or office), or reclassify a classified one (managers only, with
    a reason). A warranty part needs its evidence; a new problem makes the revisit billable, with who and why."""
    now = callback_services._now(now)
    reason = (reason or "").strip()
    if classification not in OUTCOMES:
        raise ValidationError({"classification": "Choose: our work, a manufacturer's part under warranty, or a new "
                                                 "problem."})
    with transaction.atomic():
        callback = callback_services._lock(callback)
        reclassified = callback.classification != Classification.POTENTIAL
        if reclassified:
            if not roles.has_role(by, roles.MANAGER):
                raise ValidationError("Only a manager reclassifies a callback already classified.")
            if not reason:
                raise ValidationError({"reason": "Say why the callback is reclassified."})
            if classification == callback.classification:
                raise ValidationError({"classification": "The callback is already classified so."})
        elif not (roles.is_office(by) or roles.has_role(by, roles.TECHNICIAN)):
            raise ValidationError("Only the technician or the office classifies a callback.")
        if classification == Classification.NEW_PROBLEM and not reason:
            raise ValidationError({"reason": "Say what was found: the revisit becomes billable."})
        fields = list(apply_classification(callback, classification, by=by, now=now, reason=reason,
                                           root_cause=root_cause, reclassified=reclassified))
        if classification == Classification.WARRANTY_PART:
            # Under 1% of parts arrive faulty, yet most callbacks get blamed on them: the evidence first.
            part = (faulty_part or callback.faulty_part).strip()
            supplier = (part_supplier or callback.part_supplier).strip()
            missing = {name: f"A part under warranty needs its {label}."
                       for name, label, value in (("faulty_part", "part name or number", part),
                                                  ("part_supplier", "supplier", supplier)) if not value}
            if missing:
                raise ValidationError(missing)
            callback.faulty_part, callback.part_supplier = part, supplier
        callback_services._save(callback, now, fields)
        if classification == Classification.WARRANTY_PART:
            claim_open(callback=callback, by=by, now=now)
    return callback
