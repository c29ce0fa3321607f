"""Recall windows by job kind (issue 23): a new problem on a job completed within its kind's window is presumed a
callback; outside it the log form proposes "potential" and says why. Separate from the repeat window
(CALLBACK_REPEAT_WINDOW_DAYS), which stays as it is."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Job
from servicedesk import roles
from servicedesk.audit import setting_changes_record

from .models import DEFAULT_RECALL_DAYS, RecallWindow

# The kinds a callback can be about (a callback revisit is reopened, never logged against).
KINDS = [kind for kind in Job.Kind if kind != Job.Kind.CALLBACK_REVISIT]


def recall_windows():
    """{job kind: days or None (no window)}, the table over the defaults (one query)."""
    windows = {kind: DEFAULT_RECALL_DAYS.get(kind) for kind in KINDS}
    windows.update(RecallWindow.objects.values_list("kind", "days"))
    return windows


def outside_window(job, *, now=None, windows=None):
    """Why a new problem on `job` is not presumed a callback (a sentence), or "" when it is."""
    if job is None or job.kind not in KINDS:
        return ""
    days = (windows or recall_windows()).get(job.kind)
    if days is None:
        return (f"{job.get_kind_display()} jobs have no recall window: proposed as potential until the technician "
                "finds the cause.")
    done = job.completed_at or job.scheduled_end
    if done is None:
        return ""
    age = (now or timezone.now()) - done
    if age <= timedelta(days=days):
        return ""
    kind = job.get_kind_display().lower()
    return (f"This {kind} was completed {age.days} days ago, past its {days}-day recall window: proposed as "
            "potential until the technician finds the cause.")


def _label(days):
    return "none" if days is None else f"{days} day{'' if days == 1 else 's'}"


def recall_windows_set(*, windows, by, now=None):
    """Managers set the windows ({kind: days or None}); callbacks already logged keep their classification."""
    if not roles.has_role(by, roles.MANAGER):
        raise ValidationError("Only managers change the recall windows.")
    if any(days is not None and days < 1 for days in windows.values()):
        raise ValidationError("A recall window is at least a day (or empty for none).")
    now = now or timezone.now()
    current = recall_windows()
    with transaction.atomic():
        setting_changes_record(setting="recall_windows", by=by, now=now, changes={
            Job.Kind(kind).label: (_label(current[kind]), _label(days)) for kind, days in windows.items()})
        for kind, days in windows.items():
            RecallWindow.objects.update_or_create(kind=kind, defaults={"days": days, "updated_by": by,
                                                                       "updated_at": now})
