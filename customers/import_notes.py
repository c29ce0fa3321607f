"""What an import means beyond its rows, said in the preview before anything is written.

`customers` imports no other app, yet importing jobs completed before the import matters to them (no follow-up
call, no review request for history). Each app registers a note here from its AppConfig.ready, as the customer
history and the completion rules do: `note(plan, now)` returns a sentence for the manager, or None.
"""

_notes = []


def register(note):
    if note not in _notes:
        _notes.append(note)
    return note


def import_notes(plan, now):
    return [text for text in (note(plan, now) for note in _notes) if text]


def history_jobs(plan, now, days_after):
    """The new completed jobs of a jobs file whose `days_after(kind)` days (None: nothing due) after completion had
    passed before the import: history, whose follow-up was the old system's."""
    if plan.kind.name != "jobs":
        return 0
    count = 0
    for record in plan.records:
        fields = record.fields
        if record.status != "new" or fields.get("status") != "completed" or not fields.get("completed_at"):
            continue
        days = days_after(fields.get("kind"))
        if days is not None and (now - fields["completed_at"]).total_seconds() >= days * 86400:
            count += 1
    return count
