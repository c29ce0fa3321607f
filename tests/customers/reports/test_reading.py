"""Reading whatever a spreadsheet wrote: encodings, delimiters, a title above the header, workbooks, dates, amounts."""

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from customers.importing import ImportRejected
from customers.reports.reading import read_table
from customers.reports.values import AMBIGUOUS, DAY_FIRST, ISO, US, date_order, parse_amount, parse_moment

DATA = Path(__file__).parent.parent / "data" / "reports"


def rows_of(table):
    return [cells for _, cells in table.rows()]


def test_windows_1252_is_read_with_its_accents_and_says_so():
    table = read_table(DATA / "servicetitan_cp1252.csv")
    assert table.layout == "Windows-1252, commas"
    names = [cells[1] for cells in rows_of(table)]
    assert names == ["Renée Dupré", "Jürgen Müller", "Renée Dupré"]
    assert rows_of(table)[1][-1] == "“No heat” upstairs"


def test_latin_1_without_the_windows_only_bytes():
    table = read_table("Name,City\nRenée Dupré,Zürich\n".encode("latin-1"))
    assert table.layout == "Latin-1, commas"
    assert rows_of(table) == [["Renée Dupré", "Zürich"]]


@pytest.mark.parametrize(("encoding", "label"), [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("utf-16", "UTF-16 LE"), ("utf-16-le", "UTF-16 LE"),
    ("utf-16-be", "UTF-16 BE"),
])
def test_unicode_encodings_with_and_without_a_byte_order_mark(encoding, label):
    data = "Name\tPhone\nJürgen Müller\t555 0102\n".encode(encoding)
    if encoding == "utf-16":
        data = "\ufeffName\tPhone\nJürgen Müller\t555 0102\n".encode("utf-16-be")  # a BOM, big-endian
        label = "UTF-16 BE"
    table = read_table(data)
    assert table.layout == f"{label}, tabs"
    assert table.headers == ["Name", "Phone"]
    assert rows_of(table) == [["Jürgen Müller", "555 0102"]]


def test_utf_16_report_file():
    table = read_table(DATA / "housecall_utf16.txt")
    assert table.layout == "UTF-16 LE, tabs"
    assert rows_of(table)[0][1] == "José Núñez"


@pytest.mark.parametrize(("delimiter", "word"), [(",", "commas"), (";", "semicolons"), ("\t", "tabs"), ("|", "bars")])
def test_the_delimiter_is_found(delimiter, word):
    rows = (["Job", "Customer", "Note"], ["1", "A", '"x, y; z | w"'], ["2", "B", ""])
    text = "\n".join(delimiter.join(row) for row in rows)
    table = read_table(text.encode())
    assert table.layout == f"UTF-8, {word}"
    assert rows_of(table)[0][0] == "1"


def test_a_title_and_blank_lines_above_the_header():
    table = read_table(DATA / "title_rows.csv")
    assert table.header_row == 4
    assert table.headers[:2] == ["Job ID", "Customer"]
    assert [number for number, _ in table.rows()] == [5, 6]
    assert table.layout == "UTF-8 with BOM, commas, header on row 4"
    assert table.estimated_rows() == 2  # for the progress bar


def test_a_row_wider_than_the_header_is_an_error_naming_it():
    table = read_table(b"A,B\n1,2\n3,4,5\n6,7,,\n")
    rows = list(table.rows())
    assert rows[0] == (2, ["1", "2"])
    assert str(rows[1][1]) == "Row 3: The row has 3 cells but the header has 2."
    assert rows[2] == (4, ["6", "7"])  # empty trailing cells are not extra cells


@pytest.mark.parametrize("data", [
    b"", b"  \n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", b"just one line of prose",
])
def test_what_is_not_a_table_is_refused_plainly(data):
    with pytest.raises(ImportRejected) as rejected:
        read_table(data)
    assert "empty" in str(rejected.value) or "not a table" in str(rejected.value)


