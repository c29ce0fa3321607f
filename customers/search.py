"""What a name or an address is compared by in search: accents and case set aside."""

from django.db.models import Func, TextField, Value
from django.db.models.lookups import Contains


class SearchKey(Func):
    """UPPER(search_unaccent(text)) on PostgreSQL: the expression the trigram indexes are built on (migration 0008),
    so "nunez" finds José Núñez at the speed of the index. Elsewhere (SQLite, `make run`) UPPER(text): case only."""

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="UPPER(%(expressions)s)", **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="UPPER(search_unaccent((%(expressions)s)::text))", **extra_context
        )


def contains(field, text):
    """The condition that `field` contains `text`, accents and case aside; for filter() and Q()."""
    return Contains(SearchKey(field), SearchKey(Value(text)))
