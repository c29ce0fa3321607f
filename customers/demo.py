"""The demo company: staff, customers with their sites and equipment, and the jobs of the last months.

Deterministic: every kind of data draws from its own `random.Random` seeded by name, and dates count
from today, so two runs on the same day into fresh databases write the same rows. `Plan()` is the
demo `make run` loads (~500 customers, ~3,000 jobs over 12 months); `Plan.at_scale(n)` is the
benchmark data set (n jobs over 3 years, n/10 customers, 40 technicians, 12 CSRs).

Rows are written in bulk with explicit primary keys (so jobs can point at customers without reading
them back): PostgreSQL COPY when the driver offers it, `bulk_create` elsewhere. Memory stays bounded
at any scale: customers and jobs are generated in chunks and only compact arrays of ids are kept.

Later apps add their own demo data (callbacks, recommendations, follow-up calls) as steps: the roof
(servicedesk/demo/) passes them, in order, as `seed(steps=...)`; each step is called with the `Demo`
after the jobs are written, and draws from `demo.random("<its name>")` so it does not disturb the
others' sequences. This module imports no other app, so it cannot name them itself.
"""

import random
from array import array
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import accumulate, islice
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from servicedesk import roles

from . import demo_words as words
from .models import Customer, Equipment, Job, Site
from .phones import phone_digits

SEED = "servicedesk-demo-1"
PASSWORD = "demo"
# The first demo customer's external id: its presence means the demo company was loaded.
MARKER = "DEMO-C-000001"
CHUNK = 20_000

@dataclass(frozen=True)
class Plan:
    jobs: int = 3000
    customers: int = 500
    technicians: int = 8
    csrs: int = 3
    managers: int = 2
    sales: int = 1
    days_back: int = 365
    days_ahead: int = 14

    @classmethod
    def at_scale(cls, jobs):
        return cls(
            jobs=jobs, customers=max(jobs // 10, 20), technicians=40, csrs=12, managers=3, sales=3,
            days_back=3 * 365,
        )


@dataclass
class Demo:
    """What the steps share: the plan, the day, the staff by role, the writer and the id ranges."""

    plan: Plan
    now: datetime
    writer: object
    log: object = print
    staff: dict = field(default_factory=dict)  # role -> [User], the demo login first
    technician_trades: dict = field(default_factory=dict)  # trade -> [user id]
    book: object = None  # the Book of customers, sites and equipment ids
    job_ids: range = range(0)  # the demo jobs' primary keys
    counts: dict = field(default_factory=dict)

    @property
    def today(self):
        return timezone.localdate(self.now)

    @property
    def tz(self):
        return ZoneInfo(settings.TIME_ZONE)

    def random(self, name):
        # A string seed is hashed with SHA-512, so the sequence is the same in every process.
        return random.Random(f"{SEED}:{name}")

    def insert(self, model, fields, rows):
        """Write `rows` (tuples in the order of `fields`, attnames) in bulk; returns how many."""
        return self.writer.insert(model, fields, rows)


def demo_company_exists():
    return Customer.objects.filter(external_id=MARKER).exists()


def seed(*, plan=None, now=None, log=print, use_copy=None, steps=()):
    """Load the demo company in one transaction and return the row counts; each of `steps` (a later app's demo
    data, `step(demo)`) runs in order once staff, customers and jobs exist."""
    plan = plan or Plan()
    demo = Demo(plan=plan, now=now or timezone.now(), writer=_writer(use_copy), log=log)
    with transaction.atomic():
        create_staff(demo)
        demo.book = create_customers(demo)
        create_jobs(demo, demo.book)
        for step in steps:
            step(demo)
        demo.writer.reset_sequences()
    return demo.counts


# -- staff ----------------------------------------------------------------------------------------


def create_staff(demo):
    """One demo login per role (`csr`, `manager`, `technician`, `sales`), then colleagues `tech2`, `csr2`..."""
    rng = demo.random("staff")
    plan = demo.plan
    # One hash for every demo user: the demo password is public anyway, and hashing it
    # once instead of per user keeps a 60-user scale run from spending seconds in PBKDF2.
    password = make_password(PASSWORD)
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ALL_ROLES)}
    wanted = [
        (roles.TECHNICIAN, "technician", "tech", plan.technicians),
        (roles.CSR, "csr", "csr", plan.csrs),
        (roles.MANAGER, "manager", "manager", plan.managers),
        (roles.SALES, "sales", "sales", plan.sales),
    ]
    people = iter(words.STAFF_NAMES)
    for role, login, prefix, count in wanted:
        users = []
        for n in range(1, count + 1):
            first, last = next(people, None) or (rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES))
            username = login if n == 1 else f"{prefix}{n}"
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first, "last_name": last, "email": f"{username}@northside.example.com",
                    "password": password, "is_active": True, "is_staff": role == roles.MANAGER,
                },
            )
            user.groups.set([groups[role]])
            users.append(user)
        demo.staff[role] = users
    technicians = demo.staff[roles.TECHNICIAN]
    # Half HVAC, a third plumbing, the rest electrical; the demo `technician` is an HVAC tech.
    hvac = max(1, round(len(technicians) * 0.5))
    plumbing = max(1, round(len(technicians) * 0.3)) if len(technicians) > 2 else 1
    demo.technician_trades = {
        words.HVAC: [u.pk for u in technicians[:hvac]],
        words.PLUMBING: [u.pk for u in technicians[hvac:hvac + plumbing]] or [technicians[0].pk],
        words.ELECTRICAL: [u.pk for u in technicians[hvac + plumbing:]] or [technicians[0].pk],
    }
    demo.counts["staff"] = sum(len(users) for users in demo.staff.values())
    demo.log(f"staff: {demo.counts['staff']} users")


