"""The database triggers that keep derived columns, each declared once here for PostgreSQL and SQLite.

Triggers rather than the services alone: a derived column stays equal to its source whoever writes (the services,
the demo's bulk COPY, a queryset update, an operator's SQL). Three rules:
- Callback.steps_done, the recovery steps recorded on a callback as a bit mask (bit n: the n-th RecoveryStep.Step).
- Callback.job_* and revisit_*, copies of the facts of the callback's job and revisit job the dashboards read.
- CallbackChange, the weeks whose callback figures changed, so the callback rollup recomputes only those.

Declared once here and installed by `install()`: after every `migrate` (a post_migrate handler, servicedesk/apps.py)
any declared trigger that is missing or differs from its declaration is (re)created and its rule's derived column
recounted. That is what keeps them through SQLite's table rebuilds: an AlterField there copies the table into a new
one and drops the old with its triggers, and nothing else would notice. The migrations that first created them
(callbacks 0008, 0009; servicedesk 0008) keep their own frozen copy, as migrations do.

A base module: it names the apps' tables in SQL but imports no app.
"""

import hashlib
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, connections, transaction

# The bit of each recovery step in Callback.steps_done, in the order of callbacks.models.RecoveryStep.Step (a test
# holds the two equal). A step added later goes at the end, so the stored masks keep their meaning.
STEPS = [
    "apologised",
    "listened",
    "apologised_again",
    "fix_explained",
    "urgency_set",
    "solution_reviewed",
    "anything_else",
    "other_work",
]


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str
    sql: str  # CREATE TRIGGER
    function: str = ""  # PostgreSQL: the CREATE OR REPLACE FUNCTION it executes

    @property
    def fingerprint(self):
        """Kept as the trigger's comment on PostgreSQL, which stores a trigger reworded (SQLite keeps the text)."""
        return hashlib.sha256(f"{self.function}\n{self.sql}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Rule:
    name: str
    postgresql: list = field(default_factory=list)
    sqlite: list = field(default_factory=list)
    # Recounts the derived column from its source, run after a trigger of the rule had to be (re)installed: rows
    # written while it was missing are set right.
    recount: dict = field(default_factory=dict)  # vendor -> SQL


# --- Callback.steps_done -------------------------------------------------------------------------------------------

_BITS = "CASE r.step " + " ".join(f"WHEN '{step}' THEN {1 << n}" for n, step in enumerate(STEPS)) + " ELSE 0 END"
# A step is recorded once per callback (constraint recovery_step_once), so the sum of the bits is their union.
_MASK = ("COALESCE((SELECT SUM(" + _BITS + ") FROM callbacks_recoverystep r "
         "WHERE r.callback_id = callbacks_callback.id), 0)")
# On PostgreSQL one recount per statement (a bulk COPY of steps updates each of its callbacks once), on SQLite one
# per row. Two transactions adding steps to one callback at once: each recount must see the other's steps. The
# callbacks are locked first, in a statement of their own, so that the recount's snapshot is taken once any other
# writer of the same callback has committed.
_STEPS_CHANGED = {
    "INSERT": "SELECT callback_id FROM new_steps",
    "DELETE": "SELECT callback_id FROM old_steps",
    "UPDATE": "SELECT callback_id FROM new_steps UNION SELECT callback_id FROM old_steps",
}
_STEPS_RECOUNT = {
    op: f"""
            PERFORM 1 FROM callbacks_callback WHERE id IN ({changed}) ORDER BY id FOR UPDATE;
            UPDATE callbacks_callback SET steps_done = {_MASK} WHERE id IN ({changed});"""
    for op, changed in _STEPS_CHANGED.items()
}
_STEPS_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION callbacks_steps_done_recount() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN{_STEPS_RECOUNT["INSERT"]}
        ELSIF TG_OP = 'DELETE' THEN{_STEPS_RECOUNT["DELETE"]}
        ELSE{_STEPS_RECOUNT["UPDATE"]}
        END IF;
        RETURN NULL;
    END
    $$
    """


def _steps_recount(row):
    return f"UPDATE callbacks_callback SET steps_done = {_MASK} WHERE id = {row}.callback_id;"


STEPS_DONE = Rule(
    name="callbacks_steps_done",
    postgresql=[
        Trigger("callbacks_steps_done_insert", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_insert AFTER INSERT ON callbacks_recoverystep "
                "REFERENCING NEW TABLE AS new_steps FOR EACH STATEMENT EXECUTE FUNCTION callbacks_steps_done_recount()",
                _STEPS_FUNCTION),
        Trigger("callbacks_steps_done_update", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_update AFTER UPDATE ON callbacks_recoverystep "
                "REFERENCING OLD TABLE AS old_steps NEW TABLE AS new_steps "
                "FOR EACH STATEMENT EXECUTE FUNCTION callbacks_steps_done_recount()",
                _STEPS_FUNCTION),
        Trigger("callbacks_steps_done_delete", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_delete AFTER DELETE ON callbacks_recoverystep "
                "REFERENCING OLD TABLE AS old_steps FOR EACH STATEMENT EXECUTE FUNCTION callbacks_steps_done_recount()",
                _STEPS_FUNCTION),
    ],
    sqlite=[
        Trigger("callbacks_steps_done_insert", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_insert AFTER INSERT ON callbacks_recoverystep "
                f"BEGIN {_steps_recount('NEW')} END"),
        Trigger("callbacks_steps_done_update", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_update AFTER UPDATE ON callbacks_recoverystep "
                f"BEGIN {_steps_recount('OLD')} {_steps_recount('NEW')} END"),
        Trigger("callbacks_steps_done_delete", "callbacks_recoverystep",
                "CREATE TRIGGER callbacks_steps_done_delete AFTER DELETE ON callbacks_recoverystep "
                f"BEGIN {_steps_recount('OLD')} END"),
    ],
    recount=dict.fromkeys(("postgresql", "sqlite"), f"UPDATE callbacks_callback SET steps_done = {_MASK} "
                                                    f"WHERE steps_done <> {_MASK}"),
)

# --- Callback.job_* and revisit_* ----------------------------------------------------------------------------------
# - A callback's job or revisit job set (insert, or an update naming job_id or revisit_job_id): its copies are read
#   from the jobs. On PostgreSQL a BEFORE trigger sets the new row itself, so a bulk COPY costs a look-up per row and
#   no second write; SQLite cannot change NEW, so there the row is updated after it is written.
# - A job's completed_at, kind, lead technician, status or no_charge changed: the callbacks on it (as job or as
#   revisit job) are rewritten. A row trigger whose WHEN skips the updates that change none of them.
# Two transactions at once, one changing a job and one setting a callback on it: the callback's trigger reads the
# job FOR SHARE, which waits for the job's updater to commit and then reads its new values; and a job updated after
# that waits for the callback's writer, then its trigger (a statement with its own snapshot) sees the new callback.

_JOB = {
    "job_completed_at": "completed_at",
    "job_kind": "kind",
    "job_lead_id": "lead_technician_id",
    "job_status": "status",
}
_REVISIT = {
    "revisit_lead_id": "lead_technician_id",
    "revisit_no_charge": "no_charge",
}
_WATCHED = ["completed_at", "kind", "lead_technician_id", "status", "no_charge"]


def _from_job(copies, job_id):
    """column = (the job's value) for each copy, the job being `job_id` (NULL when there is none)."""
    return ", ".join(f"{column} = (SELECT j.{source} FROM customers_job j WHERE j.id = {job_id})"
                     for column, source in copies.items())


def _to_callbacks(copies, key):
    """The job's new values onto the callbacks whose `key` is the job."""
    assignments = ", ".join(f"{column} = NEW.{source}" for column, source in copies.items())
    return f"UPDATE callbacks_callback SET {assignments} WHERE {key} = NEW.id;"


def _select_into(copies, job_id):
    sources = ", ".join(f"j.{source}" for source in copies.values())
    targets = ", ".join(f"NEW.{column}" for column in copies)
    return f"SELECT {sources} INTO {targets} FROM customers_job j WHERE j.id = {job_id} FOR SHARE;"


_JOB_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _WATCHED)
_SQLITE_JOB_CHANGED = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in _WATCHED)
_SQLITE_FILL = (f"UPDATE callbacks_callback SET {_from_job(_JOB, 'NEW.job_id')}, "
                f"{_from_job(_REVISIT, 'NEW.revisit_job_id')} WHERE id = NEW.id;")
