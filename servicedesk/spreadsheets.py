"""CSV exports that a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with "=", "+", "-" or "@" as a formula (tab and
carriage return are stripped first, then the rest runs), so a customer who types `=HYPERLINK(...)` on the public
feedback page would have it run on a manager's machine when the export is opened. OWASP's rule: prefix such a cell
with a single quote, which the spreadsheet shows as text. Every CSV the app writes goes through `csv_writer`.
"""

import csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as text a spreadsheet will not evaluate. Numbers, dates and the like are written as they are: a
    negative figure stays a number the spreadsheet can add up."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class _Echo:
    """The writer writes into this and gets the line back, so a streamed export needs no buffer."""

    def write(self, value):
        return value


def csv_writer(out=None, **options):
    """csv.writer whose rows are neutralised; without `out`, writerow returns the line (for streamed responses)."""
    return _Writer(csv.writer(out if out is not None else _Echo(), **options))
