"""OWASP's rule for CSV injection, the one helper every CSV export writes through."""

from decimal import Decimal

import pytest

from servicedesk.spreadsheets import csv_writer, neutralise


@pytest.mark.parametrize("typed", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(typed):
    assert neutralise(typed) == "'" + typed


@pytest.mark.parametrize("value", ["No heat upstairs", "", "Ada = Lovelace", 3, -2, Decimal("-1.5"), None])
def test_plain_text_and_numbers_are_written_as_they_are(value):
    assert neutralise(value) == value


def test_the_writer_neutralises_every_cell_of_a_row():
    line = csv_writer(lineterminator="\n").writerow(["=cmd", -4, "ok"])

    assert line == "'=cmd,-4,ok\n"