_JOB_FACTS_SET = (f"{_from_job(_JOB, 'callbacks_callback.job_id')}, "
                  f"{_from_job(_REVISIT, 'callbacks_callback.revisit_job_id')}")


def _job_facts_recount(distinct):
    """Only the rows that differ, so that a recount of rows already right writes (and logs) nothing."""
    copies = [(_JOB, "callbacks_callback.job_id"), (_REVISIT, "callbacks_callback.revisit_job_id")]
    differ = " OR ".join(f"{column} {distinct} (SELECT j.{source} FROM customers_job j WHERE j.id = {job_id})"
                         for fields, job_id in copies for column, source in fields.items())
    return f"UPDATE callbacks_callback SET {_JOB_FACTS_SET} WHERE {differ}"


JOB_FACTS = Rule(
    name="callbacks_job_facts",
    postgresql=[
        Trigger("callbacks_job_facts_fill", "callbacks_callback",
                "CREATE TRIGGER callbacks_job_facts_fill BEFORE INSERT OR UPDATE OF job_id, revisit_job_id "
                "ON callbacks_callback FOR EACH ROW EXECUTE FUNCTION callbacks_job_facts_fill()",
                f"""
    CREATE OR REPLACE FUNCTION callbacks_job_facts_fill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_select_into(_JOB, "NEW.job_id")}
        IF NEW.revisit_job_id IS NULL THEN
            NEW.revisit_lead_id := NULL;
            NEW.revisit_no_charge := NULL;
        ELSE
            {_select_into(_REVISIT, "NEW.revisit_job_id")}
        END IF;
        RETURN NEW;
    END
    $$
    """),
        Trigger("callbacks_job_facts_refresh", "customers_job",
                f"CREATE TRIGGER callbacks_job_facts_refresh AFTER UPDATE OF {', '.join(_WATCHED)} ON customers_job "
                f"FOR EACH ROW WHEN ({_JOB_CHANGED}) EXECUTE FUNCTION callbacks_job_facts_refresh()",
                f"""
    CREATE OR REPLACE FUNCTION callbacks_job_facts_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_to_callbacks(_JOB, "job_id")}
        {_to_callbacks(_REVISIT, "revisit_job_id")}
        RETURN NULL;
    END
    $$
    """),
    ],
    sqlite=[
        Trigger("callbacks_job_facts_insert", "callbacks_callback",
                "CREATE TRIGGER callbacks_job_facts_insert AFTER INSERT ON callbacks_callback "
                f"BEGIN {_SQLITE_FILL} END"),
        Trigger("callbacks_job_facts_update", "callbacks_callback",
                "CREATE TRIGGER callbacks_job_facts_update AFTER UPDATE OF job_id, revisit_job_id "
                f"ON callbacks_callback BEGIN {_SQLITE_FILL} END"),
        Trigger("callbacks_job_facts_refresh", "customers_job",
                f"CREATE TRIGGER callbacks_job_facts_refresh AFTER UPDATE OF {', '.join(_WATCHED)} ON customers_job "
                f"WHEN {_SQLITE_JOB_CHANGED} BEGIN {_to_callbacks(_JOB, 'job_id')} "
                f"{_to_callbacks(_REVISIT, 'revisit_job_id')} END"),
    ],
    recount={"postgresql": _job_facts_recount("IS DISTINCT FROM"), "sqlite": _job_facts_recount("IS NOT")},
)

