"""CSV import of customers, sites, equipment and jobs from the dispatch system the contractor already uses.

Four kinds of file, each keyed by the dispatch system's id (`external_id`), referring to each other by those ids
(site -> customer, equipment -> site, job -> site, customer, equipment). Import them in that order.

Rules a manager can rely on:
- The whole file is validated first and every problem is reported with its spreadsheet row number (the header is
  row 1); if there is any, nothing is written.
- Rows are upserted by external id in a few set-based statements, so importing the same file twice changes nothing
  and 10,000 rows take seconds, not minutes.
- Only the columns the file has are written: an export without a "Notes" column leaves the notes alone.

`plan_import` reads and validates without writing (the preview and `--dry-run`); `apply_import` does the same inside
one transaction and writes. Both are the one code path for the upload page and the `import_csv` command; the API's
records take the same path from their own reader (customers/upserts.py) through `finish_plan` and `apply_plan`.
"""

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from servicedesk import roles
from servicedesk.audit import Via
from servicedesk.notifications import managers, notify
from servicedesk.spreadsheets import csv_writer

from .events import import_changes_record
from .models import Customer, Equipment, Job, Site
from .phones import phone_digits
from .services import CompletionRefused, jobs_complete_elsewhere, jobs_completed

LOOKUP_BATCH = 2000
WRITE_BATCH = 1000
PREVIEW_ROWS = 10


