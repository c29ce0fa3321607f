from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations, transaction
from django.db.utils import ProgrammingError

# Name and address search ignores accents as well as case: "nunez" finds José Núñez. PostgreSQL's unaccent() is only
# STABLE (its dictionary could change), so an index expression cannot call it: search_unaccent(text) is declared
# IMMUTABLE, and the trigram indexes of 0004 are rebuilt on UPPER(search_unaccent(column)), the very expression
# customers.search.SearchKey writes. PostgreSQL only; SQLite (`make run`) matches by case only.
#
# Speed: a plain SQL wrapper around unaccent() cannot be inlined (its body is less immutable than itself), and the
# recheck of every candidate row then pays a SQL function call: searches took 1.5 to 2.5 times as long on 100,000
# customers. Declaring unaccent's own C function IMMUTABLE under another name (the wrapper then inlines to a direct
# C call) keeps them as fast as before; that needs a superuser, as the deployment's database user is (compose's
# POSTGRES_USER). Without one the slower SQL wrapper is created and search still works.
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


def _current_schema(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return schema_editor.quote_name(cursor.fetchone()[0])


def _create_search_unaccent(schema_editor):
    schema, here = _unaccent_schema(schema_editor), _current_schema(schema_editor)
    dictionary = f"'{schema}.unaccent'::regdictionary"
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute(
                f"CREATE OR REPLACE FUNCTION {here}.search_unaccent_dict(regdictionary, text) RETURNS text "
                "LANGUAGE c IMMUTABLE PARALLEL SAFE STRICT AS '$libdir/unaccent', 'unaccent_dict'"
            )
        body = f"{here}.search_unaccent_dict({dictionary}, $1)"
    except ProgrammingError:  # not a superuser: the wrapper calls the STABLE unaccent(), correct but slower
        body = f"{schema}.unaccent({dictionary}, $1)"
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {here}.search_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"STRICT AS $$ SELECT {body} $$"
    )


def unaccented_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _create_search_unaccent(schema_editor)
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
    schema_editor.execute("DROP FUNCTION IF EXISTS search_unaccent_dict(regdictionary, text)")


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0010_do_not_service_attempts_booked_jobs"),
    ]

    operations = [
        # A no-op on other databases.
        UnaccentExtension(),
        migrations.RunPython(unaccented_indexes, accented_indexes, elidable=False),
    ]
