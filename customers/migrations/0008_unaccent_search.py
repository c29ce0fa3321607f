from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

# Name and address search ignores accents as well as case: "nunez" finds José Núñez. PostgreSQL's unaccent() is only
# STABLE (its dictionary could change), so an index expression cannot call it: search_unaccent() wraps it, IMMUTABLE,
# with the dictionary named by schema, and the trigram indexes of 0004 are rebuilt on UPPER(search_unaccent(column)),
# the very expression customers.search.SearchKey writes. PostgreSQL only; SQLite (`make run`) matches by case only.
TRIGRAM_INDEXES = [
    ("customer_name_trgm", "customers_customer", "name"),
    ("site_street_trgm", "customers_site", "street"),
]


def _unaccent_schema(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'unaccent'"
        )
        return schema_editor.quote_name(cursor.fetchone()[0])


def unaccented_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema = _unaccent_schema(schema_editor)
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION search_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        f"AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
    )
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(
            f"CREATE INDEX {name} ON {table} USING gin (UPPER(search_unaccent({column}::text)) gin_trgm_ops)"
        )


def accented_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin (UPPER({column}::text) gin_trgm_ops)")
    schema_editor.execute("DROP FUNCTION IF EXISTS search_unaccent(text)")


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0007_site_type_index"),
    ]

    operations = [
        # A no-op on other databases.
        UnaccentExtension(),
        migrations.RunPython(unaccented_indexes, accented_indexes, elidable=False),
    ]
