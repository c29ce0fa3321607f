"""The flat jobs report: one row per job with its customer and address, matched to what is on record."""

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from customers.importing import ImportRejected
from customers.models import Customer, Job, Site
from customers.reports.matching import address_key
from customers.reports.services import NeedsDateOrder, report_check, report_import
from tests.factories import CustomerFactory, JobFactory, SiteFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent.parent / "data" / "reports"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def _office(settings):
    settings.TIME_ZONE = "America/Chicago"


@pytest.fixture
def crew(db):
    return {
        "tom": TechnicianFactory(username="tom", first_name="Tom", last_name="Alvarez"),
        "luis": TechnicianFactory(username="luis", first_name="Luis", last_name="Ortega"),
    }


def snapshot():
    return {model.__name__: list(model.objects.order_by("pk").values())
            for model in (Customer, Site, Job, Job.helpers.through)}


def counts(outcome):
    return {kind: tuple(tally.values()) for kind, tally in outcome.counts.items()}  # (new, matched, changed)


def test_windows_1252_servicetitan_report_imports_and_a_reimport_changes_nothing(crew):
    source = DATA / "servicetitan_cp1252.csv"
    preview = report_check(source=source)
    assert preview.ok, preview.errors
    assert counts(preview) == {"customers": (2, 0, 0), "sites": (2, 0, 0), "jobs": (3, 0, 0)}
    assert not Customer.objects.exists()  # the preview writes nothing

    outcome = report_import(source=source)
    assert outcome.written
    renee = Customer.objects.get(name="Renée Dupré")
    assert Customer.objects.filter(name="Jürgen Müller").exists()
    # "123 N. Main St." and "123 North Main Street" are one site; the unit written in the street is its unit.
    assert list(renee.sites.values_list("street", flat=True)) == ["123 N. Main St."]
    assert Site.objects.get(customer__name="Jürgen Müller").street == "400 Oak Ave, Apt 2"
    first = Job.objects.get(external_id="J-9001")
    assert first.customer == renee and first.status == "completed" and first.kind == "maintenance"
    assert first.scheduled_start == datetime(2025, 3, 5, 8, 0, tzinfo=CHICAGO)
    assert first.lead_technician == crew["tom"]
    assert Job.objects.get(external_id="J-9002").lead_technician == crew["luis"]  # by full name
    assert Job.objects.get(external_id="J-9003").summary == '=HYPERLINK("http://evil.example")'  # text, as given

    before = snapshot()
    again = report_import(source=source)
    assert counts(again) == {"customers": (0, 2, 0), "sites": (0, 2, 0), "jobs": (0, 3, 0)}
    assert snapshot() == before


def test_utf_16_report_imports(crew):
    outcome = report_import(source=DATA / "housecall_utf16.txt")
    assert outcome.written, outcome.errors
    assert counts(outcome) == {"customers": (2, 0, 0), "sites": (2, 0, 0), "jobs": (2, 0, 0)}
    assert Site.objects.get(customer__name="José Núñez").street == "9 Calle Peña"
    before = snapshot()
    assert report_import(source=DATA / "housecall_utf16.txt").written
    assert snapshot() == before


def test_semicolon_day_first_report_imports(crew):
    outcome = report_import(source=DATA / "semicolon_dayfirst.csv")
    assert outcome.written, outcome.errors
    assert counts(outcome) == {"customers": (1, 0, 0), "sites": (1, 0, 0), "jobs": (2, 0, 0)}
    assert Job.objects.get(external_id="E-1").scheduled_start == datetime(2025, 3, 5, 13, 0, tzinfo=CHICAGO)
    before = snapshot()
    report_import(source=DATA / "semicolon_dayfirst.csv")
    assert snapshot() == before


def test_report_with_a_title_above_the_header_imports(crew):
    outcome = report_import(source=DATA / "title_rows.csv")
    assert outcome.written, outcome.errors
    assert counts(outcome) == {"customers": (2, 0, 0), "sites": (2, 0, 0), "jobs": (2, 0, 0)}


