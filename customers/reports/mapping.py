"""The fields of a flat jobs report and the columns that give them: recognised header names first (as the four-file
import recognises them), then the manager's own choices, kept under a name and applied to the next file with the
same headers.

A mapping is {header: field key or ""} (ignored) plus the date order of each date column that needed asking.
"""

from dataclasses import dataclass

from ..importing import _header_key
from .values import AMBIGUOUS, ISO, date_order


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    aliases: tuple = ()
    required: bool = False
    is_date: bool = False
    help: str = ""


FIELDS = (
    Field("customer_id", "Customer ID", ("customer id", "customer #", "customer number", "account number",
                                         "account id", "client id", "customer no")),
    Field("customer_name", "Customer name", ("customer", "customer name", "client", "client name", "name",
                                             "full name", "billing name", "display name"),
          help="Or first and last name columns."),
    Field("first_name", "First name", ("first", "given name", "customer first name")),
    Field("last_name", "Last name", ("last", "surname", "family name", "customer last name")),
    Field("phone", "Phone", ("phone", "phone number", "customer phone", "mobile", "mobile phone", "cell",
                             "cell phone", "primary phone")),
    Field("email", "E-mail", ("email", "e mail", "email address", "customer email", "primary email")),
    Field("site_id", "Site ID", ("site id", "location id", "location #", "service location id", "property id",
                                 "address id")),
    Field("street", "Street", ("street", "address", "service address", "job address", "location address",
                               "street address", "address 1", "address line 1"),
          required=True),
    Field("unit", "Unit", ("unit", "apt", "suite", "address 2", "address line 2")),
    Field("city", "City", ("city", "town", "service city", "location city"), required=True),
    Field("state", "State", ("state", "province", "region")),
    Field("postal_code", "Postal code", ("zip", "zip code", "postal code", "postcode", "postal")),
    Field("job_id", "Job number", ("job id", "job number", "job", "job no", "work order", "work order number"),
          help="A job number or an invoice number is required to recognise the job next time."),
    Field("invoice_number", "Invoice number", ("invoice", "invoice number", "invoice no", "invoice id")),
    Field("kind", "Job type", ("job type", "type", "service type", "job kind", "job category")),
    Field("status", "Status", ("status", "job status")),
    Field("scheduled_start", "Scheduled start", ("scheduled", "scheduled date", "scheduled start", "start",
                                                 "start date", "start time", "appointment", "appointment date",
                                                 "job date", "date"), required=True, is_date=True),
    Field("scheduled_end", "Scheduled end", ("scheduled end", "end", "end date", "end time", "appointment end"),
          is_date=True),
    Field("completed_at", "Completed at", ("completed", "completed on", "completed at", "completion date",
                                           "completed date", "closed at"), is_date=True),
    Field("technician", "Technician", ("technician", "technicians", "tech", "lead technician", "assigned technician",
                                       "assigned to"),
          help="User name, e-mail or full name; several separated by ; or , (the first leads)."),
    Field("helpers", "Helpers", ("helpers", "helper", "crew", "other technicians")),
    Field("summary", "Summary", ("summary", "description", "job summary", "job description", "work performed")),
    Field("no_charge", "No charge", ("no charge", "warranty")),
)
BY_KEY = {field.key: field for field in FIELDS}
REQUIRED_TEXT = "a job number or an invoice number, a customer name, and a customer id, phone or e-mail"


def header_signature(headers):
    """Headers compared whatever their case and punctuation: the key a saved mapping is found by."""
    return "|".join(_header_key(header) for header in headers)


def recognise(headers):
    """{header: field key or ""}: each header by its recognised name, each field given by one column at most."""
    by_alias = {}
    for item in FIELDS:
        for alias in (item.label, *item.aliases):
            by_alias.setdefault(_header_key(alias), item.key)
    taken, mapping = set(), {}
    for header in headers:
        key = by_alias.get(_header_key(header), "")
        if key in taken:
            key = ""
        if key:
            taken.add(key)
        mapping[header] = key
    return mapping


def mapping_problems(mapping):
    """What stops a mapping from importing: required fields left unmapped, a field given by two columns."""
    problems = []
    given = [key for key in mapping.values() if key]
    for key in sorted({key for key in given if given.count(key) > 1}):
        columns = [header for header, field_key in mapping.items() if field_key == key]
        problems.append(f"{BY_KEY[key].label} is given by more than one column ({', '.join(columns)}); keep one.")
    for item in FIELDS:
        if item.required and item.key not in given:
            problems.append(f"{item.label} is required: choose the column that gives it.")
    if not {"job_id", "invoice_number"} & set(given):
        problems.append("Job number or Invoice number is required: choose the column that gives one of them.")
    if not {"customer_name", "first_name", "last_name"} & set(given):
        problems.append("Customer name is required (or first and last name): choose its column.")
    if not {"customer_id", "phone", "email"} & set(given):
        problems.append("The customer's id, phone or e-mail is required to recognise them: choose its column.")
    return problems


def date_orders_needed(table, mapping, known):
    """{header: detected order} of the mapped date columns, reading the whole column (streamed); headers whose
    dates read both ways and have no order in `known` are AMBIGUOUS, to be asked. ValueError for a column with both
    orders."""
    columns = {index: header for index, header in enumerate(table.headers)
               if mapping.get(header) and BY_KEY[mapping[header]].is_date}
    values = {header: [] for header in columns.values()}
    orders = {}
    for _, cells in table.rows():
        if isinstance(cells, list):
            for index, header in columns.items():
                if cells[index]:
                    values[header].append(cells[index])
        for header in list(values):
            if len(values[header]) >= 500:  # decide in batches: a column's evidence does not need every row held
                orders[header] = _merge(orders.get(header), date_order(values[header]), header)
                values[header] = []
    for header, held in values.items():
        orders[header] = _merge(orders.get(header), date_order(held), header)
    # An office writes all its dates one way: a column whose dates read both ways takes the order the others show.
    shown = {order for order in orders.values() if order not in (ISO, AMBIGUOUS)}
    if len(shown) == 1:
        orders = {header: shown.copy().pop() if order == AMBIGUOUS else order for header, order in orders.items()}
    return {header: (known.get(header) or AMBIGUOUS) if order == AMBIGUOUS else order
            for header, order in orders.items()}


def _merge(before, now, header):
    if before in (None, ISO, AMBIGUOUS):
        return now if now != ISO or before is None else before
    if now in (ISO, AMBIGUOUS, before):
        return before
    raise ValueError(f"Column {header!r} has dates written both month first and day first.")