class ImportRejected(Exception):
    """The file has errors; nothing was written."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(f"{len(errors)} error(s), first: {errors[0]}")


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1, the first record row 2
    message: str
    column: str = ""

    def __str__(self):
        where = f"Row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class Record:
    row: int
    cells: list
    external_id: str = ""
    fields: dict = field(default_factory=dict)  # model attname -> value to write
    extra: dict = field(default_factory=dict)  # parsed cells that are not model fields (references, first name...)
    raw: dict = field(default_factory=dict)  # column key -> the cell as the file has it, for messages
    helpers: set | None = None  # technician ids, for jobs when the file has a helpers column
    status: str = ""  # "new", "updated" or "unchanged"
    becomes_completed: bool = False  # a job completed by this write (in the dispatch system, not on our page)
    previous: dict | None = None  # the row as it is before the import, None for a new one


@dataclass
class ImportPlan:
    kind: "ImportKind"
    errors: list = field(default_factory=list)
    records: list = field(default_factory=list)
    columns: list = field(default_factory=list)  # the matched columns, in file order: (Column, header, index)
    ignored_headers: list = field(default_factory=list)
    update_fields: list = field(default_factory=list)
    api: bool = False  # records from the API: `row` is the record's index and `column` the field's name
    # The API is asked before a booking is made, so it refuses one for a do-not-service customer; a file or a
    # webhook reports one already made in the dispatch system, which is imported and flagged.
    refuses_bookings: bool = False
    # Jobs booked in the dispatch system for a do-not-service customer: imported, flagged and told to managers.
    do_not_service_bookings: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors

    @property
    def counts(self):
        tally = Counter(record.status for record in self.records)
        return {"new": tally["new"], "updated": tally["updated"], "unchanged": tally["unchanged"]}

    def summary(self):
        counts = self.counts
        noun = self.kind.noun(len(self.records))
        return (
            f"{len(self.records):,} {noun}: {counts['new']:,} new, {counts['updated']:,} updated, "
            f"{counts['unchanged']:,} unchanged"
        )

    def preview(self, limit=PREVIEW_ROWS):
        """The first rows as the file has them, with what the import will do to each."""
        return [
            {"row": record.row, "status": record.status, "cells": [record.cells[index] for _, _, index in self.columns]}
            for record in self.records[:limit]
        ]


# Cell parsers: take the stripped cell text, return the value or raise ValueError with a message for the manager.

_TRUE = {"yes", "y", "true", "t", "1", "x"}
_FALSE = {"", "no", "n", "false", "f", "0"}
_DATETIME_FORMATS = (
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %I:%M %p", "%m/%d/%y %H:%M", "%Y-%m-%d %I:%M %p", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d")
_DATE_HINT = "use 2024-03-05 or 03/05/2024"
_DATETIME_HINT = "use 2024-03-05 08:00 or 03/05/2024 8:00 AM"


def _text(value):
    return value


def _boolean(value):
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def _email(value):
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(f"{value!r} is not an e-mail address") from None
    return value


def _check_year(value, original):
    if not 1900 <= value.year <= 2100:
        raise ValueError(f"{original!r} has an unlikely year")
    return value


def _date(value):
    if not value:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return _check_year(datetime.strptime(value, fmt).date(), value)
        except ValueError as exc:
            if "unlikely year" in str(exc):
                raise
    raise ValueError(f"{value!r} is not a date ({_DATE_HINT})")


def _datetime(value):
    """A moment; without a UTC offset it is local time (settings.TIME_ZONE), as dispatch exports write it."""
    if not value:
        return None
    text = re.sub(r"(?i)\s*([ap])\.?m\.?$", r" \1M", value)
    parsed = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.combine(datetime.strptime(text, fmt).date(), time())
                    break
                except ValueError:
                    continue
    if parsed is None:
        raise ValueError(f"{value!r} is not a date and time ({_DATETIME_HINT})")
    _check_year(parsed, value)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _choice_key(text):
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _choice(choices, extra_aliases=None, blank=None):
    """A parser for a TextChoices field: accepts the value, the label, or a trade alias, in any case."""
    known = {}
    for value, label in choices.choices:
        known[_choice_key(value)] = value
        known[_choice_key(label)] = value
    for alias, value in (extra_aliases or {}).items():
        known[_choice_key(alias)] = value
    accepted = ", ".join(label.lower() for _, label in choices.choices)

    def parse(text):
        if not text:
            if blank is None:
                raise ValueError("is required")
            return blank
        try:
            return known[_choice_key(text)]
        except KeyError:
            raise ValueError(f"{text!r} is not one of: {accepted}") from None

    parse.accepted = accepted
    return parse


def _people(value):
    return [name.strip() for name in re.split(r"[;,|]", value) if name.strip()]


# Column specifications.


def _header_key(header):
    """'Customer #', 'customer_id', ' CUSTOMER-ID ' -> 'customer number' / 'customer id'."""
    return re.sub(r"[^a-z0-9]+", " ", header.replace("\ufeff", "").lower().replace("#", " number ")).strip()


@dataclass(frozen=True)
class Column:
    key: str  # model attname it writes, or a name for a reference / helper value
    label: str  # the header we write in examples
    aliases: tuple = ()
    required: bool = False
    parse: object = _text
    writes: bool = True  # False: the value is used by the kind's own logic (a reference, a first name...)
    help: str = ""

    @property
    def accepted_headers(self):
        return (self.label, *self.aliases)

    @property
    def keys(self):
        return {_header_key(header) for header in self.accepted_headers}

    @property
    def notes(self):
        accepted = getattr(self.parse, "accepted", "")
        return self.help or (f"One of: {accepted}." if accepted else "")


def _ref(key, label, aliases, help_text, required=True):
    return Column(key, label, aliases, required=required, writes=False, help=help_text)


CUSTOMER_REF = ("customer id", "customer_id", "customer #", "customer number", "customer no", "account number",
                "account id", "client id")
SITE_REF = ("site id", "site_id", "site #", "location id", "location #", "service location id", "property id",
            "address id")
EQUIPMENT_REF = ("equipment id", "equipment_id", "equipment #", "asset id", "asset #")


@dataclass(frozen=True)
class ImportKind:
    name: str
    model: type
    singular: str
    columns: tuple
    example: tuple  # rows of {column key: cell}

    def noun(self, count):
        return self.singular if count == 1 else self.name

    @property
    def id_column(self):
        return self.columns[0]


CUSTOMERS = ImportKind(
    "customers", Customer, "customer",
    (
        Column("external_id", "Customer ID", CUSTOMER_REF + ("id", "external id"), required=True),
        Column("name", "Name", ("customer name", "full name", "display name", "company name", "client name"),
               help="Or First name and Last name columns."),
        Column("first_name", "First name", ("first", "given name"), writes=False),
        Column("last_name", "Last name", ("last", "surname", "family name"), writes=False),
        Column("phone", "Phone", ("phone number", "mobile", "mobile phone", "cell", "cell phone", "primary phone")),
        Column("alt_phone", "Other phone", ("alt phone", "alternate phone", "home phone", "work phone",
                                            "secondary phone", "phone 2")),
        Column("email", "E-mail", ("email", "email address", "e-mail address", "primary email"), parse=_email),
        Column("alt_email", "Other e-mail", ("alt email", "alternate email", "secondary email", "email 2"),
               parse=_email),
        Column("preferred_contact", "Preferred contact", ("preferred contact method", "contact method",
                                                          "contact preference"),
               parse=_choice(Customer.ContactMethod, {"call": "phone", "sms": "text", "e mail": "email"},
                             blank=Customer.ContactMethod.PHONE)),
        Column("notes", "Notes", ("customer notes", "comments")),
        Column("contact_opt_out", "Do not contact", ("opted out", "opt out", "contact opt out", "do not call",
                                                     "unsubscribed"),
               parse=_boolean, help="yes or no"),
    ),
    (
        {"external_id": "C-1001", "name": "Grace Hopper", "phone": "(555) 010-2233", "email": "grace@example.com",
         "preferred_contact": "text", "notes": "Dog in the yard.", "contact_opt_out": "no"},
        {"external_id": "C-1002", "name": "Alan Turing", "phone": "555.010.4455", "alt_phone": "+1 555 010 7788",
         "preferred_contact": "phone", "contact_opt_out": "no"},
    ),
)

SITES = ImportKind(
    "sites", Site, "site",
    (
        Column("external_id", "Site ID", SITE_REF + ("id", "external id"), required=True),
        _ref("customer", "Customer ID", CUSTOMER_REF, "The customer's id in the customers file."),
        Column("label", "Label", ("site name", "location name", "name")),
        Column("street", "Street", ("address", "street address", "address 1", "address line 1", "street 1"),
               required=True),
        Column("unit", "Unit", ("address 2", "address line 2", "street 2", "apt", "suite")),
        Column("city", "City", ("town",), required=True),
        Column("state", "State", ("province", "region", "state province")),
        Column("postal_code", "Postal code", ("zip", "zip code", "postcode", "postal")),
        Column("site_type", "Site type", ("property type", "location type", "type"),
               parse=_choice(Site.SiteType, {"res": "residential", "residence": "residential", "home": "residential",
                                             "com": "commercial", "business": "commercial"},
                             blank=Site.SiteType.RESIDENTIAL)),
        Column("access_notes", "Access notes", ("notes", "access", "gate code", "site notes", "location notes")),
    ),
    (
        {"external_id": "S-2001", "customer": "C-1001", "label": "Home", "street": "12 Elm St", "city": "Springfield",
         "state": "IL", "postal_code": "62701", "site_type": "residential", "access_notes": "Gate code 1234"},
        {"external_id": "S-2002", "customer": "C-1002", "street": "400 Main St", "unit": "Suite 2",
         "city": "Springfield", "state": "IL", "postal_code": "62704", "site_type": "commercial"},
    ),
)

EQUIPMENT = ImportKind(
    "equipment", Equipment, "equipment",
    (
        Column("external_id", "Equipment ID", EQUIPMENT_REF + ("id", "external id"), required=True),
        _ref("site", "Site ID", SITE_REF, "The site's id in the sites file."),
        Column("kind", "Kind", ("type", "equipment type", "category", "equipment kind"), required=True,
               parse=_choice(Equipment.Kind, {
                   "ac": "air_conditioner", "a c": "air_conditioner", "central air": "air_conditioner",
                   "condenser": "air_conditioner", "tank water heater": "water_heater",
                   "tankless": "tankless_water_heater",
                   "softener": "water_softener", "sewer": "sewer_line", "main line": "sewer_line",
                   "panel": "electrical_panel", "breaker panel": "electrical_panel",
               })),
        Column("make", "Make", ("brand", "manufacturer")),
        Column("model_number", "Model", ("model number", "model no")),
        Column("serial_number", "Serial number", ("serial", "serial no", "sn")),
        Column("installed_on", "Installed on", ("install date", "installed", "installation date", "date installed"),
               parse=_date, help=_DATE_HINT),
        Column("notes", "Notes", ("equipment notes", "comments")),
    ),
    (
        {"external_id": "E-3001", "site": "S-2001", "kind": "furnace", "make": "Carrier", "model_number": "59SC5",
         "serial_number": "2417A12345", "installed_on": "2016-10-03"},
        {"external_id": "E-3002", "site": "S-2001", "kind": "air conditioner", "make": "Trane",
         "model_number": "XR14", "installed_on": "06/15/2018"},
    ),
)

JOBS = ImportKind(
    "jobs", Job, "job",
    (
        Column("external_id", "Job ID", ("job id", "job_id", "job #", "job number", "job no", "work order",
                                         "work order #", "work order number", "id", "external id"), required=True),
        _ref("customer", "Customer ID", CUSTOMER_REF, "Optional: taken from the site when left out.", required=False),
        _ref("site", "Site ID", SITE_REF, "The site's id in the sites file."),
        _ref("equipment", "Equipment ID", EQUIPMENT_REF, "Optional: the main equipment worked on.", required=False),
        Column("kind", "Kind", ("job type", "type", "job kind", "job category"),
               parse=_choice(Job.Kind, {
                   "service": "service_call", "repair": "service_call", "demand service": "service_call",
                   "tune up": "maintenance", "pm": "maintenance", "membership visit": "maintenance",
                   "installation": "install", "replacement": "install", "quote": "estimate", "sales": "estimate",
                   "callback": "callback_revisit", "recall": "callback_revisit",
               }, blank=Job.Kind.SERVICE_CALL)),
        Column("status", "Status", ("job status",),
               parse=_choice(Job.Status, {
                   "dispatched": "scheduled", "open": "scheduled", "unscheduled": "scheduled",
                   "working": "in_progress", "on site": "in_progress", "started": "in_progress",
                   "complete": "completed", "done": "completed", "finished": "completed", "canceled": "cancelled",
               }, blank=Job.Status.SCHEDULED)),
        Column("scheduled_start", "Scheduled start", ("start", "start time", "start date", "scheduled date",
                                                      "appointment start", "scheduled", "date"),
               required=True, parse=_datetime, help=_DATETIME_HINT + "; local time"),
        Column("scheduled_end", "Scheduled end", ("end", "end time", "end date", "appointment end"),
               parse=_datetime, help="When blank, the window ends when it starts."),
        _ref("lead_technician", "Lead technician", ("technician", "lead tech", "primary technician", "tech",
                                                    "assigned technician", "assigned to"),
             "User name, e-mail or full name of a technician.", required=False),
        _ref("helpers", "Helpers", ("helper", "additional technicians", "other technicians", "crew"),
             "Technicians separated by ; or ,", required=False),
        Column("completed_at", "Completed at", ("completed", "completed on", "completion date", "completed date",
                                                "completion time", "closed at"),
               parse=_datetime, help="Required when the status is completed."),
        Column("summary", "Summary", ("work order summary", "description", "job summary", "job description",
                                      "work performed")),
        Column("invoice_number", "Invoice number", ("invoice", "invoice #", "invoice no", "invoice id")),
        Column("no_charge", "No charge", ("no charge job", "nc", "warranty", "free"), parse=_boolean,
               help="yes or no"),
    ),
    (
        {"external_id": "J-4001", "customer": "C-1001", "site": "S-2001", "equipment": "E-3001",
         "kind": "maintenance", "status": "completed", "scheduled_start": "2024-10-01 08:00",
         "scheduled_end": "2024-10-01 10:00", "lead_technician": "technician", "completed_at": "2024-10-01 09:40",
         "summary": "Fall tune-up; flame sensor cleaned.", "invoice_number": "INV-50001", "no_charge": "no"},
        {"external_id": "J-4002", "customer": "C-1002", "site": "S-2002", "kind": "service call",
         "status": "scheduled", "scheduled_start": "03/05/2025 1:00 PM", "scheduled_end": "03/05/2025 3:00 PM",
         "lead_technician": "technician", "summary": "No heat upstairs.", "no_charge": "no"},
    ),
)

KINDS = {kind.name: kind for kind in (CUSTOMERS, SITES, EQUIPMENT, JOBS)}


def column_type(column):
    """What a column holds, for the API's schema: text, boolean, date, datetime, email, choice or list."""
    if column.key == "helpers":
        return "list"
    if hasattr(column.parse, "accepted"):
        return "choice"
    return {_boolean: "boolean", _date: "date", _datetime: "datetime", _email: "email"}.get(column.parse, "text")
