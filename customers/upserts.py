"""Records from the API (and, later, webhooks) written through the CSV import's code path: the same columns,
choices, aliases, references and checks per kind (customers/importing.py), read from JSON instead of a file.

A record is a dict of the kind's column keys; `row` in its errors is the record's index and `column` the field.
"""

from django.db import transaction

from servicedesk.audit import Via

from .importing import CUSTOMERS, KINDS, ImportPlan, Record, RowError, apply_plan, finish_plan


def plan_records(*, kind, records, refuses_bookings=True):
    """What writing `records` (the API's: dicts of field name -> value, the fields the kind's file columns are,
    by their keys) would do, without writing: the same checks, choices, aliases and references as a file."""
    spec = KINDS[kind]
    plan = ImportPlan(kind=spec, api=True, refuses_bookings=refuses_bookings)
    columns = {column.key: column for column in spec.columns}
    keys = list(records[0]) if records else []
    plan.columns = [(columns[key], key, index) for index, key in enumerate(keys) if key in columns]
    for index, values in enumerate(records):
        record = Record(row=index, cells=[])
        unknown = [key for key in values if key not in columns]
        for key in unknown:
            plan.errors.append(RowError(index, f"is not a field of {spec.name}", key))
        if not unknown and set(values) != set(keys):
            # One set of fields per request, as a file has one header: a field left out is left alone, and
            # "left out by some records only" would be read as cleared for them.
            other = sorted(set(values) ^ set(keys))
            plan.errors.append(RowError(index, f"every record of a request gives the same fields as the first "
                                               f"(this one differs in: {', '.join(other)})"))
            continue
        for column in spec.columns:
            if column.required and column.key not in values:
                plan.errors.append(RowError(index, "is required", column.key))
        if spec is CUSTOMERS and not {"name", "first_name", "last_name"} & values.keys():
            plan.errors.append(RowError(index, "is required (or first_name and last_name)", "name"))
        for key, value in values.items():
            if key in columns:
                try:
                    record.raw[key] = _api_text(value)
                except ValueError as exc:
                    plan.errors.append(RowError(index, str(exc), key))
                    record.raw[key] = ""
        record.raw.update({key: "" for key in keys if key not in record.raw})
        plan.records.append(record)
    if plan.errors:
        plan.errors.sort(key=lambda error: error.row)
        return plan
    return finish_plan(plan)


def _api_text(value):
    """A JSON value as the text a file's cell would hold, for the same parsers: true -> "yes", 12 -> "12"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "; ".join(value)
    raise ValueError("must be text, a number, true or false, or null")


def apply_records(*, kind, records, by=None, via=Via.API, refuses_bookings=True):
    """The API's upsert of one or many records, all or nothing: raises ImportRejected, writing nothing, with every
    error by record index and field. What it changes is on the trail as through `via`, by `by` (a manager's session;
    None for an integration's token). A new booking for a do-not-service customer is refused, as job_book refuses
    it, where a file's is imported and flagged (customers.importing); `refuses_bookings=False` for records that
    report a booking already made in the dispatch system (its webhooks), which are flagged as a file's are."""
    with transaction.atomic():
        return apply_plan(plan_records(kind=kind, records=records, refuses_bookings=refuses_bookings), by=by,
                          via=via)
