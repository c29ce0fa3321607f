"""A flat jobs report imported through the shared import path, a chunk of rows at a time, in one transaction.

Each row is a job with its customer and service address. For each chunk:
1. the cells are read by the mapping (dates in their column's order, technicians checked against the known ones);
2. customers are found by the dispatch system's id when the file has one, else by normalised phone or e-mail
   (and the name, when several customers share them: still several is an ambiguity the manager resolves);
3. sites by their id, else by normalised address under that customer ("123 N. Main St." = "123 North Main Street");
4. jobs by job number, else by invoice number under that customer;
and each kind is written as records of the four-file import (customers/importing.py: finish_plan, apply_plan), so
the checks, choices, trail, completion rules and do-not-service flags are the same as for every other import.

Records the file gives no id for are upserted under a key of ours (`report-` and a digest of what identified them):
a row matched by phone to a customer created on a page gets that key once, and the next import finds it again by
phone, so a re-import changes nothing. The preview runs the same code and rolls back; nothing of it is kept.
"""

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Upper

from servicedesk import roles
from servicedesk.audit import Via

from ..importing import (
    CUSTOMERS,
    JOBS,
    SITES,
    ImportPlan,
    Record,
    RowError,
    _Technicians,
    apply_plan,
    finish_plan,
)
from ..models import Customer, Job, Site
from ..phones import phone_digits
from .mapping import BY_KEY
from .values import moment_text

CHUNK_ROWS = 2000
# A report repeats each customer's phone on every one of their jobs; parsing a number is the costliest cell.
_phone_digits = functools.lru_cache(maxsize=65536)(phone_digits)
ERRORS_KEPT = 500
KEY_PREFIX = "report-"


@dataclass
class Ambiguity:
    row: int
    key: str  # what identifies the customer in the file: the resolutions are keyed by it
    name: str
    contact: str
    candidates: list  # [{"pk", "name", "phone", "email"}]


@dataclass
class Outcome:
    rows: int = 0
    written: bool = False
    errors: list = field(default_factory=list)
    error_count: int = 0
    ambiguities: list = field(default_factory=list)
    counts: dict = field(default_factory=lambda: {kind: {"new": 0, "matched": 0, "changed": 0}
                                                  for kind in ("customers", "sites", "jobs")})

    @property
    def ok(self):
        return not self.error_count and not self.ambiguities

    def add_errors(self, errors):
        self.error_count += len(errors)
        room = ERRORS_KEPT - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def summary(self):
        return "; ".join(f"{kind}: {c['new']:,} new, {c['changed']:,} changed, {c['matched']:,} matched"
                         for kind, c in self.counts.items())


class _Rollback(Exception):
    pass


def import_report(*, table, mapping, date_orders=None, resolutions=None, write=False, by=None, via=Via.IMPORT,
                  progress=None):
    """Checks (and with `write`, imports) the report read by `table` with `mapping` ({header: field key}), all or
    nothing: anything wrong (an error, an ambiguous customer without a resolution) and nothing is written.
    `resolutions` maps an ambiguity's key to the customer's pk or "new". `progress(outcome, rows_written)` is called
    after each chunk."""
    run = _Run(table, mapping, date_orders or {}, resolutions or {}, write, by, via)
    # First every cell, streamed and without a query per row: a bad date on row 7,002 is found before anything is
    # staged, and a file with errors never reaches the database.
    for chunk in _chunks(table.rows(), CHUNK_ROWS):
        run.check(chunk)
        if progress:
            progress(run.outcome, 0)
    if run.outcome.ok:
        try:
            with transaction.atomic():
                for chunk in _chunks(table.rows(), CHUNK_ROWS):
                    run.chunk(chunk)
                    if progress:
                        progress(run.outcome, run.written_rows)
                if not (write and run.outcome.ok):
                    raise _Rollback
                run.outcome.written = True
        except _Rollback:
            pass
    run.outcome.errors.sort(key=lambda error: error.row)
    return run.outcome