# -- customers, sites, equipment ------------------------------------------------------------------


class Book:
    """Compact index of what jobs need: ids are contiguous, so sites of customer i are
    site_base + site_first[i] ... + site_count[i], and likewise equipment of each site."""

    def __init__(self, customer_base, site_base, equipment_base):
        self.customer_base, self.site_base, self.equipment_base = customer_base, site_base, equipment_base
        self.site_first, self.site_count = array("l"), array("l")
        self.equipment_first, self.equipment_count = array("l"), array("l")
        self.equipment_kind, self.equipment_make, self.equipment_year = bytearray(), array("H"), array("H")
        self.weights = []


CUSTOMER_FIELDS = (
    "id", "name", "phone", "alt_phone", "phone_digits", "alt_phone_digits", "email", "alt_email",
    "preferred_contact", "notes", "contact_opt_out", "contact_opt_out_at", "external_id", "created_at",
)
SITE_FIELDS = (
    "id", "customer_id", "label", "street", "unit", "city", "state", "postal_code", "site_type", "access_notes",
    "external_id",
)
EQUIPMENT_FIELDS = (
    "id", "site_id", "kind", "make", "model_number", "serial_number", "installed_on", "notes", "external_id",
)


def create_customers(demo):
    rng = demo.random("customers")
    book = Book(next_id(Customer), next_id(Site), next_id(Equipment))
    phones = _PhoneBook(rng)
    totals = {"customers": 0, "sites": 0, "equipment": 0}
    for start in range(0, demo.plan.customers, CHUNK // 4):
        customers, sites, equipment = [], [], []
        for i in range(start, min(start + CHUNK // 4, demo.plan.customers)):
            _customer(demo, rng, book, phones, i, customers, sites, equipment)
        totals["customers"] += demo.insert(Customer, CUSTOMER_FIELDS, customers)
        totals["sites"] += demo.insert(Site, SITE_FIELDS, sites)
        totals["equipment"] += demo.insert(Equipment, EQUIPMENT_FIELDS, equipment)
    demo.counts.update(totals)
    demo.log(f"customers: {totals['customers']}, sites: {totals['sites']}, equipment: {totals['equipment']}")
    return book


def _customer(demo, rng, book, phones, i, customers, sites, equipment):
    today = demo.today
    tz = demo.tz
    commercial = rng.random() < 0.08
    number = i + 1
    if commercial:
        name, email_local, domain = words.business_name(rng)
        email = f"{email_local}@{domain}"
        phone = phones.next(extension=rng.random() < 0.4)
        alt_phone = phones.next() if rng.random() < 0.6 else ""
        site_count = rng.choices((1, 2, 3, 4, 6, 9, 12), weights=(45, 15, 12, 10, 8, 6, 4))[0]
        weight = 3.0 * site_count
        notes = rng.choice(words.COMMERCIAL_NOTES) if rng.random() < 0.5 else ""
    else:
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        if rng.random() < 0.12:
            name = f"{first} & {rng.choice(words.FIRST_NAMES)} {last}"
        else:
            name = f"{first} {last}"
        email = f"{words.slug(first)}.{words.slug(last)}{rng.choice(('', '', '', rng.randrange(1, 99)))}"
        email = f"{email}@{rng.choice(words.EMAIL_DOMAINS)}" if rng.random() < 0.85 else ""
        phone = phones.next()
        alt_phone = phones.next() if rng.random() < 0.3 else ""
        site_count = 2 if rng.random() < 0.04 else 1
        weight = rng.choice((0.3, 0.6, 1.0, 1.0, 1.5, 2.5))
        notes = rng.choice(words.CUSTOMER_NOTES) if rng.random() < 0.18 else ""
    alt_email = f"{words.slug(rng.choice(words.FIRST_NAMES))}@{words.EMAIL_DOMAINS[0]}" if rng.random() < 0.05 else ""
    preferred = rng.choices(("phone", "text", "email"), weights=(65, 25, 10))[0]
    if preferred == "email" and not email:
        preferred = "phone"
    opted_out = rng.random() < 0.02
    created = datetime.combine(today - timedelta(days=rng.randrange(400, 4000)), time(9), tz)
    opted_out_at = created + timedelta(days=rng.randrange(1, 300)) if opted_out else None
    customer_id = book.customer_base + i
    customers.append((
        customer_id, name, phone, alt_phone, phone_digits(phone), phone_digits(alt_phone), email, alt_email,
        preferred, notes, opted_out, opted_out_at, f"DEMO-C-{number:06d}", created,
    ))
    book.weights.append(weight)
    book.site_first.append(len(book.equipment_first))  # sites so far
    book.site_count.append(site_count)
    for n in range(site_count):
        site_index = len(book.equipment_first)
        site_id = book.site_base + site_index
        city, state, postal_code = rng.choice(words.CITIES)
        street = f"{rng.randrange(100, 9900)} {rng.choice(words.STREETS)} {rng.choice(words.STREET_SUFFIXES)}"
        if commercial:
            label = words.COMMERCIAL_SITE_LABELS[n % len(words.COMMERCIAL_SITE_LABELS)] if site_count > 1 else ""
            unit = f"Suite {rng.randrange(1, 9)}{rng.randrange(0, 99):02d}" if rng.random() < 0.3 else ""
        else:
            label = ("Home", rng.choice(words.SECOND_SITE_LABELS))[n] if site_count > 1 else ""
            unit = f"Apt {rng.randrange(1, 4)}{rng.choice('ABCD')}" if rng.random() < 0.04 else ""
        access = rng.choice(words.ACCESS_NOTES) if rng.random() < 0.2 else ""
        sites.append((
            site_id, customer_id, label, street, unit, city, state, postal_code,
            "commercial" if commercial else "residential", access, f"DEMO-S-{site_index + 1:07d}",
        ))
        book.equipment_first.append(len(book.equipment_kind))
        kinds = words.site_equipment(rng, commercial)
        for kind in kinds:
            _equipment(rng, book, site_id, kind, today, equipment)
        book.equipment_count.append(len(kinds))


def _equipment(rng, book, site_id, kind, today, equipment):
    index = len(book.equipment_kind)
    make_index = rng.choice(words.MAKES_BY_KIND[kind])
    make, models, serial_format = words.MAKES[make_index]
    age = min(int(rng.expovariate(1 / 9)), 35)
    installed = today - timedelta(days=age * 365 + rng.randrange(0, 365))
    serial = serial_format.format(
        yy=installed.year % 100, ww=installed.isocalendar()[1], n=rng.randrange(10000, 99999),
        L=rng.choice("ABCDEFGHJKLMN"),
    ) if serial_format else ""
    notes = rng.choice(words.EQUIPMENT_NOTES.get(kind, ("",))) if rng.random() < 0.15 else ""
    equipment.append((
        book.equipment_base + index, site_id, kind, make, rng.choice(models) if models else "", serial,
        installed if rng.random() < 0.93 else None, notes, f"DEMO-E-{index + 1:07d}",
    ))
    book.equipment_kind.append(words.KIND_INDEX[kind])
    book.equipment_make.append(make_index)
    book.equipment_year.append(installed.year)


class _PhoneBook:
    """Distinct numbers in the 555 exchange of the region's area codes, typed in assorted formats."""

    def __init__(self, rng):
        self.rng = rng
        self.issued = 0

    def next(self, extension=False):
        k, self.issued = self.issued, self.issued + 1
        block = len(words.AREA_CODES) * 10_000
        # 70001 is coprime with the block size, so this permutes the block: every number is issued
        # once, scattered over area codes and lines. Past 150,000 numbers the scale runs move on
        # from the 555 exchange to 556, 557...
        j = (k % block * 70_001 + 12_345) % block
        area, line, exchange = words.AREA_CODES[j % len(words.AREA_CODES)], j // len(words.AREA_CODES), 555 + k // block
        text = self.rng.choices(words.PHONE_FORMATS, weights=words.PHONE_FORMAT_WEIGHTS)[0].format(
            a=area, e=exchange, n=f"{line:04d}"
        )
        if extension:
            text += f" ext. {self.rng.randrange(100, 400)}"
        return text


# -- jobs -----------------------------------------------------------------------------------------

JOB_FIELDS = (
    "id", "customer_id", "site_id", "equipment_id", "kind", "status", "scheduled_start", "scheduled_end",
    "lead_technician_id", "completed_at", "summary", "invoice_number", "no_charge", "external_id", "created_at",
)
HELPER_FIELDS = ("job_id", "user_id")


def create_jobs(demo, book):
    """Jobs day by day from `days_back` ago to `days_ahead` from now, lighter on weekends and in
    spring and fall; the past ones completed with the technician's summary and an invoice."""
    rng = demo.random("jobs")
    plan = demo.plan
    today = demo.today
    days = [today + timedelta(days=offset) for offset in range(-plan.days_back, plan.days_ahead + 1)]
    per_day = _spread(plan.jobs, [words.day_weight(day, today) for day in days])
    # `technician` always has a day's work today, so the demo "My day" page is never empty;
    # the jobs it takes come off the busiest other day, so the total stays exact.
    shortfall = min(4, plan.jobs) - per_day[plan.days_back]
    if shortfall > 0:
        busiest = max((i for i in range(len(days)) if i != plan.days_back), key=per_day.__getitem__)
        per_day[plan.days_back] += shortfall
        per_day[busiest] -= shortfall
    generator = _JobGenerator(demo, book, rng)
    first_id = generator.next_id
    totals = {"jobs": 0, "helpers": 0}
    jobs, helpers = [], []
    for day, count in zip(days, per_day, strict=True):
        generator.day(day, count, jobs, helpers)
        if len(jobs) >= CHUNK:
            totals["jobs"] += demo.insert(Job, JOB_FIELDS, jobs)
            totals["helpers"] += demo.insert(Job.helpers.through, HELPER_FIELDS, helpers)
            jobs, helpers = [], []
            if totals["jobs"] // (plan.jobs // 10 or 1) != (totals["jobs"] - CHUNK) // (plan.jobs // 10 or 1):
                demo.log(f"jobs: {totals['jobs']:,} / {plan.jobs:,}")
    totals["jobs"] += demo.insert(Job, JOB_FIELDS, jobs)
    totals["helpers"] += demo.insert(Job.helpers.through, HELPER_FIELDS, helpers)
    demo.counts["jobs"] = totals["jobs"]
    demo.job_ids = range(first_id, generator.next_id)
    demo.counts["job_helpers"] = totals["helpers"]
    demo.log(f"jobs: {totals['jobs']:,} ({totals['helpers']:,} with a helper)")


def _spread(total, weights):
    """Split `total` into whole numbers proportional to `weights` (largest remainder), summing exactly."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


class _JobGenerator:
    def __init__(self, demo, book, rng):
        self.demo, self.book, self.rng = demo, book, rng
        self.tz = demo.tz
        self.now = demo.now
        self.today = demo.today
        self.next_id = next_id(Job)
        self.number = 0
        self.invoice = 100_000
        self.cumulative = list(accumulate(book.weights))
        self.demo_technician = demo.staff[roles.TECHNICIAN][0].pk
        self.trades = demo.technician_trades

    def day(self, day, count, jobs, helpers):
        rng = self.rng
        midnight = datetime.combine(day, time(0), self.tz)
        load = {}  # technician -> jobs already given to them that day
        for n in range(count):
            trade = rng.choices(words.TRADES, cum_weights=words.TRADE_CUM_WEIGHTS)[0]
            if day == self.today and n < 3:
                trade, technician = words.HVAC, self.demo_technician
            else:
                technician = rng.choice(self.trades[trade])
            slot = load.get(technician, 0)
            load[technician] = slot + 1
            self._job(day, midnight, trade, technician, slot, jobs, helpers)

    def _job(self, day, midnight, trade, technician, slot, jobs, helpers):
        rng, book = self.rng, self.book
        customer = bisect(self.cumulative, rng.random() * self.cumulative[-1])
        customer = min(customer, len(self.cumulative) - 1)
        site = book.site_first[customer] + rng.randrange(book.site_count[customer])
        kind = rng.choices(words.JOB_KINDS, cum_weights=words.JOB_KIND_CUM_WEIGHTS[trade])[0]
        equipment = None
        if kind != "install":
            first = book.equipment_first[site]
            matching = [
                e for e in range(first, first + book.equipment_count[site])
                if words.KINDS[book.equipment_kind[e]] in words.TRADE_KINDS[trade]
            ]
            if matching:
                equipment = rng.choice(matching)
        # Arrival windows: two hours while a technician has a normal day, half-hour slots when
        # the benchmark packs dozens of jobs into one technician's day.
        if slot < 5:
            start = midnight + timedelta(hours=8 + 2 * slot)
            length = timedelta(hours=4 if kind == "install" and slot == 0 else 2)
        else:
            start = midnight + timedelta(minutes=7 * 60 + 30 * (slot % 26))
            length = timedelta(minutes=30)
        end = start + length
        if day < self.today or end <= self.now:
            status = "cancelled" if rng.random() < 0.04 else "completed"
        elif start <= self.now:
            status = "in_progress"
        else:
            status = "cancelled" if rng.random() < 0.02 else "scheduled"
        completed_at = summary = None
        invoice = ""
        no_charge = kind == "callback_revisit"
        if status == "completed":
            completed_at = start + length * rng.uniform(0.45, 1.15)
            self.invoice += 1
            invoice = str(self.invoice)
            if equipment is None:
                summary = words.general_summary(rng, trade, kind)
            else:
                kind_name = words.KINDS[book.equipment_kind[equipment]]
                make = words.MAKES[book.equipment_make[equipment]][0]
                summary = words.equipment_summary(rng, kind_name, kind, make, day.year - book.equipment_year[equipment])
            if kind == "service_call" and rng.random() < 0.02:
                no_charge = True
                summary = "Warranty: " + summary
        elif status == "cancelled":
            summary = rng.choice(words.CANCEL_REASONS)
        self.number += 1
        job_id = self.next_id
        self.next_id += 1
        created = min(start - timedelta(days=rng.randrange(0, 12), hours=rng.randrange(0, 6)), self.now)
        jobs.append((
            job_id, book.customer_base + customer, book.site_base + site,
            None if equipment is None else book.equipment_base + equipment, kind, status, start, end, technician,
            completed_at, summary or "", invoice, no_charge, f"DEMO-J-{self.number:07d}", created,
        ))
        if rng.random() < (0.7 if kind == "install" else 0.06):
            colleagues = [t for t in self.trades[trade] if t != technician]
            if colleagues:
                helpers.append((job_id, rng.choice(colleagues)))


# -- writing --------------------------------------------------------------------------------------


def next_id(model):
    """The first free primary key of `model`: demo rows are written with explicit ids."""
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _writer(use_copy):
    """COPY on PostgreSQL through psycopg2 (psycopg 3 has another COPY interface), bulk_create elsewhere."""
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
        if use_copy:
            with connection.cursor() as cursor:
                use_copy = hasattr(cursor.cursor, "copy_expert")
    return _CopyWriter() if use_copy else _BulkCreateWriter()


class _Writer:
    def __init__(self):
        self.models = set()

    def _columns(self, model, fields):
        """Every concrete column: the given ones, then the rest at their defaults (fields added later)."""
        given = set(fields)
        rest = [
            f for f in model._meta.concrete_fields
            if f.attname not in given and not (f.primary_key and f.attname == "id")
        ]
        return [*fields, *(f.attname for f in rest)], tuple(f.get_default() for f in rest)

    def reset_sequences(self):
        statements = connection.ops.sequence_reset_sql(no_style(), sorted(self.models, key=lambda m: m._meta.label))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


class _BulkCreateWriter(_Writer):
    def insert(self, model, fields, rows):
        self.models.add(model)
        columns, defaults = self._columns(model, fields)
        rows = iter(rows)
        written = 0
        while batch := list(islice(rows, 2000)):
            model.objects.bulk_create([model(**dict(zip(columns, row + defaults, strict=True))) for row in batch])
            written += len(batch)
        return written


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


class _RowStream:
    """A file-like object psycopg2 reads COPY data from, formatting rows as it goes, so PostgreSQL
    parses one batch while Python formats the next and no whole table is held as text."""

    def __init__(self, rows, defaults):
        self.rows, self.defaults = iter(rows), defaults
        self.count = 0

    def read(self, size=-1):
        batch = list(islice(self.rows, 2000))
        self.count += len(batch)
        extra = self.defaults
        return "".join("\t".join(map(_copy_text, row + extra)) + "\n" for row in batch)

    readline = read


class _CopyWriter(_Writer):
    def insert(self, model, fields, rows):
        self.models.add(model)
        columns, defaults = self._columns(model, fields)
        quote = connection.ops.quote_name
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) FROM STDIN"
        stream = _RowStream(rows, defaults)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, stream, size=1 << 20)
        return stream.count