def workbook(*sheets):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_reads_dates_numbers_and_formulas_as_text():
    data = workbook(("Jobs", [
        ["Jobs report"], [],
        ["Job #", "Customer", "Scheduled", "Total", "Summary"],
        ["J-1", "Renée Dupré", datetime(2025, 3, 5, 13, 0), 1234.5, "=1+1"],
        ["J-2", "Jürgen Müller", datetime(2025, 3, 6), 89, "@SUM(A1)"],
    ]))
    table = read_table(data)
    assert table.layout == "Excel workbook, sheet 'Jobs'"
    assert table.header_row == 3
    assert table.estimated_rows() == 2
    assert rows_of(table) == [
        ["J-1", "Renée Dupré", "2025-03-05 13:00", "1234.5", "=1+1"],
        ["J-2", "Jürgen Müller", "2025-03-06", "89", "@SUM(A1)"],
    ]


def test_a_workbook_with_several_sheets_asks_which():
    data = workbook(("Jobs", [["Job #", "Customer"], ["1", "A"]]), ("Payments", [["Invoice", "Paid"], ["1", "2"]]))
    with pytest.raises(ImportRejected) as rejected:
        read_table(data)
    assert rejected.value.sheets == ["Jobs", "Payments"]
    assert "several sheets (Jobs, Payments)" in str(rejected.value)
    assert rows_of(read_table(data, sheet="Payments")) == [["1", "2"]]


def test_an_old_xls_workbook_is_refused_with_what_to_do():
    with pytest.raises(ImportRejected, match=r"\.xlsx"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)


@pytest.mark.parametrize(("values", "order"), [
    (["2025-03-05 13:00", ""], ISO),
    (["3/5/2025 1:00 PM", "3/14/2025 10:00 AM"], US),
    (["05/03/2025 13:00", "18/03/2025 09:00"], DAY_FIRST),
    (["05.03.2025"], DAY_FIRST),
    (["03/05/2025", "04/06/2025"], AMBIGUOUS),
])
def test_a_columns_date_order_comes_from_its_values(values, order):
    assert date_order(values) == order


def test_a_column_with_both_orders_is_an_error():
    with pytest.raises(ValueError, match="both month first and day first"):
        date_order(["13/01/2025", "01/13/2025"])


@pytest.mark.parametrize(("text", "order", "expected"), [
    ("2025-03-05 13:00", US, datetime(2025, 3, 5, 13)),
    ("2025-03-05T08:30:15", DAY_FIRST, datetime(2025, 3, 5, 8, 30, 15)),
    ("3/5/2025 1:00 PM", US, datetime(2025, 3, 5, 13)),
    ("3/5/25 12:15 am", US, datetime(2025, 3, 5, 0, 15)),
    ("05/03/2025 13:00", DAY_FIRST, datetime(2025, 3, 5, 13)),
    ("05.03.2025", DAY_FIRST, datetime(2025, 3, 5)),
])
def test_dates_and_times_in_the_offices_order(text, order, expected):
    assert parse_moment(text, order) == expected


@pytest.mark.parametrize("text", ["13/13/2025", "yesterday", "3/5/2025 25:00", "1/1/1850"])
def test_a_bad_date_says_so(text):
    with pytest.raises(ValueError, match=repr(text)):
        parse_moment(text, US)


@pytest.mark.parametrize(("text", "amount"), [
    ("$1,234.50", Decimal("1234.50")), ("1.234,50 €", Decimal("1234.50")), ("89,00 €", Decimal("89.00")),
    ("(12.00)", Decimal("-12.00")), ("USD 4,999", Decimal("4999")), ("1 234,5", Decimal("1234.5")),
    ("-7.25", Decimal("-7.25")), ("", None), ("£0", Decimal("0")),
])
def test_amounts_with_currency_signs_and_separators(text, amount):
    assert parse_amount(text) == amount


def test_a_bad_amount_says_so():
    with pytest.raises(ValueError, match="is not an amount"):
        parse_amount("about 40")