def test_xlsx_report_imports(crew):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Job #", "Customer", "Phone", "Service Address", "City", "Technician", "Scheduled", "Invoice #"])
    sheet.append(["X-1", "Renée Dupré", "217 555 0101", "123 N. Main St.", "Springfield", "tom",
                  datetime(2025, 3, 5, 8), "INV-X1"])
    sheet.append(["X-2", "Renée Dupré", "217 555 0101", "123 N. Main St.", "Springfield", "tom",
                  datetime(2025, 3, 9, 8), "INV-X2"])
    out = io.BytesIO()
    book.save(out)
    outcome = report_import(source=out.getvalue())
    assert outcome.written, outcome.errors
    assert counts(outcome) == {"customers": (1, 0, 0), "sites": (1, 0, 0), "jobs": (2, 0, 0)}
    assert report_import(source=out.getvalue()).counts["jobs"] == {"new": 0, "matched": 2, "changed": 0}


def test_existing_records_are_matched_by_phone_address_and_invoice_without_ids(crew):
    customer = CustomerFactory(name="Renee Dupre", phone="217-555-0101", email="")
    site = SiteFactory(customer=customer, street="123 North Main Street", postal_code="62701")
    job = JobFactory(site=site, invoice_number="INV-H100", external_id=None)
    data = ("Customer,Phone,Email,Address,City,Zip,Date,Invoice\n"
            "Renée Dupré,(217) 555 0101,renee@example.com,123 N Main St,Springfield,62701,2025-04-01 08:00,INV-H100\n"
            ).encode()
    outcome = report_import(source=data)
    assert outcome.written, outcome.errors
    assert counts(outcome) == {"customers": (0, 0, 1), "sites": (0, 1, 0), "jobs": (0, 0, 1)}
    customer.refresh_from_db()
    # The e-mail is new; the name and phone, written another way, keep their own text.
    assert (customer.name, customer.phone, customer.email) == ("Renee Dupre", "217-555-0101", "renee@example.com")
    assert Customer.objects.count() == 1 and Site.objects.count() == 1 and Job.objects.count() == 1
    job.refresh_from_db()
    assert job.scheduled_start == datetime(2025, 4, 1, 8, tzinfo=CHICAGO)
    before = snapshot()
    assert counts(report_import(source=data)) == {"customers": (0, 1, 0), "sites": (0, 1, 0), "jobs": (0, 1, 0)}
    assert snapshot() == before


def test_the_dispatch_ids_are_used_when_the_file_has_them(crew):
    customer = CustomerFactory(external_id="C-1", phone="217 555 0199")
    data = (b"Customer ID,Customer,Phone,Site ID,Street,City,Job #,Start\n"
            b"C-1,New Name,217 555 0100,S-1,1 Elm St,Springfield,J-1,2025-04-01 08:00\n")
    assert report_import(source=data).written
    customer.refresh_from_db()
    assert customer.name == "New Name" and customer.phone == "217 555 0100"
    assert Job.objects.get(external_id="J-1").site.external_id == "S-1"


def test_ambiguous_customers_stop_the_import_until_resolved(crew):
    first = CustomerFactory(name="Pat Smith", phone="217 555 0111")
    second = CustomerFactory(name="Pat Smith Jr", phone="217 555 0111")
    data = (b"Customer,Phone,Street,City,Job #,Start\n"
            b"P. Smith,217 555 0111,1 Elm St,Springfield,J-1,2025-04-01 08:00\n")
    outcome = report_import(source=data)
    assert not outcome.written
    assert [(a.row, {c["pk"] for c in a.candidates}) for a in outcome.ambiguities] == [(2, {first.pk, second.pk})]
    assert not Job.objects.exists()
    resolved = report_import(source=data, resolutions={outcome.ambiguities[0].key: second.pk})
    assert resolved.written
    assert Job.objects.get().customer == second
    # Two customers sharing a phone are told apart by the name when it says which.
    data = data.replace(b"P. Smith", b"Pat Smith").replace(b"J-1", b"J-2")
    assert report_import(source=data).written
    assert Job.objects.get(external_id="J-2").customer == first


