"""The nightly import from a folder: each file once, moved to done/ or failed/ with its report; failures told."""

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from customers.models import Job
from customers.reports.mapping import header_signature, recognise
from customers.reports.models import ReportImport, ReportMapping
from servicedesk.models import Notification
from tests.factories import TechnicianFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent.parent / "data" / "reports"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TIME_ZONE = "America/Chicago"


def test_each_file_is_imported_once_and_moved_with_its_report(tmp_path, manager, django_capture_on_commit_callbacks):
    TechnicianFactory(username="tom")
    TechnicianFactory(username="luis", first_name="Luis", last_name="Ortega")
    source = DATA / "servicetitan_cp1252.csv"
    headers = ["Job #", "Customer Name", "Phone", "Email", "Service Address", "City", "State", "Zip", "Job Type",
               "Technician", "Scheduled Date", "Completed On", "Invoice #", "Total", "Summary"]
    ReportMapping.objects.create(name="ServiceTitan jobs report", signature=header_signature(headers),
                                 fields=recognise(headers))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(source, inbox / "monday.csv")
    (inbox / "tuesday.csv").write_bytes(source.read_bytes().replace(b"3/6/2025 1:00 PM", b"3/36/2025 1:00 PM"))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError, match="1 file"):
        call_command("import_csv", "--mapping", "ServiceTitan jobs report", "--watch", str(inbox))

    assert sorted(path.name for path in inbox.iterdir() if path.is_file()) == []
    assert (inbox / "done" / "monday.csv").exists()
    assert "Jobs: 3 new, 0 matched, 0 changed" in (inbox / "done" / "monday.csv.report.txt").read_text()
    failed = (inbox / "failed" / "tuesday.csv.report.txt").read_text()
    assert "Row 3, Scheduled Date: '3/36/2025 1:00 PM' is not a date" in failed
    assert Job.objects.count() == 3
    told = Notification.objects.get(recipient=manager)
    assert "tuesday.csv failed" in told.text

    call_command("import_csv", "--mapping", "ServiceTitan jobs report", "--watch", str(inbox))  # nothing new
    assert ReportImport.objects.count() == 2


def test_an_unknown_mapping_names_the_saved_ones(tmp_path):
    ReportMapping.objects.create(name="Jobber", signature="x", fields={})
    with pytest.raises(CommandError, match=r"No mapping is called 'Nope' \(saved mappings: Jobber\)"):
        call_command("import_csv", "--mapping", "Nope", "--watch", str(tmp_path))
