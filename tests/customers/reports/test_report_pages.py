"""The jobs report's pages: upload, map unfamiliar columns, save the mapping, check, import; the next file with the
same headers is mapped by itself; large files go to the worker and the page follows them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Job
from customers.reports import records
from customers.reports.models import ReportImport, ReportMapping
from servicedesk.models import SettingChange
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db

UNFAMILIAR = ("Ticket,Homeowner,Cell #,Property,Town,Visit on,Crew lead\n"
              "T-1,Renée Dupré,217 555 0101,123 N. Main St.,Springfield,2025-03-05 08:00,tom\n"
              "T-2,Jürgen Müller,217 555 0102,400 Oak Ave,Springfield,2025-03-06 08:00,tom\n").encode("cp1252")
FIELDS = {"Ticket": "job_id", "Homeowner": "customer_name", "Cell #": "phone", "Property": "street", "Town": "city",
          "Visit on": "scheduled_start", "Crew lead": "technician"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TIME_ZONE = "America/Chicago"


@pytest.fixture
def tom(db):
    return TechnicianFactory(username="tom", first_name="Tom", last_name="Alvarez")


def upload(client, data, name="jobs.csv"):
    return client.post(reverse("customers:report_upload"), {"file": SimpleUploadedFile(name, data)})


def mapping_post(headers, fields, **extra):
    return {**{f"field-{index}": fields.get(header, "") for index, header in enumerate(headers)}, **extra}


def test_only_managers_import_reports(client_for, csr, outsider):
    for user in (csr, outsider):
        assert client_for(user).get(reverse("customers:report_upload")).status_code == 403


def test_unfamiliar_columns_are_mapped_saved_and_applied_to_the_next_file(client_for, manager, tom):
    client = client_for(manager)
    response = upload(client, UNFAMILIAR)
    report = ReportImport.objects.get()
    assert response.url == report.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert report.status == "mapping" and report.layout == "Latin-1, commas"
    assert "Renée Dupré · Jürgen Müller" in page  # the first values of each column
    assert "Street is required" not in page

    headers = list(FIELDS)
    refused = client.post(reverse("customers:report_map", args=[report.pk]),
                          mapping_post(headers, {**FIELDS, "Property": ""}))
    assert refused.status_code == 400
    assert "Street is required: choose the column that gives it." in refused.content.decode()

    client.post(reverse("customers:report_map", args=[report.pk]),
                mapping_post(headers, FIELDS, save_as="Our dispatch report"))
    report.refresh_from_db()
    assert report.status == "checked"
    assert report.counts["jobs"] == {"new": 2, "matched": 0, "changed": 0}
    assert not Job.objects.exists()
    assert SettingChange.objects.filter(setting="import mapping", by=manager).count() == len(FIELDS)

    client.post(reverse("customers:report_import", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "imported" and Job.objects.count() == 2

    # The same headers again: mapped by the saved mapping and checked at once; nothing changes.
    upload(client, UNFAMILIAR, name="jobs-next-week.csv")
    second = ReportImport.objects.order_by("pk").last()
    assert second.mapping == ReportMapping.objects.get(name="Our dispatch report")
    assert second.status == "checked"
    assert second.counts["jobs"] == {"new": 0, "matched": 2, "changed": 0}
    listing = client.get(reverse("customers:report_upload")).content.decode()
    assert "jobs-next-week.csv" in listing and "Morgan Hale" in listing


def test_ambiguous_dates_are_asked_on_the_mapping_page(client_for, manager, tom):
    client = client_for(manager)
    upload(client, b"Job #,Customer,Phone,Street,City,Start\nJ-1,Ann,217 555 0100,1 Elm St,Springfield,03/05/2025\n")
    report = ReportImport.objects.get()
    client.post(reverse("customers:report_map", args=[report.pk]), mapping_post(
        ["Job #", "Customer", "Phone", "Street", "City", "Start"],
        {"Job #": "job_id", "Customer": "customer_name", "Phone": "phone", "Street": "street", "City": "city",
         "Start": "scheduled_start"}))
    report.refresh_from_db()
    assert report.status == "mapping" and report.ambiguous_dates == ["Start"]
    assert "Its dates read both ways" in client.get(report.get_absolute_url()).content.decode()


def test_a_workbook_with_several_sheets_asks_which(client_for, manager, tom):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["Total", "Jobs"])
    book.active.append(["1", "2"])
    jobs = book.create_sheet("Jobs")
    jobs.append(["Job #", "Customer", "Phone", "Street", "City", "Start"])
    jobs.append(["J-1", "Ann", "217 555 0100", "1 Elm St", "Springfield", "2025-03-05"])
    out = io.BytesIO()
    book.save(out)
    client = client_for(manager)
    upload(client, out.getvalue(), name="report.xlsx")
    report = ReportImport.objects.get()
    assert "several sheets" in client.get(report.get_absolute_url()).content.decode()
    client.post(reverse("customers:report_sheet", args=[report.pk]), {"sheet": "Jobs"})
    report.refresh_from_db()
    assert report.layout == "Excel workbook, sheet 'Jobs'"
    assert report.status == "mapping" and report.fields["Job #"] == "job_id"  # recognised, for the manager to see


def test_a_large_file_is_checked_and_imported_by_the_worker(client_for, manager, tom, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    monkeypatch.setattr(records, "BACKGROUND_BYTES", 10)
    client = client_for(manager)
    ReportMapping.objects.create(name="Ours", signature=records.header_signature(list(FIELDS)), fields=FIELDS)
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        upload(client, UNFAMILIAR)
    report = ReportImport.objects.get()
    assert report.status == "checking" and len(waiting) == 1
    progress = client.get(reverse("customers:report_progress", args=[report.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in progress.content.decode() and "HX-Refresh" not in progress
    waiting[0]()  # the worker's turn (the task runs in the test)
    report.refresh_from_db()
    assert report.status == "checked" and report.rows_checked == 2
    done = client.get(reverse("customers:report_progress", args=[report.pk]), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:report_import", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "imported" and report.rows_written == 2 and Job.objects.count() == 2


def test_a_file_with_errors_fails_with_row_numbered_messages(client_for, manager, tom):
    client = client_for(manager)
    ReportMapping.objects.create(name="Ours", signature=records.header_signature(list(FIELDS)), fields=FIELDS)
    upload(client, UNFAMILIAR.replace(b"2025-03-06", b"2025-02-30"))
    report = ReportImport.objects.get()
    assert report.status == "failed" and report.error_count == 1
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Row 3, Visit on: &#x27;2025-02-30 08:00&#x27; is not a date" in page
    assert not Job.objects.exists()


def test_ambiguous_customers_are_chosen_on_the_page_before_anything_is_written(client_for, manager, tom):
    from tests.factories import CustomerFactory

    CustomerFactory(name="Pat Smith", phone="217 555 0101")
    junior = CustomerFactory(name="Pat Smith Jr", phone="217 555 0101")
    client = client_for(manager)
    ReportMapping.objects.create(name="Ours", signature=records.header_signature(list(FIELDS)), fields=FIELDS)
    upload(client, UNFAMILIAR)
    report = ReportImport.objects.get()
    assert report.status == "checked" and [a["row"] for a in report.ambiguities] == [2]
    page = client.get(report.get_absolute_url()).content.decode()
    assert "Which customer is it?" in page and "Import 2 rows" not in page
    client.post(reverse("customers:report_resolve", args=[report.pk]), {"resolve-0": str(junior.pk)})
    report.refresh_from_db()
    assert report.status == "checked" and report.ambiguities == []
    assert report.counts["customers"] == {"new": 1, "matched": 0, "changed": 1}
    client.post(reverse("customers:report_import", args=[report.pk]))
    assert Job.objects.get(external_id="T-1").customer == junior
