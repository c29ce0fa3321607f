"""Any file a spreadsheet writes, as a header and rows of text: CSV in whatever encoding and delimiter, with a title
and blank lines above the header, or an Excel workbook.

Rows are streamed (`Table.rows()` opens the file again each time): a 100,000-row file is never held in memory.
Cells are text, never evaluated: a formula in a workbook is read as the formula's text, and a cell starting with
=, +, - or @ stays the text it is (servicedesk/spreadsheets.py neutralises such cells again on the way out).
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import charset_normalizer

from ..importing import ImportRejected, RowError

SAMPLE_BYTES = 64 * 1024
SNIFF_LINES = 30
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


@dataclass
class Table:
    source: object  # bytes, or the Path of the file
    kind: str  # "csv" or "xlsx"
    encoding: str = ""  # Python codec name
    encoding_label: str = ""  # as the preview says it
    delimiter: str = ","
    sheet: str = ""
    sheets: list = field(default_factory=list)
    header_row: int = 1  # the header's row number as the spreadsheet shows it
    headers: list = field(default_factory=list)

    @property
    def layout(self):
        """What was detected, in the manager's words: "Windows-1252, semicolons"."""
        if self.kind == "xlsx":
            return f"Excel workbook, sheet {self.sheet!r}"
        parts = [self.encoding_label, DELIMITERS[self.delimiter]]
        if self.header_row > 1:
            parts.append(f"header on row {self.header_row}")
        return ", ".join(parts)

    def rows(self):
        """(row number, cells) of every row below the header, blank rows skipped; cells as stripped text."""
        raw = self._xlsx_rows() if self.kind == "xlsx" else self._csv_rows()
        width = len(self.headers)
        for number, cells in raw:
            if number <= self.header_row or not any(cells):
                continue
            if len(cells) > width:
                if any(cells[width:]):
                    yield number, RowError(number, f"The row has {len(cells)} cells but the header has {width}.")
                    continue
                cells = cells[:width]
            yield number, cells + [""] * (width - len(cells))

    def estimated_rows(self):
        """About how many rows the file has below the header, for the progress bar: its line ends counted (a
        quoted line break counts too), or the sheet's size."""
        if self.kind == "xlsx":
            import openpyxl

            with self._open() as binary:
                book = openpyxl.load_workbook(binary, read_only=True)
                rows = book[self.sheet].max_row or 0
                book.close()
            return max(0, rows - self.header_row)
        lines, last = 0, b"\n"
        with self._open() as binary:
            for block in iter(lambda: binary.read(1024 * 1024), b""):
                lines += block.count(b"\n")
                last = block.rstrip(b"\x00")[-1:] or last
        lines += last != b"\n"  # a last line without its line end
        return max(0, lines - self.header_row)

    def first_values(self, limit=3):
        """Up to `limit` non-blank values of each column, for the mapping page."""
        values = [[] for _ in self.headers]
        for seen, (_, cells) in enumerate(self.rows()):
            if isinstance(cells, RowError):
                continue
            for index, cell in enumerate(cells):
                if cell and len(values[index]) < limit:
                    values[index].append(cell)
            if seen >= 50:
                break
        return values

    def _open(self):
        if isinstance(self.source, bytes | bytearray):
            return io.BytesIO(self.source)
        return Path(self.source).open("rb")

    def _csv_rows(self):
        with self._open() as binary:
            text = io.TextIOWrapper(binary, encoding=self.encoding, newline="")
            reader = csv.reader(text, delimiter=self.delimiter, strict=True)
            number = 0
            try:
                for cells in reader:
                    number += 1
                    yield number, [_clean(cell) for cell in cells]
            except csv.Error as exc:
                raise ImportRejected([RowError(number + 1, f"The file is not valid CSV: {exc}.")]) from None
            except UnicodeDecodeError:
                raise ImportRejected([RowError(number + 1, f"The file is not {self.encoding_label} text past "
                                                           "this row; save it again as CSV UTF-8.")]) from None

    def _xlsx_rows(self):
        import openpyxl  # only for workbooks

        with self._open() as binary:
            book = openpyxl.load_workbook(binary, read_only=True, data_only=False)
            try:
                for number, values in enumerate(book[self.sheet].iter_rows(values_only=True), start=1):
                    yield number, [_cell_text(value) for value in values]
            finally:
                book.close()


def _clean(cell):
    return cell.replace("\ufeff", "").strip()