def _chunks(rows, size):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def fold(text):
    """Lower case, accents and punctuation aside: 'Renée  Dupré' -> 'renee dupre'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


_ADDRESS_WORDS = {
    "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw", "southeast": "se",
    "southwest": "sw", "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr", "boulevard": "blvd",
    "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter", "parkway": "pkwy", "highway": "hwy",
    "circle": "cir", "square": "sq", "trail": "trl", "way": "way", "suite": "ste", "apartment": "apt", "unit": "apt",
    "number": "apt", "no": "apt",
}
_UNIT = re.compile(r"\s*(?:,\s*|\s)(?:apt|apartment|unit|suite|ste|#|no\.?)\s*#?\s*([\w-]+)\s*$", re.IGNORECASE)


def address_key(street, unit=""):
    """(street, unit) compared as the post office would: '123 N. Main St.' = '123 North Main Street', and a unit
    written into the street ('400 Oak Ave, Apt 2') is the unit."""
    match = _UNIT.search(street)
    if match and not unit:
        street, unit = street[: match.start()], match[1]
    words = [_ADDRESS_WORDS.get(word, word) for word in fold(street.replace("#", " ")).split()]
    unit_words = [word for word in fold(unit.replace("#", " ")).split() if _ADDRESS_WORDS.get(word) != "apt"]
    return " ".join(words), " ".join(unit_words)


def _our_key(*parts):
    return KEY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def _columns(spec, keys, titles):
    by_key = {column.key: column for column in spec.columns}
    return [(by_key[key], titles.get(key) or by_key[key].label, index) for index, key in enumerate(keys)]


class _Run:
    def __init__(self, table, mapping, date_orders, resolutions, write, by, via):
        self.outcome = Outcome()
        self.write, self.by, self.via = write, by, via
        self.resolutions = resolutions
        self.index = {BY_KEY[key].key: (position, header) for position, header in enumerate(table.headers)
                      for key in [mapping.get(header)] if key}
        self.title = {key: header for key, (_, header) in self.index.items()}
        self.orders = {key: date_orders.get(header, "us") for key, (_, header) in self.index.items()
                       if BY_KEY[key].is_date}
        self.technicians = _Technicians() if {"technician", "helpers"} & self.index.keys() else None
        self.found = {}  # technician as the file names them -> why not found, or None
        self.first_row_of_job = {}
        self.seen = {"customers": set(), "sites": set(), "jobs": {}}
        self.written_rows = 0

    # -- one chunk --------------------------------------------------------------------------------------------

    def check(self, rows):
        self.outcome.rows += len(rows)
        errors = []
        for number, cells in rows:
            if isinstance(cells, RowError):
                errors.append(cells)
                continue
            values = self._values(number, cells, errors)
            if values is None:
                continue
            # One row per job: a job number (or a customer's invoice) twice is an error before anything is staged.
            job = values.get("job_id") or f"{self._customer_key(values)}\x1f{values['invoice_number']}"
            first = self.first_row_of_job.setdefault(job, number)
            if first != number:
                errors.append(RowError(number, f"{values.get('job_id') or values['invoice_number']!r} already "
                                               f"appears in row {first}",
                                       self.title.get("job_id") or self.title.get("invoice_number")))
        self.outcome.add_errors(errors)

    def chunk(self, rows):
        parsed = [(number, self._values(number, cells, [])) for number, cells in rows]
        customers = self._customers(parsed)
        if not self.outcome.ok:
            return
        sites = self._sites(parsed, customers)
        if not self.outcome.ok:
            return
        self._jobs(parsed, customers, sites)
        if self.outcome.ok:
            self.written_rows += len(parsed)

    def _cell(self, cells, key):
        position = self.index.get(key)
        return cells[position[0]] if position else ""

    def _values(self, number, cells, errors):
        values = {key: self._cell(cells, key) for key in self.index}
        before = len(errors)
        for key, order in self.orders.items():
            try:
                values[key] = moment_text(values[key], order)
            except ValueError as exc:
                errors.append(RowError(number, str(exc), self.title[key]))
        if not (values.get("job_id") or values.get("invoice_number")):
            errors.append(RowError(number, "needs a job number or an invoice number"))
        name = values.get("customer_name") or " ".join(
            filter(None, (values.get("first_name"), values.get("last_name"))))
        if not name:
            errors.append(RowError(number, "needs the customer's name"))
        values["name"] = name
        values["phone_digits"] = _phone_digits(values.get("phone", ""))
        values["email"] = values.get("email", "").strip()
        if not (values.get("customer_id") or values["phone_digits"] or values["email"]):
            errors.append(RowError(number, "needs the customer's id, phone or e-mail to recognise them"))
        if self.technicians:
            people = _people(values.get("technician", "")) + _people(values.get("helpers", ""))
            for person in people:
                if person not in self.found:
                    self.found[person] = self.technicians.find(person)[1]
                why = self.found[person]
                if why:
                    errors.append(RowError(number, f"{why}. The technicians are: {self._known()}",
                                           self.title.get("technician") or self.title.get("helpers")))
            values["lead"] = people[0] if people else ""
            values["crew"] = "; ".join(people[1:])
        return values if len(errors) == before else None

    def _known(self):
        if not hasattr(self, "_known_text"):
            users = get_user_model().objects.filter(groups__name=roles.TECHNICIAN, is_active=True).order_by(
                "first_name", "last_name", "username")
            self._known_text = ", ".join(f"{(user.get_full_name() or user.username)} ({user.username})"
                                         for user in users[:50])
        return self._known_text

    # -- customers --------------------------------------------------------------------------------------------

    def _customers(self, parsed):
        """{row number: the customer's external id}, the customers written (or, in a preview, staged)."""
        entities = {}  # file key -> (first row, values)
        for number, values in parsed:
            entities.setdefault(self._customer_key(values), (number, values))
        by_id = [values["customer_id"] for _, values in entities.values() if values.get("customer_id")]
        existing_ids = set(Customer.objects.filter(external_id__in=by_id).values_list("external_id", flat=True))
        phones = {values["phone_digits"] for _, values in entities.values() if values["phone_digits"]}
        emails = {values["email"].lower() for _, values in entities.values() if values["email"]}
        # E-mails compared whatever their case, on the index of UPPER(email).
        known = list(Customer.objects.alias(email_upper=Upper("email")).filter(
            Q(phone_digits__in=phones) | Q(alt_phone_digits__in=phones)
            | Q(email_upper__in={email.upper() for email in emails})
        ).values("pk", "name", "phone", "phone_digits", "alt_phone_digits", "email", "external_id"))
        external_of_key, to_key, chosen = {}, {}, {}
        for key, (number, values) in entities.items():
            if values.get("customer_id"):
                external_of_key[key] = values["customer_id"]
                chosen[key] = None if values["customer_id"] not in existing_ids else values["customer_id"]
                continue
            match = self._match_customer(key, number, values, known)
            if match is False:
                continue
            if match is None:
                external_of_key[key] = _our_key("customer", key)
                chosen[key] = None
            else:
                external_of_key[key] = match["external_id"] or _our_key("customer", str(match["pk"]))
                chosen[key] = match
                if not match["external_id"]:
                    to_key[match["pk"]] = external_of_key[key]
        if not self.outcome.ok:
            return {}
        for pk, key in to_key.items():  # a customer entered on a page, recognised: our key from now on
            Customer.objects.filter(pk=pk, external_id__isnull=True).update(external_id=key)
        records, done = [], set()
        for key, (number, values) in entities.items():
            external_id = external_of_key[key]
            if external_id in done:
                continue  # two ways of writing one customer: the first row's
            done.add(external_id)
            match = chosen[key] if isinstance(chosen[key], dict) else None
            raw = {"external_id": external_id, "name": _kept(match, "name", values["name"], fold)}
            if "phone" in self.index:
                raw["phone"] = _kept(match, "phone", values["phone"], phone_digits)
            if "email" in self.index:
                raw["email"] = _kept(match, "email", values["email"], str.lower)
            records.append((number, raw))
        self._stage(CUSTOMERS, records, "customers")
        row_of_key = {key: external_of_key[key] for key in entities}
        return {number: row_of_key[self._customer_key(values)] for number, values in parsed}

    def _customer_key(self, values):
        if values.get("customer_id"):
            return "id:" + values["customer_id"]
        contact = ("tel:" + values["phone_digits"]) if values["phone_digits"] else ("mail:" + values["email"].lower())
        return f"{contact}|{fold(values['name'])}"

    def _match_customer(self, key, number, values, known):
        """The existing customer (a dict), None for a new one, False when it is ambiguous and not resolved."""
        digits, email = values["phone_digits"], values["email"].lower()
        candidates = [row for row in known if (digits and digits in (row["phone_digits"], row["alt_phone_digits"]))
                      or (email and row["email"].lower() == email)]
        candidates = list({row["pk"]: row for row in candidates}.values())
        if len(candidates) > 1:
            named = [row for row in candidates if fold(row["name"]) == fold(values["name"])]
            if len(named) == 1:
                return named[0]
            resolution = self.resolutions.get(key)
            if resolution == "new":
                return None
            picked = [row for row in candidates if str(row["pk"]) == str(resolution)]
            if picked:
                return picked[0]
            self.outcome.ambiguities.append(Ambiguity(
                row=number, key=key, name=values["name"], contact=values.get("phone") or values["email"],
                candidates=[{name: row[name] for name in ("pk", "name", "phone", "email")} for row in candidates],
            ))
            return False
        return candidates[0] if candidates else None

    # -- sites ------------------------------------------------------------------------------------------------

    def _sites(self, parsed, customers):
        customer_pks = dict(Customer.objects.filter(external_id__in=set(customers.values()))
                            .values_list("external_id", "pk"))
        existing = {}
        for row in Site.objects.filter(customer_id__in=customer_pks.values()).values(
                "pk", "customer_id", "external_id", "street", "unit", "postal_code", "city", "state"):
            existing.setdefault(row["customer_id"], []).append(row)
        external_of, to_key, records, done = {}, {}, [], set()
        for number, values in parsed:
            customer = customers[number]
            if values.get("site_id"):
                external_id, match = values["site_id"], None
            else:
                street_key = address_key(values["street"], values.get("unit", ""))
                postal = values.get("postal_code", "")[:5]
                match = next((row for row in existing.get(customer_pks.get(customer), [])
                              if address_key(row["street"], row["unit"]) == street_key
                              and (not postal or not row["postal_code"] or row["postal_code"][:5] == postal)), None)
                if match:
                    external_id = match["external_id"] or _our_key("site", str(match["pk"]))
                    if not match["external_id"]:
                        to_key[match["pk"]] = external_id
                else:
                    external_id = _our_key("site", customer, *street_key, postal)
            external_of[number] = external_id
            if external_id in done:
                continue
            done.add(external_id)
            raw = {"external_id": external_id, "customer": customer}
            for key in ("street", "unit", "city", "state", "postal_code"):
                if key in self.index:
                    raw[key] = values[key]
            if match:  # the same address written another way keeps its text
                raw["street"], raw["unit"] = match["street"], match["unit"]
            records.append((number, raw))
        for pk, key in to_key.items():
            Site.objects.filter(pk=pk, external_id__isnull=True).update(external_id=key)
        self._stage(SITES, records, "sites")
        return external_of

    # -- jobs -------------------------------------------------------------------------------------------------

    def _jobs(self, parsed, customers, sites):
        invoices = {values["invoice_number"] for _, values in parsed
                    if values.get("invoice_number") and not values.get("job_id")}
        by_invoice = {}
        for row in Job.objects.filter(invoice_number__in=invoices).values(
                "pk", "external_id", "invoice_number", "customer__external_id"):
            by_invoice.setdefault((row["customer__external_id"], row["invoice_number"]), row)
        to_key, records = {}, []
        for number, values in parsed:
            if values.get("job_id"):
                external_id = values["job_id"]
            else:
                match = by_invoice.get((customers[number], values["invoice_number"]))
                external_id = (match["external_id"] or _our_key("job", str(match["pk"]))) if match else _our_key(
                    "job", customers[number], values["invoice_number"])
                if match and not match["external_id"]:
                    to_key[match["pk"]] = external_id
            first = self.seen["jobs"].get(external_id)
            if first is not None:
                self.outcome.add_errors([RowError(number, f"the job {external_id!r} already appears in row {first}",
                                                  self.title.get("job_id") or self.title.get("invoice_number"))])
                continue
            self.seen["jobs"][external_id] = number
            raw = {"external_id": external_id, "customer": customers[number], "site": sites[number],
                   "scheduled_start": values["scheduled_start"]}
            for key in ("kind", "scheduled_end", "completed_at", "summary", "invoice_number", "no_charge"):
                if key in self.index:
                    raw[key] = values[key]
            if "status" in self.index:
                raw["status"] = values["status"]
            elif "completed_at" in self.index:
                raw["status"] = "completed" if values["completed_at"] else ""
            if self.technicians:
                raw["lead_technician"], raw["helpers"] = values["lead"], values["crew"]
            records.append((number, raw))
        if not self.outcome.ok:
            return
        for pk, key in to_key.items():
            Job.objects.filter(pk=pk, external_id__isnull=True).update(external_id=key)
        self._stage(JOBS, records, "jobs", apply=self.write)

    # -- the shared path --------------------------------------------------------------------------------------

    def _stage(self, spec, records, kind, apply=True):
        """The records through finish_plan (and apply_plan), their counts added once per record in the run."""
        if not records:
            return
        plan = ImportPlan(kind=spec)
        keys = list(records[0][1])
        # Errors name the file's own column: the shared columns' keys under the report's field names.
        shared = {"name": "customer_name", "customer": "customer_id", "site": "site_id", "lead_technician":
                  "technician", "external_id": {"customers": "customer_id", "sites": "site_id"}.get(kind, "job_id")}
        titles = {key: self.title.get(shared.get(key, key), "") for key in keys}
        if kind == "jobs" and not titles["external_id"]:
            titles["external_id"] = self.title.get("invoice_number", "")
        if "helpers" in titles:
            titles["helpers"] = titles["helpers"] or self.title.get("technician", "")
        plan.columns = _columns(spec, keys, titles)
        for number, raw in records:
            plan.records.append(Record(row=number, cells=[], raw={key: raw.get(key, "") for key in keys}))
        finish_plan(plan)
        if plan.errors:
            self.outcome.add_errors(plan.errors)
            return
        seen = self.seen[kind]
        for record in plan.records:
            if kind == "jobs" or record.external_id not in seen:
                if kind != "jobs":
                    seen.add(record.external_id)
                status = {"new": "new", "updated": "changed", "unchanged": "matched"}[record.status]
                self.outcome.counts[kind][status] += 1
        if apply:
            apply_plan(plan, by=self.by, via=self.via)


def _people(text):
    return [name.strip() for name in re.split(r"[;,|]", text or "") if name.strip()]


def _kept(match, name, value, compare):
    """The file's value, or the record's own text when they say the same (a phone in another format)."""
    if match and value and match.get(name) and compare(match[name]) == compare(value):
        return match[name]
    return value
