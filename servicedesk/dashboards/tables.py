"""What every dashboard panel is: a small table of figures the database computed, an optional chart of it,
and its CSV export. The page draws the chart from the same rows the table shows, so they cannot disagree.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.http import StreamingHttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from servicedesk.spreadsheets import csv_writer

DASH = "—"


def rate(part, whole):
    """A percentage, or None when there is nothing to divide by (shown as "—", never a division error)."""
    if not whole:
        return None
    return round(Decimal(part or 0) * 100 / Decimal(whole), 1)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # text, count, percent, hours, money, duration (a timedelta), date
    kind: str = "count"

    @property
    def numeric(self):
        return self.kind != "text" and self.kind != "date"

    def display(self, value):
        if value is None or value == "":
            return DASH
        if self.kind == "percent":
            return f"{value:.1f}%"
        if self.kind == "money":
            return f"${value:,.2f}"
        if self.kind in ("hours", "decimal"):
            return f"{value:,.1f}"
        if self.kind == "duration":
            return _duration(value)
        if self.kind == "count":
            return f"{value:,}"
        if self.kind == "date":
            return f"{value:%b %d, %Y}"
        return str(value)

    def export(self, value):
        """CSV cells: plain numbers (hours for durations) so a spreadsheet can add them up."""
        if value is None:
            return ""
        if self.kind == "duration":
            return f"{value.total_seconds() / 3600:.2f}"
        if self.kind == "date":
            return value.isoformat()
        return value


def _duration(value):
    if not isinstance(value, timedelta):
        return str(value)
    hours = value.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


@dataclass
class Chart:
    """A Chart.js chart of some of the table's columns: `label` names the x axis column, `series` the bars/lines."""

    kind: str  # bar, line, pareto
    label: str
    series: list
    axis: str = ""  # y axis title
    stacked: bool = False


@dataclass
class Table:
    slug: str
    title: str
    columns: list
    rows: list  # dicts keyed by column key
    chart: Chart | None = None
    note: str = ""
    flags: list = field(default_factory=list)  # warnings to show above the table
    extra: dict = field(default_factory=dict)  # figures the template shows beside the table

    @property
    def chart_id(self):
        return f"chart-{self.slug}"

    @property
    def cells(self):
        for row in self.rows:
            yield [(column, column.display(row.get(column.key)), row.get(f"{column.key}_url"))
                   for column in self.columns]

    def body(self):
        """The table's <tr>s: the first cell a row header, figures right-aligned, linked where the row says.
        Built here as the admin builds its result rows: through the template engine, cell by cell, the weekly
        tables' hundreds of cells were a third of a dashboard's time (issue 8)."""
        return format_html_join("\n", "<tr>{}</tr>", ((_row_html(cells),) for cells in self.cells))

    def chart_data(self):
        """The JSON the page embeds (json_script) for static/js/dashboards.js."""
        if self.chart is None or not self.rows:
            return None
        by_key = {column.key: column for column in self.columns}
        return {
            "type": self.chart.kind,
            "title": self.title,
            "axis": self.chart.axis,
            "stacked": self.chart.stacked,
            "labels": [by_key[self.chart.label].display(row.get(self.chart.label)) for row in self.rows],
            "series": [
                {
                    "label": by_key[key].label,
                    "percent": by_key[key].kind == "percent",
                    "data": [_number(row.get(key)) for row in self.rows],
                }
                for key in self.chart.series
            ],
        }

    def csv_response(self, filename_prefix):
        """Streamed, so a long table never sits in memory as one string."""
        writer = csv_writer()

        def lines():
            yield writer.writerow([column.label for column in self.columns])
            for row in self.rows:
                yield writer.writerow([column.export(row.get(column.key)) for column in self.columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        name = slugify(f"{filename_prefix}-{self.slug}")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response


class Panels:
    """A dashboard page: its tables are the methods named in TABLES; a CSV export computes only the one asked for.

    A table that lists records rather than figures shows only its newest rows on the page and says how many there
    are; its CSV has them all (CSV_OPTIONS gives the arguments the export calls it with)."""

    TABLES = ()
    CSV_OPTIONS = {}

    def tables(self):
        return [getattr(self, slug)() for slug in self.TABLES]

    def table(self, slug):
        return getattr(self, slug)(**self.CSV_OPTIONS.get(slug, {})) if slug in self.TABLES else None


def _row_html(cells):
    html = []
    for index, (column, value, url) in enumerate(cells):
        content = format_html('<a href="{}">{}</a>', url, value) if url else value
        if index == 0:
            html.append(format_html('<th scope="row">{}</th>', content))
        else:
            html.append(format_html("<td{}>{}</td>", mark_safe(' class="text-end"') if column.numeric else "", content))
    return mark_safe("".join(html))


def _number(value):
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 2)
    return float(value)


def person(first_name, last_name, username):
    return f"{first_name} {last_name}".strip() or username or "(nobody)"


def people(user_ids):
    """{user id: name} in one query: figures are grouped by user id, and named afterwards (grouping by the names
    too would hash three text columns per row)."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
    return {pk: person(first_name, last_name, username) for pk, first_name, last_name, username in users}