KIND_CHOICES = [(name, name.capitalize()) for name in KINDS]


def example_csv(kind):
    """A small CSV of the kind, with every column, that imports cleanly in order customers, sites, equipment, jobs."""
    spec = KINDS[kind]
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\r\n")
    writer.writerow([column.label for column in spec.columns])
    for row in spec.example:
        writer.writerow([row.get(column.key, "") for column in spec.columns])
    return out.getvalue()


# Reading the file.


def _decode(data):
    """The file's text. Dispatch systems and spreadsheets write UTF-8, often with a byte-order mark; anything else
    (UTF-16 'Unicode text', Windows-1252 'CSV' from old Excel) would import mangled names, so it is refused."""
    if not data or not data.strip():
        raise ImportRejected([RowError(1, "The file is empty.")])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRejected([RowError(1, "The file is UTF-16 text. Save it as \"CSV UTF-8\" and upload it again.")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected([RowError(
            line, f"The file is not UTF-8 text (byte 0x{data[exc.start]:02X} cannot be read). "
                  "Save it as \"CSV UTF-8\" and upload it again.",
        )]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected([RowError(line, "The file is not CSV text (it holds NUL characters). "
                                             "Save it as \"CSV UTF-8\" and upload it again.")])
    return text


def _read_rows(text):
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # European spreadsheets write ';', some exports tabs
    # strict: an unclosed quote is an error, not the rest of the file swallowed into one cell
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ImportRejected([RowError(reader.line_num, f"The file is not valid CSV: {exc}.")]) from None
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise ImportRejected([RowError(1, "The file is empty.")])
    return rows


def _match_header(spec, header):
    by_key = {}
    for column in spec.columns:
        for key in column.keys:
            by_key[key] = column
    matched, ignored, errors, seen = [], [], [], {}
    for index, title in enumerate(header):
        column = by_key.get(_header_key(title))
        if column is None:
            if title.strip():
                ignored.append(title.strip())
            continue
        if column.key in seen:
            errors.append(RowError(1, f"Columns {seen[column.key]!r} and {title.strip()!r} both give the "
                                      f"{column.label.lower()}; keep one of them."))
            continue
        seen[column.key] = title.strip()
        matched.append((column, title.strip(), index))
    for column in spec.columns:
        if column.required and column.key not in seen:
            also = ", ".join(column.aliases[:4])
            errors.append(RowError(1, f"Missing required column {column.label!r} (also accepted: {also})."))
    if spec is CUSTOMERS and not {"name", "first_name", "last_name"} & seen.keys():
        errors.append(RowError(1, "Missing required column 'Name' (or 'First name' and 'Last name')."))
    return matched, ignored, errors


def _max_lengths(model):
    return {f.attname: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}


def _records_from_rows(spec, rows, matched, errors):
    """The file's rows as records holding their cells' text by column key; nothing parsed yet."""
    width = len(rows[0])
    records = []
    for offset, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines at the end of an export
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            errors.append(RowError(offset, f"The row has {len(cells)} cells but the header has {width}."))
            continue
        cells = cells + [""] * (width - len(cells))
        record = Record(row=offset, cells=cells)
        record.raw = {column.key: cells[index].strip() for column, _, index in matched}
        records.append(record)
    if not records and not errors:
        errors.append(RowError(1, "The file has a header but no rows."))
    return records


def _parse(plan):
    """Each record's text parsed by its column's rules (choices and their aliases, dates, lengths), the same for a
    file's rows and the API's records; duplicates of an id within the batch are refused."""
    spec, errors = plan.kind, plan.errors
    max_lengths = _max_lengths(spec.model)
    first_row_of = {}
    for record in plan.records:
        for column, title, _ in plan.columns:
            text = record.raw[column.key]
            if column.required and not text:
                errors.append(RowError(record.row, "is required", title))
                continue
            try:
                value = column.parse(text)
            except ValueError as exc:
                errors.append(RowError(record.row, str(exc), title))
                continue
            limit = max_lengths.get(column.key)
            if limit and isinstance(value, str) and len(value) > limit:
                errors.append(RowError(record.row, f"is {len(value)} characters long; at most {limit} fit", title))
                continue
            if column.writes:
                record.fields[column.key] = value
            else:
                record.extra[column.key] = value
        record.external_id = record.fields.pop("external_id", "")
        if record.external_id:
            if record.external_id in first_row_of:
                where = "record" if plan.api else "row"
                errors.append(RowError(record.row, f"{record.external_id!r} already appears in {where} "
                                                   f"{first_row_of[record.external_id]}",
                                       _where(plan, "external_id", spec.id_column.label)))
            else:
                first_row_of[record.external_id] = record.row


def _where(plan, key, label):
    """How an error names a field the check is about: the API's field name, or the file's column label."""
    return key if plan.api else label


# References between files, resolved in batches (one query per few thousand ids, never one per row).


def _batches(items, size=LOOKUP_BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lookup(model, external_ids, *fields):
    """{external_id: (pk, *fields)} for the ids that exist."""
    found = {}
    for batch in _batches({i for i in external_ids if i}):
        for external_id, *values in model.objects.filter(external_id__in=batch).values_list(
            "external_id", "pk", *fields
        ):
            found[external_id] = tuple(values)
    return found


def _resolve(records, key, model, errors, label, hint, *fields):
    """Replaces the reference in record.extra[key] by the referenced row (pk, *fields), or reports it unknown."""
    found = _lookup(model, (record.extra.get(key) for record in records), *fields)
    for record in records:
        ref = record.extra.get(key)
        if not ref:
            record.extra[key] = None
        elif ref in found:
            record.extra[key] = found[ref]
        else:
            record.extra[key] = None
            errors.append(RowError(record.row, f"no {model._meta.verbose_name} has id {ref!r}{hint}", label))


class _Technicians:
    """Finds technicians by user name, else e-mail, else full name: the ways dispatch exports write them."""

    def __init__(self):
        self.tiers = ({}, {}, {})
        users = get_user_model().objects.filter(groups__name=roles.TECHNICIAN, is_active=True)
        for pk, *names in users.values_list("pk", "username", "email", "first_name", "last_name"):
            username, email, first, last = names
            for tier, name in zip(self.tiers, (username, email, f"{first} {last}".strip()), strict=True):
                if name:
                    tier.setdefault(name.lower(), set()).add(pk)

    def find(self, name):
        """(pk, None) or (None, why)."""
        for tier in self.tiers:
            pks = tier.get(name.lower())
            if pks and len(pks) == 1:
                return next(iter(pks)), None
            if pks:
                return None, f"{name!r} matches more than one technician; use the user name"
        return None, f"{name!r} is not a technician (give a user name, e-mail or full name)"


def _label(plan, key):
    return next((title for column, title, _ in plan.columns if column.key == key), key)


def _resolve_sites(plan):
    _resolve(plan.records, "customer", Customer, plan.errors, _label(plan, "customer"),
             " (import the customers file first)")
    for record in plan.records:
        if record.extra["customer"]:
            record.fields["customer_id"] = record.extra["customer"][0]


def _resolve_equipment(plan):
    _resolve(plan.records, "site", Site, plan.errors, _label(plan, "site"), " (import the sites file first)")
    for record in plan.records:
        if record.extra["site"]:
            record.fields["site_id"] = record.extra["site"][0]


def _resolve_jobs(plan):
    records, errors = plan.records, plan.errors
    has = {column.key for column, _, _ in plan.columns}
    _resolve(records, "site", Site, errors, _label(plan, "site"), " (import the sites file first)", "customer_id")
    if "customer" in has:
        _resolve(records, "customer", Customer, errors, _label(plan, "customer"), " (import the customers file first)")
    if "equipment" in has:
        _resolve(records, "equipment", Equipment, errors, _label(plan, "equipment"),
                 " (import the equipment file first)", "site_id")
    technicians = _Technicians() if {"lead_technician", "helpers"} & has else None
    for record in records:
        site = record.extra.get("site")
        customer = record.extra.get("customer")
        if site:
            record.fields["site_id"] = site[0]
            record.fields["customer_id"] = site[1]
            if customer and customer[0] != site[1]:
                errors.append(RowError(record.row, f"site {record.raw['site']!r} belongs to another customer",
                                       _label(plan, "customer")))
        if "equipment" in has:
            equipment = record.extra.get("equipment")
            record.fields["equipment_id"] = equipment[0] if equipment else None
            if equipment and site and equipment[1] != site[0]:
                errors.append(RowError(record.row, "the equipment is at another site", _label(plan, "equipment")))
        if "lead_technician" in has:
            record.fields["lead_technician_id"] = None
            if record.extra["lead_technician"]:
                pk, why = technicians.find(record.extra["lead_technician"])
                if why:
                    errors.append(RowError(record.row, why, _label(plan, "lead_technician")))
                record.fields["lead_technician_id"] = pk
        if "helpers" in has:
            record.helpers = set()
            for name in _people(record.extra["helpers"]):
                pk, why = technicians.find(name)
                if why:
                    errors.append(RowError(record.row, why, _label(plan, "helpers")))
                elif pk != record.fields.get("lead_technician_id"):
                    record.helpers.add(pk)


# Checks across fields, made on the row as it will be after the import (file values over the current ones).


def _finish_customer(record, current, now, errors, plan):
    fields = record.fields
    if not fields.get("name"):  # the header has a name or first and last names (checked in _match_header)
        fields["name"] = " ".join(filter(None, (record.extra.get("first_name"), record.extra.get("last_name"))))
    if not fields["name"]:
        errors.append(RowError(record.row, "a name is required", _where(plan, "name", "Name")))
    for phone, digits in (("phone", "phone_digits"), ("alt_phone", "alt_phone_digits")):
        if phone in fields:
            fields[digits] = phone_digits(fields[phone])
    if "contact_opt_out" in fields:
        if not fields["contact_opt_out"]:
            fields["contact_opt_out_at"] = None
        elif current and current["contact_opt_out"] and current["contact_opt_out_at"]:
            fields["contact_opt_out_at"] = current["contact_opt_out_at"]  # keep when they first opted out
        else:
            fields["contact_opt_out_at"] = now


def _finish_job(record, current, now, errors, plan):
    fields = record.fields
    merged = {"status": Job.Status.SCHEDULED, "completed_at": None, "scheduled_end": None, **(current or {}), **fields}
    if merged["scheduled_end"] is None and merged.get("scheduled_start"):
        fields["scheduled_end"] = merged["scheduled_end"] = merged["scheduled_start"]
    start, end = merged.get("scheduled_start"), merged["scheduled_end"]
    if start and end and end < start:
        errors.append(RowError(record.row, "the scheduled end is before the scheduled start", _label(plan,
                                                                                                     "scheduled_end")))
    completed_at = _where(plan, "completed_at", "Completed at")
    if merged["status"] == Job.Status.COMPLETED and not merged["completed_at"]:
        errors.append(RowError(record.row, "a completed job needs its completion time", completed_at))
    if merged["status"] in (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS) and merged["completed_at"]:
        errors.append(RowError(record.row, f"has a completion time but its status is "
                                           f"{Job.Status(merged['status']).label.lower()}", completed_at))
    # Completed by this write, not on the technician's page: the completion rules are told (apply_plan).
    record.becomes_completed = merged["status"] == Job.Status.COMPLETED and (
        current is None or current["status"] != Job.Status.COMPLETED)


def _flag_do_not_service_bookings(plan, current):
    """A job the dispatch system booked for a do-not-service customer (new, or reopened) was booked there and cannot
    be refused here: it is imported and flagged, the preview says so, and the managers are told once it is in
    (the same check as customers.services.ensure_bookable, by the customer's flag). Every record carries the flag,
    so the upsert writes it; a job flagged before keeps it.

    The API is asked before the booking is made, so it answers as our own booking does (job_book): the record is
    refused, naming the job and the customer, and nothing of the request is written."""
    opened = (Job.Status.SCHEDULED, Job.Status.IN_PROGRESS)
    customer_of = {record.external_id: record.fields.get("customer_id", (current.get(record.external_id) or {})
                                                      .get("customer_id")) for record in plan.records}
    customer_ids = set(customer_of.values()) - {None}
    let_go = {}
    for batch in _batches(sorted(customer_ids)):
        let_go.update((row[0], row[1:]) for row in Customer.objects.filter(pk__in=batch, do_not_service=True)
                      .values_list("pk", "name", "external_id"))
    for record in plan.records:
        existing = current.get(record.external_id)
        status = record.fields.get("status", existing["status"] if existing else Job.Status.SCHEDULED)
        books = status in opened and (existing is None or existing["status"] not in opened)
        flagged = existing is not None and existing["booked_in_dispatch_for_do_not_service"]
        if books and customer_of[record.external_id] in let_go:
            if plan.refuses_bookings:
                name, customer = let_go[customer_of[record.external_id]]
                customer = f" (customer {customer!r})" if customer else ""
                plan.errors.append(RowError(record.row, (
                    f"job {record.external_id!r} cannot be booked: {name}{customer} is marked do-not-service, so "
                    "new work cannot be booked for them"), _booking_field(plan)))
                continue
            flagged = True
            plan.do_not_service_bookings.append(record)
        record.fields["booked_in_dispatch_for_do_not_service"] = flagged


def _booking_field(plan):
    """The field a refused booking is about: the customer named, else the site that names it, else the status that
    reopens the job."""
    given = {column.key for column, _, _ in plan.columns}
    return next((_label(plan, key) for key in ("customer", "site", "status") if key in given), "")


_RESOLVE = {"sites": _resolve_sites, "equipment": _resolve_equipment, "jobs": _resolve_jobs}
_FINISH = {"customers": _finish_customer, "jobs": _finish_job}


def _current_rows(model, external_ids):
    current = {}
    for batch in _batches(external_ids):
        for row in model.objects.filter(external_id__in=batch).values():
            current[row["external_id"]] = row
    return current


def _current_helpers(job_ids):
    helpers = {}
    through = Job.helpers.through
    for batch in _batches(job_ids):
        for job_id, user_id in through.objects.filter(job_id__in=batch).values_list("job_id", "user_id"):
            helpers.setdefault(job_id, set()).add(user_id)
    return helpers


def plan_import(*, kind, data):
    """Reads and validates the file and works out what importing it would do, without writing anything."""
    spec = KINDS[kind]
    plan = ImportPlan(kind=spec)
    try:
        rows = _read_rows(_decode(data))
    except ImportRejected as rejected:
        plan.errors = rejected.errors
        return plan
    plan.columns, plan.ignored_headers, plan.errors = _match_header(spec, rows[0])
    if plan.errors:
        return plan
    plan.records = _records_from_rows(spec, rows, plan.columns, plan.errors)
    return finish_plan(plan)


def finish_plan(plan):
    """The records' values parsed, their references resolved, the checks across fields made, and what writing each
    would do (new, updated, unchanged): one function per kind, for a file's rows and the API's records alike."""
    spec = plan.kind
    _parse(plan)
    if spec.name in _RESOLVE:
        _RESOLVE[spec.name](plan)
    current = _current_rows(spec.model, [record.external_id for record in plan.records if record.external_id])
    helpers = _current_helpers([row["id"] for row in current.values()]) if spec is JOBS else {}
    finish = _FINISH.get(spec.name)
    now = timezone.now()
    for record in plan.records:
        existing = record.previous = current.get(record.external_id)
        if finish:
            finish(record, existing, now, plan.errors, plan)
    if spec is JOBS:
        _flag_do_not_service_bookings(plan, current)
    for record in plan.records:
        existing = current.get(record.external_id)
        if existing is None:
            record.status = "new"
        elif any(existing[name] != value for name, value in record.fields.items()) or (
            record.helpers is not None and record.helpers != helpers.get(existing["id"], set())
        ):
            record.status = "updated"
        else:
            record.status = "unchanged"
    # A jobs file without an end column gives new jobs an end but leaves the current jobs' ends alone.
    plan.update_fields = sorted(set(plan.records[0].fields).intersection(
        *(record.fields for record in plan.records[1:]))) if plan.records else []
    plan.errors.sort(key=lambda error: error.row)
    return plan


def apply_import(*, kind, data, by=None, via=Via.IMPORT):
    """Validates and writes the file in one transaction; raises ImportRejected, writing nothing, on any error.
    Jobs booked or moved to another status, and customers opted out of contact or back in, are recorded on their
    trail (customers/events.py) as from the import, by `by` (nobody from the shell)."""
    with transaction.atomic():
        return apply_plan(plan_import(kind=kind, data=data), by=by, via=via)


def apply_plan(plan, *, by=None, via=Via.IMPORT):
    """Writes a plan (inside the caller's transaction): every changed record upserted by external id, jobs'
    helpers replaced, jobs this write completed passed through the completion rules as completed elsewhere and then
    the after-completion hooks, the changes recorded on the trail by `via` (the import or the API), and the managers
    told of the bookings flagged for do-not-service customers."""
    if plan.errors:
        raise ImportRejected(plan.errors)
    changed = [record for record in plan.records if record.status != "unchanged"]
    model = plan.kind.model
    # Upsert rather than insert-or-update by hand: a row another import created meanwhile is updated, not
    # duplicated, and each batch is one statement.
    for batch in _batches(changed, WRITE_BATCH):
        model.objects.bulk_create(
            [model(**_row(record)) for record in batch],
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=plan.update_fields,
        )
    if plan.kind is JOBS:
        _write_helpers([record for record in changed if record.helpers is not None])
        completed = _complete_elsewhere([record for record in changed if record.becomes_completed])
        jobs_completed(job_ids=completed, completed_by=by)
    import_changes_record(kind=plan.kind.name, records=changed, by=by, via=via)
    if plan.kind is JOBS:
        _tell_managers_of_do_not_service_bookings(plan)
    return plan


def _row(record):
    """The row to upsert. An existing row's columns the records leave out are given as they are: PostgreSQL checks
    the proposed row's NOT NULL columns (a job's end, say) before it finds the conflict that makes it an update."""
    row = {name: value for name, value in (record.previous or {}).items() if name != "id"}
    return {**row, **record.fields, "external_id": record.external_id}


def _complete_elsewhere(records):
    """The completion rules for the jobs this write completed; returns their ids."""
    if not records:
        return []
    row_of = {record.external_id: record.row for record in records}
    job_ids = {}
    for batch in _batches(list(row_of)):
        job_ids.update(Job.objects.filter(external_id__in=batch).values_list("pk", "external_id"))
    try:
        jobs_complete_elsewhere(job_ids=list(job_ids))
    except CompletionRefused as refused:
        row = row_of[job_ids[refused.job_id]]
        raise ImportRejected([RowError(row, message) for message in refused.messages]) from refused
    return list(job_ids)


def _tell_managers_of_do_not_service_bookings(plan):
    bookings = plan.do_not_service_bookings
    if not bookings:
        return
    ids = ", ".join(record.external_id for record in bookings[:10]) + (" and more" if len(bookings) > 10 else "")
    notify(
        users=managers(),
        text=f"Booked in the dispatch system for a do-not-service customer: {len(bookings)} imported job"
             f"{'s' if len(bookings) != 1 else ''} ({ids}). Keep or cancel each on the customer's page.",
        url=reverse("customers:job_list") + "?flagged=true",
        email=True,
    )


def _write_helpers(records):
    if not records:
        return
    job_ids = {}
    for batch in _batches([record.external_id for record in records]):
        job_ids.update(Job.objects.filter(external_id__in=batch).values_list("external_id", "pk"))
    through = Job.helpers.through
    for batch in _batches(records, WRITE_BATCH):
        through.objects.filter(job_id__in=[job_ids[record.external_id] for record in batch]).delete()
        through.objects.bulk_create(
            [through(job_id=job_ids[record.external_id], user_id=user_id)
             for record in batch for user_id in sorted(record.helpers)],
        )
