"""A panel's table: the rows it renders are its figures, formatted, escaped and linked."""

from decimal import Decimal

from servicedesk.dashboards.tables import Column, Table


def test_the_body_has_a_row_header_right_aligned_figures_links_and_escaped_text():
    table = Table("t", "Title", [Column("name", "Technician", "text"), Column("rate", "Rate", "percent"),
                                 Column("jobs", "Jobs")], [
        {"name": "<script>alert(1)</script>", "rate": Decimal("12.34"), "jobs": 1200, "jobs_url": "/x/?a=1&b=2"},
        {"name": "Bob", "rate": None, "jobs": 0},
    ])

    assert table.body() == (
        '<tr><th scope="row">&lt;script&gt;alert(1)&lt;/script&gt;</th><td class="text-end">12.3%</td>'
        '<td class="text-end"><a href="/x/?a=1&amp;b=2">1,200</a></td></tr>\n'
        '<tr><th scope="row">Bob</th><td class="text-end">—</td><td class="text-end">0</td></tr>'
    )