# --- CallbackChange ------------------------------------------------------------------------------------------------
# - A callback inserted or deleted, or updated in a column the dashboard's figures read: the week of its job's
#   completion (before and after) is logged. On SQLite the job facts are filled by an update after the insert, which
#   logs the week then.
# - A helper added to or removed from a job that has callbacks: the "helper" figures of that job's week change.

_READ = [
    "job_id", "job_completed_at", "job_kind", "job_lead_id", "job_status", "root_cause", "urgency", "is_repeat",
    "acknowledged_at", "first_contact_due_at", "state", "resolved_at", "revisit_due_at", "logged_at",
    "labour_hours", "parts_cost", "revisit_lead_id", "revisit_no_charge", "steps_done", "classification",
    "paused_since",
]
_CHANGE = "INSERT INTO servicedesk_callbackchange (job_completed_at)"
_READ_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _READ)
_SQLITE_READ_CHANGED = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in _READ)


def _of_job(job_id):
    """The change of the week of `job_id`, when callbacks are on it (they all share its completion)."""
    return (f"{_CHANGE} SELECT DISTINCT c.job_completed_at FROM callbacks_callback c "
            f"WHERE c.job_id = {job_id} AND c.job_completed_at IS NOT NULL;")


_ROLLUP_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION callbacks_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.job_completed_at IS NOT NULL THEN
            {_CHANGE} VALUES (OLD.job_completed_at);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.job_completed_at IS NOT NULL
                AND (TG_OP = 'INSERT' OR NEW.job_completed_at IS DISTINCT FROM OLD.job_completed_at) THEN
            {_CHANGE} VALUES (NEW.job_completed_at);
        END IF;
        RETURN NULL;
    END
    $$
    """
_HELPERS_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION customers_helpers_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {_of_job("OLD.job_id")}
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {_of_job("NEW.job_id")}
        END IF;
        RETURN NULL;
    END
    $$
    """