def _cell_text(value):
    """A workbook cell as the text a CSV export would hold: dates in ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _clean(str(value))


def read_table(source, *, sheet=""):
    """The file's layout and header, or ImportRejected saying plainly why it is not a table we can read.
    `source` is the file's bytes or its Path; `sheet` picks a workbook's sheet (asked when it has several)."""
    with (io.BytesIO(source) if isinstance(source, bytes | bytearray) else Path(source).open("rb")) as binary:
        sample = binary.read(SAMPLE_BYTES)
    if not sample.strip():
        raise ImportRejected([RowError(1, "The file is empty.")])
    if sample.startswith(XLSX_MAGIC):
        return _read_workbook(source, sheet)
    if sample.startswith(OLE_MAGIC):
        raise ImportRejected([RowError(1, "This is an old Excel .xls workbook: save it as .xlsx or CSV and upload "
                                          "it again.")])
    table = Table(source=source, kind="csv")
    table.encoding, table.encoding_label = detect_encoding(sample)
    text = _decode_sample(sample, table.encoding)
    table.delimiter, table.header_row = _sniff(text)
    for number, cells in table._csv_rows():
        if number == table.header_row:
            while cells and not cells[-1]:
                cells = cells[:-1]
            table.headers = cells
            break
    return table


def detect_encoding(sample):
    """(codec, label). Byte-order marks first; UTF-16 without one by its NUL bytes; UTF-8 when it decodes as such;
    else the 8-bit Western code page charset-normalizer finds the text to be in. Windows-1252 and Latin-1 agree
    on every letter above 0xA0; only the former uses 0x80-0x9F (curly quotes, dashes, the euro sign)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "UTF-8 with BOM"
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16", "UTF-16 LE"
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16", "UTF-16 BE"
    head = sample[:200]
    if head.count(b"\x00") * 4 >= len(head):
        evens, odds = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        if odds > evens * 3:
            return "utf-16-le", "UTF-16 LE"
        if evens > odds * 3:
            return "utf-16-be", "UTF-16 BE"
    if b"\x00" in sample:
        raise _not_a_table()
    try:
        sample.decode("utf-8")
        return "utf-8", "UTF-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(sample) == SAMPLE_BYTES:  # a character cut by the sample's end
            return "utf-8", "UTF-8"
    best = charset_normalizer.from_bytes(sample, cp_isolation=["cp1252", "latin_1"]).best()
    if best is None:
        raise _not_a_table()
    if re.search(rb"[\x80-\x9f]", sample):
        return "cp1252", "Windows-1252"
    return "latin-1", "Latin-1"


def _not_a_table():
    return ImportRejected([RowError(1, "The file is not a table: save it from your spreadsheet or dispatch system "
                                       "as CSV or Excel (.xlsx) and upload it again.")])


def _decode_sample(sample, encoding):
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(sample)


def _sniff(text):
    """(delimiter, header row): the delimiter that splits the most lines into the same number of cells, and the
    first row with at least half that many cells filled (a report's title and blank lines above it skipped)."""
    lines = text.splitlines()[:SNIFF_LINES]
    if len(text) >= SAMPLE_BYTES - 4 and len(lines) > 1:
        lines = lines[:-1]  # possibly cut short
    best = None
    for delimiter in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delimiter))
        widths = [len(row) for row in rows if sum(1 for cell in row if cell.strip()) > 1]
        if not widths:
            continue
        width = max(set(widths), key=lambda w: (widths.count(w), w))
        score = (widths.count(width), width)
        if width > 1 and (best is None or score > best[0]):
            best = (score, delimiter, width, rows)
    if best is None:
        raise _not_a_table()
    _, delimiter, width, rows = best
    for number, row in enumerate(rows, start=1):
        if sum(1 for cell in row if cell.strip()) * 2 >= width and len(row) >= width:
            return delimiter, number
    raise _not_a_table()


def _read_workbook(source, sheet):
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with (io.BytesIO(source) if isinstance(source, bytes | bytearray) else Path(source).open("rb")) as binary:
            book = openpyxl.load_workbook(binary, read_only=True, data_only=False)
            names = list(book.sheetnames)
            with_data = [name for name in names if (book[name].max_row or 2) > 1 or (book[name].max_column or 2) > 1]
            book.close()
    except (InvalidFileException, BadZipFile, KeyError, OSError):
        raise _not_a_table() from None
    with_data = with_data or names
    if sheet and sheet not in names:
        raise ImportRejected([RowError(1, f"The workbook has no sheet {sheet!r}; it has {', '.join(names)}.")])
    if not sheet and len(with_data) > 1:
        rejected = ImportRejected([RowError(1, f"The workbook has several sheets ({', '.join(with_data)}): choose "
                                               "the one that holds the report.")])
        rejected.sheets = with_data
        raise rejected
    table = Table(source=source, kind="xlsx", sheet=sheet or with_data[0], sheets=with_data)
    head = []
    for number, cells in table._xlsx_rows():
        head.append(cells)
        if number >= SNIFF_LINES:
            break
    width = max((len([cell for cell in row if cell]) for row in head), default=0)
    for number, cells in enumerate(head, start=1):
        if width > 1 and sum(1 for cell in cells if cell) * 2 >= width:
            table.header_row = number
            while cells and not cells[-1]:
                cells = cells[:-1]
            table.headers = cells
            return table
    raise _not_a_table()
