import csv
import io
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers import forms as customer_forms
from customers.importing import KINDS, ImportRejected, apply_import, example_csv, plan_import
from customers.models import Customer, Equipment, Job, Site
from tests.factories import CustomerFactory, SiteFactory, TechnicianFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
CHICAGO = ZoneInfo("America/Chicago")


def fixture_file(kind):
    return (DATA / f"{kind}.csv").read_bytes()


def snapshot():
    """Every row of every table an import writes, field for field."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Customer, Site, Equipment, Job, Job.helpers.through)
    }


def messages_of(plan_or_errors):
    errors = plan_or_errors.errors if hasattr(plan_or_errors, "errors") else plan_or_errors
    return [str(error) for error in errors]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TIME_ZONE = "America/Chicago"


@pytest.fixture
def crew(technician):
    """The lead named by e-mail in jobs.csv and helpers named by user name and by full name."""
    return {
        "lead": technician,
        "helper": TechnicianFactory(username="helper1"),
        "hana": TechnicianFactory(username="hlee", first_name="Hana", last_name="Lee"),
    }


@pytest.fixture
def imported(crew):
    for kind in KINDS:
        apply_import(kind=kind, data=fixture_file(kind))
    return crew


# A good import of each kind.


def test_customers_file_creates_customers_with_searchable_phones(db):
    plan = apply_import(kind="customers", data=fixture_file("customers"))

    assert plan.counts == {"new": 3, "updated": 0, "unchanged": 0}
    grace = Customer.objects.get(external_id="C-1")
    assert grace.name == "Grace Hopper"
    assert grace.phone == "(555) 010-2233" and grace.phone_digits == "5550102233"
    assert grace.preferred_contact == Customer.ContactMethod.TEXT
    assert grace.notes == "Dog in the yard, ring twice"
    assert not grace.contact_opt_out and grace.contact_opt_out_at is None
    alan = Customer.objects.get(external_id="C-2")
    assert alan.alt_phone_digits == "5550107788"
    assert alan.contact_opt_out and alan.contact_opt_out_at is not None
    assert Customer.objects.get(external_id="C-3").notes == "Prefers mornings\nafter 8"
    assert list(Customer.objects.search("555.010.4455")) == [alan]
    assert plan.ignored_headers == ["Tags"]


def test_sites_file_links_each_site_to_its_customer(db):
    apply_import(kind="customers", data=fixture_file("customers"))

    apply_import(kind="sites", data=fixture_file("sites"))

    shop = Site.objects.get(external_id="L-2")
    assert shop.customer.external_id == "C-2"
    assert (shop.label, shop.street, shop.unit, shop.postal_code) == ("Shop", "400 Main St", "Suite 2", "62704")
    assert shop.site_type == Site.SiteType.COMMERCIAL
    assert Site.objects.get(external_id="L-3").site_type == Site.SiteType.RESIDENTIAL
    assert Site.objects.get(external_id="L-1").access_notes == "1234"


def test_equipment_file_places_equipment_at_its_site(db):
    for kind in ("customers", "sites"):
        apply_import(kind=kind, data=fixture_file(kind))

    apply_import(kind="equipment", data=fixture_file("equipment"))

    furnace, air, tankless = Equipment.objects.order_by("external_id")
    assert furnace.site.external_id == "L-1" and furnace.kind == Equipment.Kind.FURNACE
    assert (furnace.make, furnace.model_number, furnace.serial_number) == ("Carrier", "59SC5", "2417A12345")
    assert furnace.installed_on.isoformat() == "2016-10-03"
    assert air.kind == Equipment.Kind.AIR_CONDITIONER and air.installed_on.isoformat() == "2018-06-15"
    assert tankless.kind == Equipment.Kind.TANKLESS_WATER_HEATER and tankless.installed_on is None


def test_jobs_file_creates_jobs_with_their_technicians(imported):
    tune_up = Job.objects.get(external_id="J-1")
    assert tune_up.customer.external_id == "C-1" and tune_up.site.external_id == "L-1"
    assert tune_up.equipment.external_id == "E-1"
    assert tune_up.kind == Job.Kind.MAINTENANCE and tune_up.status == Job.Status.COMPLETED
    assert tune_up.scheduled_start == datetime(2024, 10, 1, 8, 0, tzinfo=CHICAGO)
    assert tune_up.scheduled_end == datetime(2024, 10, 1, 10, 0, tzinfo=CHICAGO)
    assert tune_up.completed_at == datetime(2024, 10, 1, 9, 40, tzinfo=CHICAGO)
    assert tune_up.lead_technician == imported["lead"]
    assert set(tune_up.helpers.all()) == {imported["helper"], imported["hana"]}
    assert (tune_up.summary, tune_up.invoice_number, tune_up.no_charge) == (
        "Fall tune-up, flame sensor cleaned", "INV-1", False)
    service = Job.objects.get(external_id="J-2")
    assert service.kind == Job.Kind.SERVICE_CALL and service.status == Job.Status.SCHEDULED
    assert service.lead_technician == imported["lead"] and service.equipment.external_id == "E-3"
    cancelled = Job.objects.get(external_id="J-3")
    assert cancelled.customer.external_id == "C-3", "the customer comes from the site when the cell is blank"
    assert cancelled.kind == Job.Kind.CALLBACK_REVISIT and cancelled.status == Job.Status.CANCELLED
    assert cancelled.scheduled_start == datetime(2025, 2, 1, 15, 0, tzinfo=ZoneInfo("UTC"))
    assert cancelled.no_charge and cancelled.lead_technician is None and not cancelled.helpers.exists()


# Re-import.


def test_reimporting_the_same_files_changes_nothing(imported):
    before = snapshot()

    plans = [apply_import(kind=kind, data=fixture_file(kind)) for kind in KINDS]

    assert [plan.counts for plan in plans] == [{"new": 0, "updated": 0, "unchanged": 3}] * 4
    assert snapshot() == before


def test_a_newer_export_updates_changed_rows_and_leaves_columns_it_lacks_alone(imported):
    Site.objects.filter(external_id="L-1").update(access_notes="Gate code 9999")
    newer = b"Site ID,Customer ID,Street,City\nL-1,C-1,12 Elm Street,Springfield\nL-2,C-2,400 Main St,Springfield\n"

    plan = apply_import(kind="sites", data=newer)

    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 1}
    home = Site.objects.get(external_id="L-1")
    assert home.street == "12 Elm Street"
    assert home.access_notes == "Gate code 9999" and home.label == "Home"
    assert Site.objects.get(external_id="L-2").unit == "Suite 2"


def test_reimport_replaces_a_jobs_helpers_and_keeps_when_a_customer_first_opted_out(imported):
    opted_out_at = Customer.objects.get(external_id="C-2").contact_opt_out_at
    jobs = fixture_file("jobs").replace(b"helper1;Hana Lee", b"hlee")

    plan = apply_import(kind="jobs", data=jobs)
    apply_import(kind="customers", data=fixture_file("customers"))

    assert plan.counts == {"new": 0, "updated": 1, "unchanged": 2}
    assert list(Job.objects.get(external_id="J-1").helpers.all()) == [imported["hana"]]
    assert Customer.objects.get(external_id="C-2").contact_opt_out_at == opted_out_at


def test_a_job_without_an_end_gets_a_window_that_ends_when_it_starts(imported):
    apply_import(kind="jobs", data=b"Job ID,Site ID,Scheduled start\nJ-9,L-1,2025-04-01 08:00\n")

    job = Job.objects.get(external_id="J-9")
    assert job.scheduled_end == job.scheduled_start and job.customer.external_id == "C-1"


def test_an_export_without_an_end_column_updates_the_jobs_it_has_and_keeps_their_ends(imported):
    # PostgreSQL checks the NOT NULL end of the row an upsert proposes before it sees that the job exists.
    job = Job.objects.select_related("site").get(external_id="J-1")
    data = (f"Job ID,Site ID,Scheduled start,Summary\n"
            f"J-1,{job.site.external_id},{job.scheduled_start.isoformat()},Rewired the thermostat.\n").encode()

    plan = apply_import(kind="jobs", data=data)

    assert plan.counts["updated"] == 1
    updated = Job.objects.get(pk=job.pk)
    assert updated.summary == "Rewired the thermostat." and updated.scheduled_end == job.scheduled_end


def test_a_technician_is_found_by_user_name_before_e_mail_or_full_name(imported):
    TechnicianFactory(username="hana@example.com", first_name="Hana", last_name="Lee")  # another Hana Lee
    jobs = b"Job ID,Site ID,Start,Technician,Helpers\nJ-9,L-1,2025-04-01 08:00,hlee,helper1\n"

    apply_import(kind="jobs", data=jobs)

    assert Job.objects.get(external_id="J-9").lead_technician == imported["hana"]
    errors = messages_of(plan_import(kind="jobs", data=jobs.replace(b"hlee", b"Hana Lee")))
    assert errors == ["Row 2, Technician: 'Hana Lee' matches more than one technician; use the user name"]


@pytest.mark.parametrize("header", ["Customer ID", "customer_id", "Customer #", "CUSTOMER-ID", " customer id "])
def test_headers_match_whatever_their_case_and_punctuation(db, header):
    apply_import(kind="customers", data=f"{header},Name\nC-7,Rosa Parks\n".encode())

    assert Customer.objects.get(external_id="C-7").name == "Rosa Parks"


def test_no_two_columns_of_a_kind_accept_the_same_header():
    for kind in KINDS.values():
        keys = [key for column in kind.columns for key in column.keys]
        assert len(keys) == len(set(keys)), kind.name


def test_example_files_import_cleanly_in_order(technician):
    for kind in KINDS:
        example = example_csv(kind).encode()
        assert plan_import(kind=kind, data=example).errors == []
        apply_import(kind=kind, data=example)

    assert Job.objects.filter(external_id__in=["J-4001", "J-4002"], lead_technician=technician).count() == 2
    assert Equipment.objects.get(external_id="E-3002").kind == Equipment.Kind.AIR_CONDITIONER


# Malformed files: each rejected whole, with a row-numbered message, writing nothing.

UTF16 = "Customer ID,Name\nC-9,Zoë Saldaña\n".encode("utf-16")
LATIN1 = "Customer ID,Name\nC-9,Bob\nC-10,José Núñez\n".encode("latin-1")

MALFORMED = [
    ("customers", b"Name,Phone\nBob Jones,555-0100\n", "Row 1: Missing required column 'Customer ID'"),
    ("customers", b"Customer ID,Phone\nC-9,555-0100\n", "Row 1: Missing required column 'Name'"),
    ("jobs", b"Job ID,Site ID\nJ-9,L-1\n", "Row 1: Missing required column 'Scheduled start'"),
    ("customers", b"ID,Name,Customer ID\nC-9,Bob,C-9\n", "Row 1: Columns 'ID' and 'Customer ID' both give"),
    ("equipment", b"Asset ID,Location ID,Type,Install Date\nE-9,L-1,Furnace,2016-10-03\nE-10,L-1,Boiler,2016-13-45\n",
     "Row 3, Install Date: '2016-13-45' is not a date"),
    ("jobs", b"Job ID,Site ID,Start\nJ-9,L-1,2025-04-01 08:00\nJ-10,L-1,next tuesday\n",
     "Row 3, Start: 'next tuesday' is not a date and time"),
    ("jobs", b"Job ID,Site ID,Start\nJ-9,L-1,31/12/2024 08:00\n", "Row 2, Start: '31/12/2024 08:00' is not a date"),
    ("equipment", b"Equipment ID,Site ID,Kind\nE-9,L-1,Furnace\nE-10,L-1,Flux capacitor\n",
     "Row 3, Kind: 'Flux capacitor' is not one of: furnace, air conditioner"),
    ("equipment", b"Equipment ID,Site ID,Kind\nE-9,L-1,\n", "Row 2, Kind: is required"),
    ("jobs", b"Job ID,Site ID,Start,Status\nJ-9,L-1,2025-04-01 08:00,Pending approval\n",
     "Row 2, Status: 'Pending approval' is not one of"),
    ("customers", b"Customer ID,Name\nC-9,Bob\nC-10,Carol\nC-9,Bobby\n",
     "Row 4, Customer ID: 'C-9' already appears in row 2"),
    ("customers", b"Customer ID,Name\nC-9,Bob\n,Carol\n", "Row 3, Customer ID: is required"),
    ("customers", b"Customer ID,Name,Email\nC-9,Bob,bob@example\n", "Row 2, Email: 'bob@example' is not an e-mail"),
    ("customers", b"Customer ID,Name,Do not call\nC-9,Bob,maybe\n", "Row 2, Do not call: 'maybe' is not yes or no"),
    ("customers", b"Customer ID,First name,Last name\nC-9,,\n", "Row 2, Name: a name is required"),
    ("customers", b"Customer ID,Name\nC-9," + b"B" * 201 + b"\n", "Row 2, Name: is 201 characters long; at most 200"),
    ("sites", b"Site ID,Customer ID,Street,City\nL-9,C-1,1 A St,Springfield\nL-10,C-404,2 B St,Springfield\n",
     "Row 3, Customer ID: no customer has id 'C-404' (import the customers file first)"),
    ("equipment", b"Equipment ID,Site ID,Kind\nE-9,L-404,Furnace\n", "Row 2, Site ID: no site has id 'L-404'"),
    ("jobs", b"Job ID,Site ID,Equipment ID,Start\nJ-9,L-1,E-404,2025-04-01 08:00\n",
     "Row 2, Equipment ID: no equipment has id 'E-404'"),
    ("jobs", b"Job ID,Customer ID,Site ID,Start\nJ-9,C-2,L-1,2025-04-01 08:00\n",
     "Row 2, Customer ID: site 'L-1' belongs to another customer"),
    ("jobs", b"Job ID,Site ID,Equipment ID,Start\nJ-9,L-2,E-1,2025-04-01 08:00\n",
     "Row 2, Equipment ID: the equipment is at another site"),
    ("jobs", b"Job ID,Site ID,Start,Technician\nJ-9,L-1,2025-04-01 08:00,nobody\n",
     "Row 2, Technician: 'nobody' is not a technician"),
    ("jobs", b"Job ID,Site ID,Start,Helpers\nJ-9,L-1,2025-04-01 08:00,helper1;ghost\n",
     "Row 2, Helpers: 'ghost' is not a technician"),
    ("jobs", b"Job ID,Site ID,Start,End\nJ-9,L-1,2025-04-01 10:00,2025-04-01 08:00\n",
     "Row 2, End: the scheduled end is before the scheduled start"),
    ("jobs", b"Job ID,Site ID,Start,Status\nJ-9,L-1,2025-04-01 08:00,Completed\n",
     "Row 2, Completed at: a completed job needs its completion time"),
    ("jobs", b"Job ID,Site ID,Start,Status,Completed\nJ-9,L-1,2025-04-01 08:00,Scheduled,2025-04-01 09:00\n",
     "Row 2, Completed at: has a completion time but its status is scheduled"),
    ("jobs", b"Job ID,Site ID,Start\nJ-9,L-1,1924-04-01 08:00\nJ-10,L-1,0202-04-01 08:00\n",
     "Row 3, Start: '0202-04-01 08:00' has an unlikely year"),
    ("customers", b"Customer ID,Name\nC-9,Bob,extra,cells\n", "Row 2: The row has 4 cells but the header has 2"),
    ("customers", b"Customer ID,Name\nC-8,Al\nC-9,\"Bob\n", "Row 3: The file is not valid CSV: unexpected end of data"),
    ("customers", UTF16, "Row 1: The file is UTF-16 text"),
    ("customers", LATIN1, "Row 3: The file is not UTF-8 text (byte 0xE9"),
    ("customers", b"Customer ID,Name\x00\nC-9,Bob\n", "Row 1: The file is not CSV text"),
    ("customers", b"", "Row 1: The file is empty"),
    ("customers", b" \r\n\r\n", "Row 1: The file is empty"),
    ("customers", b"Customer ID,Name\r\n", "Row 1: The file has a header but no rows"),
    ("customers", b"\n\n,,\n", "Row 1: The file is empty"),
]


@pytest.mark.parametrize(("kind", "data", "expected"), MALFORMED, ids=[case[2][:48] for case in MALFORMED])
def test_a_malformed_file_is_rejected_whole_with_a_row_numbered_error(imported, kind, data, expected):
    before = snapshot()

    plan = plan_import(kind=kind, data=data)
    with pytest.raises(ImportRejected) as rejected:
        apply_import(kind=kind, data=data)

    assert any(message.startswith(expected) for message in messages_of(plan)), messages_of(plan)
    assert messages_of(rejected.value.errors) == messages_of(plan)
    assert snapshot() == before


def test_every_bad_row_is_reported_in_row_order_not_only_the_first(imported):
    data = (
        b"Job ID,Site ID,Start,End,Kind\n"
        b"J-9,L-404,2025-04-01 08:00,2025-04-01 09:00,service\n"
        b"J-10,L-1,2025-04-01 08:00,2025-04-01 07:00,service\n"
        b"J-11,L-1,2025-04-01 08:00,2025-04-01 09:00,service\n"
        b"J-12,L-1,soon,2025-04-01 09:00,teardown\n"
    )

    errors = messages_of(plan_import(kind="jobs", data=data))

    assert [error.split(",")[0].split(":")[0] for error in errors] == ["Row 2", "Row 3", "Row 5", "Row 5"]
    assert not Job.objects.filter(external_id="J-11").exists()


def test_a_file_with_a_semicolon_delimiter_and_a_byte_order_mark_imports(db):
    apply_import(kind="customers", data="\ufeffCustomer ID;Name;Phone\nC-9;Zoë Saldaña;555 010 1234\n".encode())

    assert Customer.objects.get(external_id="C-9").name == "Zoë Saldaña"


# Scale: 10,000 rows in a few statements, not one query per row.


def _csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_ten_thousand_jobs_import_in_seconds_with_a_bounded_number_of_queries(
    postgres, crew, django_assert_max_num_queries
):
    customers = [["Customer ID", "Name", "Phone", "Email"]] + [
        [f"C-{n}", f"Customer {n}", f"(555) {n // 10000:03d}-{n % 10000:04d}", f"c{n}@example.com"]
        for n in range(2000)
    ]
    sites = [["Site ID", "Customer ID", "Street", "City"]] + [
        [f"L-{n}", f"C-{n}", f"{n} Elm St", "Springfield"] for n in range(2000)
    ]
    jobs = [["Job ID", "Site ID", "Kind", "Status", "Start", "End", "Completed at", "Technician", "Helpers",
             "Summary", "Invoice"]] + [
        [f"J-{n}", f"L-{n % 2000}", "maintenance", "completed", f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d} 08:00",
         f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d} 10:00", f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d} 09:30",
         "technician", "helper1" if n % 3 == 0 else "", f"Visit {n}", f"INV-{n}"]
        for n in range(10_000)
    ]
    apply_import(kind="customers", data=_csv(customers))
    apply_import(kind="sites", data=_csv(sites))
    data = _csv(jobs)

    started = time.perf_counter()
    with django_assert_max_num_queries(80):
        plan = apply_import(kind="jobs", data=data)
    first_import = time.perf_counter() - started
    before = snapshot()
    started = time.perf_counter()
    again = apply_import(kind="jobs", data=data)
    reimport = time.perf_counter() - started

    print(f"\n10,000 jobs: first import {first_import:.2f} s, re-import {reimport:.2f} s")
    assert plan.counts["new"] == 10_000 and Job.objects.count() == 10_000
    assert Job.helpers.through.objects.count() == 3334
    assert again.counts["unchanged"] == 10_000 and snapshot() == before
    assert first_import < 30 and reimport < 30


def test_a_large_malformed_file_reports_every_bad_row_and_writes_nothing(imported):
    rows = [["Customer ID", "Name", "Email"]] + [
        [f"C-{n}", f"Customer {n}", "not-an-email" if n % 1000 == 999 else ""] for n in range(10_000)
    ]

    with pytest.raises(ImportRejected) as rejected:
        apply_import(kind="customers", data=_csv(rows))

    assert len(rejected.value.errors) == 10
    assert str(rejected.value.errors[0]).startswith("Row 1001, Email:")
    assert Customer.objects.count() == 3


# The management command.


def test_command_imports_a_file_and_reports_what_it_did(db, capsys):
    call_command("import_csv", "customers", str(DATA / "customers.csv"))

    assert "Imported 3 customers: 3 new, 0 updated, 0 unchanged from customers.csv." in capsys.readouterr().out
    assert Customer.objects.count() == 3


def test_command_dry_run_writes_nothing(db, capsys):
    call_command("import_csv", "customers", str(DATA / "customers.csv"), "--dry-run")

    assert "would import 3 customers: 3 new" in capsys.readouterr().out
    assert not Customer.objects.exists()


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_command_refuses_a_bad_file_with_row_numbered_errors_and_a_nonzero_exit(db, tmp_path, capsys, dry_run):
    bad = tmp_path / "customers.csv"
    bad.write_bytes(b"Customer ID,Name\nC-1,Bob\nC-1,Bobby\nC-2,Carol,x\n")

    with pytest.raises(CommandError) as failure:
        call_command("import_csv", "customers", str(bad), *dry_run)

    assert failure.value.returncode == 1
    assert "2 errors; nothing was written" in str(failure.value)
    errors = capsys.readouterr().err
    assert "Row 3, Customer ID: 'C-1' already appears in row 2" in errors
    assert "Row 4: The row has 3 cells but the header has 2" in errors
    assert not Customer.objects.exists()


def test_command_says_when_the_file_cannot_be_read(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_csv", "customers", str(tmp_path / "missing.csv"))


# The pages.


def _upload(client, kind, data, name="export.csv"):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("customers:import"), {"kind": kind, "file": upload})


def test_anonymous_is_sent_to_login(client):
    for url in (reverse("customers:import"), reverse("customers:import_example", args=["jobs"])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.post(reverse("customers:import_confirm")).status_code == 302


@pytest.mark.parametrize("role", ["csr", "technician", "sales", "outsider"])
def test_only_managers_may_import(request, client_for, role):
    client = client_for(request.getfixturevalue(role))

    assert client.get(reverse("customers:import")).status_code == 403
    assert _upload(client, "customers", fixture_file("customers")).status_code == 403
    assert client.post(reverse("customers:import_confirm"), {"token": "x"}).status_code == 403
    assert client.get(reverse("customers:import_example", args=["jobs"])).status_code == 403
    assert reverse("customers:import") not in client.get(reverse("home")).content.decode()
    assert not Customer.objects.exists()


def test_manager_sees_the_upload_page_with_the_columns_of_each_kind(client_for, manager):
    response = client_for(manager).get(reverse("customers:import"))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in body
    assert "Scheduled start" in body and "customer #" in body
    assert reverse("customers:import_example", args=["equipment"]) in body
    assert f'href="{reverse("customers:import")}">Import from the dispatch system</a>' in body  # the user menu


def test_example_download_is_a_csv_attachment(client_for, manager):
    response = client_for(manager).get(reverse("customers:import_example", args=["sites"]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="sites-example.csv"' in response["Content-Disposition"]
    assert response.content.decode().startswith("Site ID,Customer ID,Label,Street")
    assert client_for(manager).get("/import/example/widgets.csv").status_code == 404


def test_upload_shows_a_preview_and_writes_nothing_until_import_is_pressed(client_for, manager, settings):
    CustomerFactory(external_id="C-1", name="Grace Hopper", phone="(555) 010-2233", email="grace@example.com")
    client = client_for(manager)

    response = _upload(client, "customers", fixture_file("customers"), name="st-customers.csv")

    body = response.content.decode()
    assert response.status_code == 200
    assert "st-customers.csv holds 3 customers" in body
    assert "Import 3 customers" in body and "Columns left out: Tags." in body
    assert response.context["counts"] == {"new": 2, "updated": 1, "unchanged": 0}
    assert [row["row"] for row in response.context["preview"]] == [2, 3, 4]
    assert Customer.objects.count() == 1
    pending = client.session["customers_import"]
    assert (Path(settings.MEDIA_ROOT) / pending["name"]).read_bytes() == fixture_file("customers")
    assert pending["name"].startswith("imports/") and len(pending["token"]) >= 32

    response = client.post(reverse("customers:import_confirm"), {"token": pending["token"]}, follow=True)

    assert "Imported 3 customers: 2 new, 1 updated, 0 unchanged from st-customers.csv." in response.content.decode()
    assert Customer.objects.count() == 3 and Customer.objects.get(external_id="C-1").preferred_contact == "text"
    assert not (Path(settings.MEDIA_ROOT) / pending["name"]).exists()
    assert "customers_import" not in client.session


def test_upload_of_a_bad_file_shows_the_errors_and_keeps_nothing(client_for, manager, settings):
    client = client_for(manager)

    response = _upload(client, "sites", fixture_file("sites"), name="locations.csv")

    body = response.content.decode()
    assert "locations.csv was not imported: 3 errors; nothing was written." in body
    assert "Row 2, customer_id: no customer has id &#x27;C-1&#x27;" in body
    assert not Site.objects.exists()
    assert "customers_import" not in client.session
    assert not (Path(settings.MEDIA_ROOT) / "imports").exists()


def test_upload_of_a_latin1_file_explains_how_to_save_it(client_for, manager):
    response = _upload(client_for(manager), "customers", LATIN1)

    assert "Save it as &quot;CSV UTF-8&quot;" in response.content.decode()
    assert not Customer.objects.exists()


def test_upload_without_a_file_or_too_large_is_a_form_error(client_for, manager, monkeypatch):
    client = client_for(manager)

    response = client.post(reverse("customers:import"), {"kind": "customers"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()

    monkeypatch.setattr(customer_forms, "MAX_IMPORT_SIZE", 100)
    response = _upload(client, "customers", fixture_file("customers"))
    assert "at most 100" in response.content.decode()
    assert not Customer.objects.exists()


def test_confirm_refuses_without_a_pending_upload_or_with_another_token(client_for, manager):
    client = client_for(manager)

    response = client.post(reverse("customers:import_confirm"), {"token": "nothing"}, follow=True)
    assert "no longer waiting" in response.content.decode()

    _upload(client, "customers", fixture_file("customers"))
    response = client.post(reverse("customers:import_confirm"), {"token": "someone-elses"}, follow=True)
    assert "no longer waiting" in response.content.decode()
    assert not Customer.objects.exists()
    assert client.get(reverse("customers:import_confirm")).status_code == 405


def test_a_new_upload_replaces_the_one_waiting_for_confirmation(client_for, manager, settings):
    client = client_for(manager)
    _upload(client, "customers", fixture_file("customers"))
    first = client.session["customers_import"]["name"]

    _upload(client, "customers", b"Customer ID,Name\nC-9,Rosa Parks\n")

    assert not (Path(settings.MEDIA_ROOT) / first).exists()
    client.post(reverse("customers:import_confirm"), {"token": client.session["customers_import"]["token"]})
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C-9"]


def test_confirm_shows_errors_when_the_data_changed_since_the_preview(client_for, manager):
    site = SiteFactory(external_id="L-1")
    client = client_for(manager)
    _upload(client, "equipment", b"Equipment ID,Site ID,Kind\nE-9,L-1,Boiler\n")
    Site.objects.filter(pk=site.pk).update(external_id="L-1-merged")

    response = client.post(reverse("customers:import_confirm"), {"token": client.session["customers_import"]["token"]})

    assert "Row 2, Site ID: no site has id &#x27;L-1&#x27;" in response.content.decode()
    assert not Equipment.objects.exists()


# Do-not-service: the dispatch system booked it; the import keeps it, flags it and tells the managers.


def test_a_job_booked_in_dispatch_for_a_do_not_service_customer_is_imported_flagged_and_told_to_managers(
    imported, manager, django_capture_on_commit_callbacks
):
    from servicedesk.models import Notification

    Customer.objects.filter(external_id="C-2").update(do_not_service=True, do_not_service_since=datetime.now(CHICAGO))
    jobs = (b"Job ID,Site ID,Status,Start\n"
            b"J-20,L-2,scheduled,2025-04-01 08:00\n"  # new, for the do-not-service customer
            b"J-2,L-2,scheduled,2025-03-05 13:00\n"  # booked before: left for the keep-or-cancel decision
            b"J-21,L-1,scheduled,2025-04-01 08:00\n")  # another customer

    plan = plan_import(kind="jobs", data=jobs)
    assert [record.external_id for record in plan.do_not_service_bookings] == ["J-20"]
    with django_capture_on_commit_callbacks(execute=True):
        apply_import(kind="jobs", data=jobs)

    flagged = dict(Job.objects.values_list("external_id", "booked_in_dispatch_for_do_not_service"))
    assert flagged == {"J-1": False, "J-2": False, "J-3": False, "J-20": True, "J-21": False}
    told = Notification.objects.get(recipient=manager)
    assert "Booked in the dispatch system for a do-not-service customer: 1 imported job (J-20)" in told.text
    # Importing it again keeps the flag and changes nothing.
    assert apply_import(kind="jobs", data=jobs).counts["unchanged"] == 3
    assert Job.objects.get(external_id="J-20").booked_in_dispatch_for_do_not_service


def test_the_preview_says_which_rows_book_a_do_not_service_customer(imported, client_for, manager):
    Customer.objects.filter(external_id="C-2").update(do_not_service=True, do_not_service_since=datetime.now(CHICAGO))

    body = _upload(client_for(manager), "jobs", b"Job ID,Site ID,Status,Start\nJ-20,L-2,scheduled,2025-04-01 08:00\n"
                   ).content.decode()

    assert "1 job booked in the dispatch system for a do-not-service customer (row 2)" in body
    assert not Job.objects.filter(external_id="J-20").exists()


def test_a_file_with_more_rows_than_one_request_can_import_is_refused_before_it_is_read(client_for, manager):
    rows = customer_forms.MAX_IMPORT_ROWS + 1
    data = b"Customer ID,Name\n" + b"".join(b"C-%d,N\n" % number for number in range(rows))

    response = _upload(client_for(manager), "customers", data, name="everyone.csv")

    body = response.content.decode()
    assert response.status_code == 200
    assert f"The file has {rows:,} rows; at most {customer_forms.MAX_IMPORT_ROWS:,} can be imported at once" in body
    assert "manage.py import_csv" in body
    assert not Customer.objects.exists()


def test_a_file_larger_than_one_request_can_import_is_refused_with_the_way_to_import_it(client_for, manager):
    data = b"Customer ID,Name\nC-1," + b"N" * (customer_forms.MAX_IMPORT_SIZE + 1) + b"\n"

    response = _upload(client_for(manager), "customers", data)

    assert "at most 10.0\xa0MB can be imported at once from this page" in response.content.decode()
    assert "manage.py import_csv" in response.content.decode()