ROLLUP_CHANGES = Rule(
    name="callback_rollup_changes",
    postgresql=[
        Trigger("callbacks_rollup_change", "callbacks_callback",
                "CREATE TRIGGER callbacks_rollup_change AFTER INSERT OR DELETE ON callbacks_callback "
                "FOR EACH ROW EXECUTE FUNCTION callbacks_rollup_change()",
                _ROLLUP_FUNCTION),
        Trigger("callbacks_rollup_change_update", "callbacks_callback",
                f"CREATE TRIGGER callbacks_rollup_change_update AFTER UPDATE OF {', '.join(_READ)} "
                f"ON callbacks_callback FOR EACH ROW WHEN ({_READ_CHANGED}) EXECUTE FUNCTION callbacks_rollup_change()",
                _ROLLUP_FUNCTION),
        Trigger("customers_helpers_rollup_change", "customers_job_helpers",
                "CREATE TRIGGER customers_helpers_rollup_change AFTER INSERT OR UPDATE OR DELETE "
                "ON customers_job_helpers FOR EACH ROW EXECUTE FUNCTION customers_helpers_rollup_change()",
                _HELPERS_FUNCTION),
    ],
    sqlite=[
        Trigger("callbacks_rollup_change_insert", "callbacks_callback",
                "CREATE TRIGGER callbacks_rollup_change_insert AFTER INSERT ON callbacks_callback "
                f"WHEN NEW.job_completed_at IS NOT NULL BEGIN {_CHANGE} VALUES (NEW.job_completed_at); END"),
        Trigger("callbacks_rollup_change_delete", "callbacks_callback",
                "CREATE TRIGGER callbacks_rollup_change_delete AFTER DELETE ON callbacks_callback "
                f"WHEN OLD.job_completed_at IS NOT NULL BEGIN {_CHANGE} VALUES (OLD.job_completed_at); END"),
        Trigger("callbacks_rollup_change_update", "callbacks_callback",
                f"CREATE TRIGGER callbacks_rollup_change_update AFTER UPDATE OF {', '.join(_READ)} "
                f"ON callbacks_callback WHEN {_SQLITE_READ_CHANGED} BEGIN "
                f"{_CHANGE} SELECT OLD.job_completed_at WHERE OLD.job_completed_at IS NOT NULL; "
                f"{_CHANGE} SELECT NEW.job_completed_at WHERE NEW.job_completed_at IS NOT NULL "
                "AND NEW.job_completed_at IS NOT OLD.job_completed_at; END"),
        Trigger("customers_helpers_rollup_change_insert", "customers_job_helpers",
                "CREATE TRIGGER customers_helpers_rollup_change_insert AFTER INSERT ON customers_job_helpers "
                f"BEGIN {_of_job('NEW.job_id')} END"),
        Trigger("customers_helpers_rollup_change_delete", "customers_job_helpers",
                "CREATE TRIGGER customers_helpers_rollup_change_delete AFTER DELETE ON customers_job_helpers "
                f"BEGIN {_of_job('OLD.job_id')} END"),
        Trigger("customers_helpers_rollup_change_update", "customers_job_helpers",
                "CREATE TRIGGER customers_helpers_rollup_change_update AFTER UPDATE ON customers_job_helpers "
                f"BEGIN {_of_job('OLD.job_id')} {_of_job('NEW.job_id')} END"),
    ],
    # A change the log missed is not known any more: every week with callbacks is recomputed once.
    recount=dict.fromkeys(("postgresql", "sqlite"), f"{_CHANGE} SELECT DISTINCT job_completed_at "
                                                    "FROM callbacks_callback WHERE job_completed_at IS NOT NULL"),
)

