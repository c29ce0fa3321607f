"""A callback's classification after diagnosis (issue 23; the rest lives in callbacks/recalls): what it means for
the root cause and the reverse (pure rules), and applying it to a locked callback inside the caller's transaction
(the callback's fields, its revisit's charge, the timeline). Shared by classifying (recalls/services.py) and by
resolving a potential callback (services.callback_resolve), so it imports neither."""

from django.core.exceptions import ValidationError

from customers.services import job_set_no_charge

from .models import Callback, CallbackEvent, Classification

RootCause = Callback.RootCause

# The classifications a diagnosis can give (not "confirmed" or "potential", which are how a callback is logged).
OUTCOMES = (Classification.OUR_WORK, Classification.WARRANTY_PART, Classification.NEW_PROBLEM)


def classification_for(root_cause):
    """The classification a root cause implies: an unrelated new problem is not a callback, a faulty part is the
    manufacturer's, anything else is our work."""
    if root_cause == RootCause.UNRELATED:
        return Classification.NEW_PROBLEM
    if root_cause == RootCause.FAULTY_PART:
        return Classification.WARRANTY_PART
    return Classification.OUR_WORK


def check_root_cause(callback, root_cause):
    """Refuse a root cause that contradicts how the callback was classified: changing that is a manager's
    reclassification, with a reason, not a side effect of resolving it."""
    if callback.classification in (Classification.CONFIRMED, Classification.POTENTIAL):
        return
    if classification_for(root_cause) != callback.classification:
        raise ValidationError({"root_cause": (
            f"This callback was classified “{callback.get_classification_display()}”; that root cause contradicts "
            "it. A manager reclassifies the callback (with a reason) first."
        )})


def root_cause_after(callback, classification, root_cause=""):
    """The root cause a resolved callback keeps when (re)classified: the one the classification implies, or
    `root_cause` for our work; unchanged while it is not resolved (it has none)."""
    if not callback.root_cause:
        return ""
    if classification == Classification.NEW_PROBLEM:
        return RootCause.UNRELATED
    if classification == Classification.WARRANTY_PART:
        return RootCause.FAULTY_PART
    if root_cause:
        if classification_for(root_cause) != Classification.OUR_WORK:
            raise ValidationError({"root_cause": "Our work needs a root cause of ours (workmanship, misdiagnosis…)."})
        return root_cause
    if classification_for(callback.root_cause) != Classification.OUR_WORK:
        raise ValidationError({"root_cause": "The callback is resolved: choose the root cause of our work."})
    return callback.root_cause

FIELDS = ["classification", "classified_at", "classified_by", "root_cause", "faulty_part", "part_supplier"]


def _name(user):
    return (user.get_full_name() or user.username) if user is not None else "nobody"


def apply_classification(callback, classification, *, by, now, reason="", root_cause="", reclassified=False):
    """Set the classification (and the root cause it implies once resolved), make the revisit billable for a new
    problem (no charge again when a manager takes that back), and put it on the timeline. Returns the fields
    changed; the caller saves them."""
    before = callback.classification
    callback.root_cause = root_cause_after(callback, classification, root_cause)
    callback.classification = classification
    callback.classified_at = now
    callback.classified_by = by
    label = Classification(classification).label
    note = f"{label}. {reason}".strip() if not reclassified else (
        f"{Classification(before).label} → {label}. {reason}".strip())
    action = CallbackEvent.Action.RECLASSIFIED if reclassified else CallbackEvent.Action.CLASSIFIED
    CallbackEvent.objects.create(callback=callback, action=action, by=by, at=now, note=note)
    revisit = callback.revisit_job
    if revisit is not None:
        why = f"callback #{callback.pk} {'reclassified' if reclassified else 'classified'} by {_name(by)}: {note}"
        if classification == Classification.NEW_PROBLEM and revisit.no_charge:
            job_set_no_charge(job=revisit, no_charge=False, by=by, reason=f"a new problem, {why}", now=now)
        elif before == Classification.NEW_PROBLEM and not revisit.no_charge:
            job_set_no_charge(job=revisit, no_charge=True, by=by, reason=f"a callback after all, {why}", now=now)
    return FIELDS
