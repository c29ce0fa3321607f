"""The audit trail's shared words: through which door a change came (`Via`), and the record of a manager's edit
of a setting (`setting_changes_record`).

The trail itself is the apps' event rows, each written by the service that makes the change, in its transaction
(CallbackEvent, RecommendationEvent, JobEvent, ConsentEvent, FollowUpCallEvent); settings belong to no customer,
so their edits are kept here. A base module: it imports no app.
"""

from django.utils import timezone

from .models import SettingChange, Via

__all__ = ["Via", "setting_changes", "setting_changes_record"]


def setting_changes_record(*, setting, by, changes, via=Via.PAGE, now=None):
    """One row per item whose value changed; `changes` is {item: (before, after)} as the manager reads them.
    Call it inside the service's transaction, after validating."""
    now = now or timezone.now()
    rows = [
        SettingChange(setting=setting, item=str(item)[:100], before=_text(before), after=_text(after), at=now, by=by,
                      via=via)
        for item, (before, after) in changes.items()
        if before != after
    ]
    return SettingChange.objects.bulk_create(rows)


def setting_changes(setting, *, limit=20):
    """The newest edits of one setting, for the page that edits it (one query)."""
    return list(SettingChange.objects.filter(setting=setting).select_related("by")[:limit])


def _text(value):
    return "" if value is None else str(value)[:200]