# --- updated_at: when a row last changed -----------------------------------------------------------------------------
# The API's `updated_since` and its lists' order (servicedesk/api/). A trigger, not auto_now: a queryset update, a
# save(update_fields=...) that does not name it, an upsert of the import, and the job-facts trigger above all change
# rows without Django setting it. On PostgreSQL a row's update that changes nothing leaves it alone; the time is the
# transaction's (now()), as every row one service writes changed at once.

TOUCHED_TABLES = ["customers_customer", "customers_site", "customers_equipment", "customers_job", "callbacks_callback",
                  "callbacks_followupcall", "recommendations_recommendation"]
_TOUCH_FUNCTION = """
    CREATE OR REPLACE FUNCTION servicedesk_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.updated_at := now();
        RETURN NEW;
    END
    $$
    """
TOUCHED = Rule(
    name="updated_at",
    postgresql=[
        Trigger(f"{table}_touch", table,
                f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} FOR EACH ROW "
                "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION servicedesk_touch_updated_at()",
                _TOUCH_FUNCTION)
        for table in TOUCHED_TABLES
    ],
    # SQLite cannot change NEW: the row is written again, unless the update set updated_at itself (that second
    # write, or a caller's own value, is not touched again; recursive triggers are off).
    sqlite=[
        Trigger(f"{table}_touch", table,
                f"CREATE TRIGGER {table}_touch AFTER UPDATE ON {table} WHEN NEW.updated_at IS OLD.updated_at "
                f"BEGIN UPDATE {table} SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') "
                "WHERE id = NEW.id; END")
        for table in TOUCHED_TABLES
    ],
    # Nothing to recount: a change made while the trigger was missing is not known any more.
    recount=dict.fromkeys(("postgresql", "sqlite"), "SELECT 1"),
)

# In this order: the job facts are recounted before the weeks they place the callbacks in are logged.
RULES = [STEPS_DONE, JOB_FACTS, ROLLUP_CHANGES, TOUCHED]


def declared(vendor):
    """[(rule, trigger)] for the database `vendor`."""
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"No derived-column triggers are declared for {vendor}")
    return [(rule, trigger) for rule in RULES for trigger in getattr(rule, vendor)]


def installed(connection):
    """{trigger name: what identifies its definition}: its text on SQLite, its fingerprint comment on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname, obj_description(oid, 'pg_trigger') FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        return dict(cursor.fetchall())


def _mark(connection, trigger):
    return trigger.fingerprint if connection.vendor == "postgresql" else trigger.sql


def stale(connection):
    """The declared triggers missing from the database or installed from another definition."""
    present = installed(connection)
    return [trigger for _, trigger in declared(connection.vendor)
            if present.get(trigger.name) != _mark(connection, trigger)]


def install(connection):
    """(Re)creates every declared trigger that is missing or differs, and recounts its rule's derived column.
    Idempotent: with every trigger in place it reads the catalogue once and writes nothing. Returns the names."""
    present = installed(connection)
    done, rules = [], []
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for rule, trigger in declared(connection.vendor):
            if present.get(trigger.name) == _mark(connection, trigger):
                continue
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name} ON {trigger.table}")
                cursor.execute(trigger.function)
                cursor.execute(trigger.sql)
                cursor.execute(f"COMMENT ON TRIGGER {trigger.name} ON {trigger.table} IS %s", [trigger.fingerprint])
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger.name}")
                cursor.execute(trigger.sql)
            done.append(trigger.name)
            if rule not in rules:
                rules.append(rule)
        for rule in RULES:  # in declaration order, whatever order the triggers were found in
            if rule in rules:
                cursor.execute(rule.recount[connection.vendor])
    return done


def install_after_migrate(using=DEFAULT_DB_ALIAS, **kwargs):
    """post_migrate: puts back any trigger a migration dropped (a table rebuilt on SQLite) or changed."""
    connection = connections[using]
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    from django.db.migrations.executor import MigrationExecutor  # loads the migrations: only once they are wanted

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        # Migrated part way (or back): the tables need not have the columns the declarations name yet.
        return
    install(connection)
