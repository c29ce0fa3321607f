"""How long the staff's and customers' free text may be, in the form and in the database.

A base module: every app's models and forms name these, so a form never accepts what its table refuses. Without
them a 2,000,000-character problem was stored and its callback page weighed 4 MB.
"""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

# A note, a reason, an answer: a few paragraphs at most.
NOTE = 2_000
# An account in someone's words: the customer's problem, what was found and done, why we stop serving a customer.
ACCOUNT = 5_000
# What the dispatch system hands over: a work-order summary, a customer's or an equipment's notes.
RECORD = 10_000


def text_limits(prefix, **limits):
    """One check constraint per field (`field=limit`), so no write path (a service, the import, COPY) gets past it.

    A TextField's max_length alone only sizes the form field; PostgreSQL's text has no length to enforce.
    """
    return [
        models.CheckConstraint(condition=LessThanOrEqual(Length(field), limit), name=f"{prefix}_{field}_max_length")
        for field, limit in limits.items()
    ]


def before_altering_tables(apps, schema_editor):
    """Run first by a migration that adds or drops the checks above (and last when it is reversed).

    PostgreSQL refuses to alter a table while rows written earlier in the same transaction still await their
    deferred checks (a test that migrates back and forth around its data): those checks run now. SQLite adds a
    check by rebuilding the table, and the derived-column triggers on other tables that name it (customers_job's
    names callbacks_callback) would break the rename: they are dropped, and servicedesk/triggers.py puts them back
    at the end of the migrate, as after any rebuild.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    elif schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
