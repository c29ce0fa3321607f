"""servicedesk/triggers.py: the triggers that keep derived columns, declared once, are the ones in the database, and
any that goes missing (SQLite drops a table's triggers when a migration rebuilds it) is put back by the next migrate,
its derived column recounted."""

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection

from callbacks.models import Callback, RecoveryStep
from servicedesk import triggers
from tests.callbacks.factories import CallbackFactory
from tests.servicedesk.test_settings import ROOT, base_environment

pytestmark = pytest.mark.django_db


def _drop(name, table):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {name} ON {table}")


def _steps_done(callback):
    return Callback.objects.values_list("steps_done", flat=True).get(pk=callback.pk)


def test_the_step_bits_follow_the_recovery_steps_in_their_order():
    assert triggers.STEPS == RecoveryStep.Step.values


def test_the_triggers_in_the_database_are_the_declared_ones():
    declared = {trigger.name for _, trigger in triggers.declared(connection.vendor)}
    tables = {trigger.table for _, trigger in triggers.declared(connection.vendor)}

    assert triggers.stale(connection) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "WHERE NOT t.tgisinternal AND c.relname = ANY(%s)", [sorted(tables)])
        assert {name for (name,) in cursor.fetchall()} == declared
    assert triggers.install(connection) == []


def test_a_dropped_trigger_is_put_back_and_the_rows_written_without_it_are_recounted(manager):
    callback = CallbackFactory()
    _drop("callbacks_steps_done_insert", "callbacks_recoverystep")
    RecoveryStep.objects.create(callback=callback, step=RecoveryStep.Step.APOLOGISED_AGAIN, done_by=manager)
    assert _steps_done(callback) == 0
    assert [trigger.name for trigger in triggers.stale(connection)] == ["callbacks_steps_done_insert"]

    assert triggers.install(connection) == ["callbacks_steps_done_insert"]

    assert _steps_done(callback) == 0b100
    RecoveryStep.objects.create(callback=callback, step=RecoveryStep.Step.APOLOGISED, done_by=manager)
    assert _steps_done(callback) == 0b101
    assert triggers.stale(connection) == []


def test_a_trigger_installed_from_another_definition_is_replaced():
    with connection.cursor() as cursor:
        cursor.execute("COMMENT ON TRIGGER callbacks_job_facts_refresh ON customers_job IS 'an older definition'")

    assert triggers.install(connection) == ["callbacks_job_facts_refresh"]
    assert triggers.stale(connection) == []


def test_every_migrate_puts_back_the_missing_triggers():
    callback = CallbackFactory()
    _drop("callbacks_job_facts_refresh", "customers_job")
    callback.job.kind = "maintenance"
    callback.job.save(update_fields=["kind"])
    assert Callback.objects.get(pk=callback.pk).job_kind != "maintenance"

    call_command("migrate", verbosity=0)

    assert triggers.stale(connection) == []
    assert Callback.objects.get(pk=callback.pk).job_kind == "maintenance"


# A migration that rebuilds the steps' table on SQLite (as an AlterField there does), then the migrate that applied
# it: the rebuild drops the steps_done triggers, the migrate's end puts them back.
SQLITE_REBUILD = """
from django.core.management import call_command
from django.db import connection, models
from callbacks.models import Callback, RecoveryStep
from servicedesk import triggers
from tests.callbacks.factories import CallbackFactory
from tests.factories import UserFactory

call_command("migrate", verbosity=0)
assert triggers.stale(connection) == [], "after migrate"
old = RecoveryStep._meta.get_field("note")
new = models.CharField(max_length=400, blank=True)
new.set_attributes_from_name("note")
new.model = RecoveryStep
with connection.schema_editor() as editor:
    editor.alter_field(RecoveryStep, old, new)
print("dropped:", sorted(trigger.name for trigger in triggers.stale(connection)))
call_command("migrate", verbosity=0)
assert triggers.stale(connection) == [], "after the second migrate"
callback = CallbackFactory()
RecoveryStep.objects.create(callback=callback, step="apologised_again", done_by=UserFactory())
print("steps_done:", Callback.objects.get(pk=callback.pk).steps_done)
"""


def test_on_sqlite_a_rebuilt_table_gets_its_triggers_back_at_the_next_migrate(tmp_path):
    environment = base_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", SQLITE_REBUILD], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert "dropped: ['callbacks_steps_done_delete', 'callbacks_steps_done_insert', 'callbacks_steps_done_update']" \
        in result.stdout
    assert "steps_done: 4" in result.stdout