def test_an_unknown_technician_names_the_row_and_the_known_ones(crew):
    data = (b"Job #,Customer,Phone,Street,City,Technician,Start\n"
            b"J-1,Ann,217 555 0100,1 Elm St,Springfield,tom,2025-04-01 08:00\n"
            b"J-2,Bob,217 555 0101,2 Elm St,Springfield,Bobby Tables,2025-04-01 08:00\n")
    outcome = report_check(source=data)
    assert [str(error) for error in outcome.errors] == [
        "Row 3, Technician: 'Bobby Tables' is not a technician (give a user name, e-mail or full name). "
        "The technicians are: Luis Ortega (luis), Tom Alvarez (tom)"
    ]


def test_ambiguous_dates_ask_once_and_the_order_given_is_used(crew):
    data = (b"Job #,Customer,Phone,Street,City,Start\n"
            b"J-1,Ann,217 555 0100,1 Elm St,Springfield,03/05/2025 08:00\n")
    with pytest.raises(NeedsDateOrder) as asked:
        report_check(source=data)
    assert asked.value.headers == ["Start"]
    assert report_import(source=data, date_orders={"Start": "day"}).written
    assert Job.objects.get().scheduled_start.date().isoformat() == "2025-05-03"


def test_a_required_field_unmapped_is_refused_before_any_row(crew):
    with pytest.raises(ImportRejected) as rejected:
        report_check(source=b"Customer,Phone\nAnn,555\n")
    text = str(rejected.value.errors)
    assert "Street is required" in text and "Scheduled start is required" in text


def test_a_ten_thousand_row_file_with_one_bad_date_names_it_and_writes_nothing(crew):
    lines = ["Job #,Customer,Phone,Street,City,Technician,Scheduled,Invoice #"]
    lines += [f"J-{n},Customer {n % 500},217 555 {n % 500:04d},{n % 500} Elm St,Springfield,tom,"
              f"2025-03-{n % 28 + 1:02d} 08:00,INV-{n}" for n in range(10_000)]
    bad = lines[7_001]
    lines[7_001] = bad.replace(",2025-03-", ",2025-13-")
    outcome = report_import(source="\n".join(lines).encode())
    assert not outcome.written
    assert [str(error) for error in outcome.errors] == [
        f"Row 7002, Scheduled: {lines[7_001].split(',')[6]!r} is not a date (read month first)"]
    assert not Customer.objects.exists() and not Job.objects.exists()
    lines[7_001] = bad
    fixed = report_import(source="\n".join(lines).encode())
    assert fixed.written
    assert counts(fixed) == {"customers": (500, 0, 0), "sites": (500, 0, 0), "jobs": (10_000, 0, 0)}
    assert Job.objects.count() == 10_000


@pytest.mark.parametrize(("street", "same"), [
    ("123 N. Main St.", "123 North Main Street"), ("400 Oak Ave, Apt 2", "400 oak avenue #2"),
    ("9 Calle Peña", "9 calle pena"),
])
def test_addresses_compare_as_the_post_office_writes_them(street, same):
    assert address_key(street) == address_key(same)


def test_bad_input_is_named_by_row_and_writes_nothing(crew):
    data = ("Job #,Customer,Phone,Street,City,Start,Summary\n"
            "J-1,Ann,217 555 0100,1 Elm St,Springfield,2025-04-01 08:00,ok\n"
            f"J-2,Bob,217 555 0101,{'x' * 201},Springfield,2025-04-01 08:00,ok\n"
            "J-3,Cy,217 555 0102,3 Elm St,Springfield,2025-04-01 08:00,ok,extra\n"
            "J-1,Di,217 555 0103,4 Elm St,Springfield,2025-04-01 08:00,again\n").encode()
    outcome = report_import(source=data)
    assert not outcome.written and not Job.objects.exists() and not Customer.objects.exists()
    assert [str(error) for error in outcome.errors] == [
        "Row 4: The row has 8 cells but the header has 7.",
        "Row 5, Job #: 'J-1' already appears in row 2",
    ]
    fixed = data.replace(b",ok,extra", b",ok").replace(b"J-1,Di", b"J-4,Di")
    assert [str(error) for error in report_import(source=fixed).errors] == [
        "Row 3, Street: is 201 characters long; at most 200 fit",
    ]
    assert not Job.objects.exists() and not Customer.objects.exists()
