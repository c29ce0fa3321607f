"""Set-based writes and counts the beat sweeps and dashboards share (DESIGN.md principle 2).

A base module: it knows the ORM, not the project's apps. Both statements below are plain SQL that PostgreSQL
and SQLite (3.35+) accept alike.
"""

from django.db import connection
from django.db.models import CharField, F, IntegerField, Subquery, Value
from django.db.models.functions import Concat
from django.urls import reverse

_PLACEHOLDER = 987654321


def insert_from_select(model, source, *, values, conflict, returning=None):
    """INSERT INTO model (columns) SELECT ... FROM source ON CONFLICT (conflict) DO NOTHING, in one statement.

    `values` maps each column to an expression over `source` (a queryset). Rows whose `conflict` columns
    already exist are skipped, so a sweep that runs twice, or two at once, inserts each row once. With
    `returning`, the values of that column for the rows actually inserted are returned.
    """
    quote = connection.ops.quote_name
    aliases = {column: f"v_{column}" for column in values}
    select = source.order_by().values(**{aliases[column]: expression for column, expression in values.items()})
    sql, params = select.query.sql_with_params()
    columns = ", ".join(quote(column) for column in values)
    picked = ", ".join(f"s.{quote(alias)}" for alias in aliases.values())
    conflict_columns = ", ".join(quote(column) for column in conflict)
    # "WHERE true": SQLite would otherwise read ON CONFLICT as a join's ON clause.
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {picked} FROM ({sql}) s WHERE true "
        f"ON CONFLICT ({conflict_columns}) DO NOTHING"
    )
    if returning:
        statement += f" RETURNING {quote(returning)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if returning:
            return [row[0] for row in cursor.fetchall()]
        return cursor.rowcount


def count_each(**querysets):
    """{name: count} for several querysets in one query: a dashboard's counters cost one round trip."""
    if not querysets:
        return {}
    parts, params = [], []
    for name, queryset in querysets.items():
        sql, query_params = queryset.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name('q_' + name)})")
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


class SubqueryCount(Subquery):
    """The number of rows of a subquery, as a column: `.annotate(n=SubqueryCount(qs.values("pk")))`."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()


def url_of(viewname, pk="pk"):
    """A page's URL as an SQL expression over each row's id, so reminders link to the thing in one statement."""
    prefix, suffix = reverse(viewname, args=[_PLACEHOLDER]).split(str(_PLACEHOLDER))
    return Concat(Value(prefix), F(pk), Value(suffix), output_field=CharField())
