from django.db import connection


def set_updated_at(model, pk, moment):
    """Puts a row's updated_at at `moment`, as if it last changed then. The trigger stamps every update with the
    transaction's time, so it is switched off for this one write (the deferred foreign-key checks of the test's
    rows are run first: PostgreSQL alters no table with trigger events pending)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_touch")
        cursor.execute(f"UPDATE {table} SET updated_at = %s WHERE id = %s", [moment, pk])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_touch")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
