"""The flat jobs report's actions: check a file (the preview), import it. The page, the background task and the
nightly command call these."""

from servicedesk.audit import Via

from ..importing import ImportRejected, RowError
from .mapping import date_orders_needed, mapping_problems, recognise
from .matching import import_report
from .reading import read_table
from .values import AMBIGUOUS


class NeedsDateOrder(Exception):
    """Date columns whose dates read both ways (03/05/2025): the manager says which order, once."""

    def __init__(self, headers):
        self.headers = headers
        super().__init__(f"Which order are the dates of {', '.join(headers)} in?")


def report_prepare(*, source, sheet="", mapping=None, date_orders=None):
    """(table, mapping, date orders) ready to check, or ImportRejected (not a table, a required field unmapped, a
    column with both date orders) or NeedsDateOrder."""
    table = read_table(source, sheet=sheet)
    mapping = {header: (mapping or {}).get(header, "") for header in table.headers} if mapping else recognise(
        table.headers)
    problems = mapping_problems(mapping)
    if problems:
        raise ImportRejected([RowError(table.header_row, problem) for problem in problems])
    try:
        orders = date_orders_needed(table, mapping, date_orders or {})
    except ValueError as exc:
        raise ImportRejected([RowError(table.header_row, str(exc))]) from None
    ambiguous = [header for header, order in orders.items() if order == AMBIGUOUS]
    if ambiguous:
        raise NeedsDateOrder(ambiguous)
    return table, mapping, orders


def report_check(*, source, sheet="", mapping=None, date_orders=None, resolutions=None, progress=None):
    """What importing the report would do (counts per kind, errors by row, ambiguous customers), writing nothing."""
    table, mapping, orders = report_prepare(source=source, sheet=sheet, mapping=mapping, date_orders=date_orders)
    return import_report(table=table, mapping=mapping, date_orders=orders, resolutions=resolutions,
                         progress=progress)


def report_import(*, source, sheet="", mapping=None, date_orders=None, resolutions=None, by=None, via=Via.IMPORT,
                  progress=None):
    """Imports the report, all or nothing: the outcome's `written` says whether it was."""
    table, mapping, orders = report_prepare(source=source, sheet=sheet, mapping=mapping, date_orders=date_orders)
    return import_report(table=table, mapping=mapping, date_orders=orders, resolutions=resolutions, write=True,
                         by=by, via=via, progress=progress)
