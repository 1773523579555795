"""Database triggers that keep the disclosure log append-only, and the controlled ways past.

The triggers refuse every UPDATE and DELETE on ``audit_disclosurelog`` (and TRUNCATE on
PostgreSQL), whoever issues them, and every INSERT that fills a chain column (``seq``,
``prev_hash``, ``row_hash``): a row is born unsealed. The exceptions:

- the sealer may set ``seq``, ``prev_hash`` and ``row_hash`` once (from empty), changing
  nothing else in the row, while its connection carries the ``seal`` flag and, on PostgreSQL,
  only as a role that is a member of the table's owner: the application's role (which does
  not own the table, docs/audit.md) cannot chain a row it wrote, even by setting the flag;
- a DELETE (or, on PostgreSQL, TRUNCATE) is let through while the connection carries the
  bypass flag: ``purge`` (the retention job: sealed rows only) or ``flush`` (Django's
  ``flush`` command, which empties the whole database, e.g. between transactional tests).

The flag is set only by :func:`guard_lifted`. On PostgreSQL it is the session setting
``tierspayant.audit_bypass``, which the trigger function reads. SQLite has no session
settings: its triggers call ``tierspayant_audit_bypass()``, a function this module registers
on each connection Django opens; any other client (the ``sqlite3`` shell) lacks it, so its
UPDATE or DELETE fails. A role that owns the table can still drop or disable the triggers:
production runs the application under a role that does not own it (docs/audit.md), and the
hash chain with its signed checkpoints catches what the triggers cannot stop.

The triggers are installed by migrations ``audit.0002`` and ``audit.0005``; a later
migration that makes SQLite rebuild the table must call :func:`install` again
(``audit-verify`` reports missing triggers).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_disclosurelog"
BYPASS_SETTING = "tierspayant.audit_bypass"
SQLITE_FUNCTION = "tierspayant_audit_bypass"
PURGE = "purge"
FLUSH = "flush"
SEAL = "seal"
_SQLITE_CODES = {"": 0, PURGE: 1, FLUSH: 2, SEAL: 3}

# Every column but the chain's: what the sealer's UPDATE must leave as it was.
_CONTENT_COLUMNS = (
    "id",
    "occurred_at",
    "request_id",
    "channel",
    "purpose",
    "outcome",
    "reason",
    "actor_id",
    "professional_id",
    "beneficiary_id",
    "fields_disclosed",
    "ip_address",
    "user_agent",
)

TRIGGER_NAMES = {
    "postgresql": (
        "audit_disclosurelog_append_only_row",
        "audit_disclosurelog_append_only_truncate",
        "audit_disclosurelog_unsealed_insert",
    ),
    "sqlite": (
        "audit_disclosurelog_no_update",
        "audit_disclosurelog_no_delete",
        "audit_disclosurelog_unsealed_insert",
    ),
}
_CHAIN_FILLED = "NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.row_hash IS NOT NULL"

POSTGRESQL_INSTALL = [
    f"""
CREATE OR REPLACE FUNCTION audit_disclosurelog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bypass text := coalesce(current_setting('{BYPASS_SETTING}', true), '');
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'the disclosure log is append-only: INSERT with chain columns refused';
  ELSIF TG_OP = 'UPDATE' THEN
    IF bypass = '{SEAL}'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER')
       AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'row_hash'])
           = (to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'row_hash']) THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF bypass = '{FLUSH}' OR (bypass = '{PURGE}' AND OLD.seq IS NOT NULL) THEN
      RETURN OLD;
    END IF;
  ELSIF TG_OP = 'TRUNCATE' THEN
    IF bypass = '{FLUSH}' THEN
      RETURN NULL;
    END IF;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
    MESSAGE = 'the disclosure log is append-only: ' || TG_OP || ' refused';
END
$$""",  # noqa: S608 - built from this module's constants, no input
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_row ON {TABLE}",
    f"""CREATE TRIGGER audit_disclosurelog_append_only_row BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION audit_disclosurelog_append_only()""",
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_truncate ON {TABLE}",
    f"""CREATE TRIGGER audit_disclosurelog_append_only_truncate BEFORE TRUNCATE ON {TABLE}
FOR EACH STATEMENT EXECUTE FUNCTION audit_disclosurelog_append_only()""",
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert ON {TABLE}",
    f"""CREATE TRIGGER audit_disclosurelog_unsealed_insert BEFORE INSERT ON {TABLE}
FOR EACH ROW WHEN ({_CHAIN_FILLED}) EXECUTE FUNCTION audit_disclosurelog_append_only()""",
]
POSTGRESQL_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_row ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_disclosurelog_append_only()",
]

_UNCHANGED = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in _CONTENT_COLUMNS)
SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS audit_disclosurelog_no_update",
    f"""CREATE TRIGGER audit_disclosurelog_no_update BEFORE UPDATE ON {TABLE}
WHEN NOT ({SQLITE_FUNCTION}() = 3 AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
          AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL AND {_UNCHANGED})
BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only: UPDATE refused'); END""",
    "DROP TRIGGER IF EXISTS audit_disclosurelog_no_delete",
    f"""CREATE TRIGGER audit_disclosurelog_no_delete BEFORE DELETE ON {TABLE}
WHEN NOT ({SQLITE_FUNCTION}() = 2 OR ({SQLITE_FUNCTION}() = 1 AND OLD.seq IS NOT NULL))
BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only: DELETE refused'); END""",
    "DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert",
    f"""CREATE TRIGGER audit_disclosurelog_unsealed_insert BEFORE INSERT ON {TABLE}
WHEN {_CHAIN_FILLED}
BEGIN
  SELECT RAISE(ABORT, 'the disclosure log is append-only: INSERT with chain columns refused');
END""",
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_disclosurelog_no_update",
    "DROP TRIGGER IF EXISTS audit_disclosurelog_no_delete",
    "DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert",
]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the triggers on ``connection``'s database."""
    statements = {"postgresql": POSTGRESQL_INSTALL, "sqlite": SQLITE_INSTALL}.get(
        connection.vendor, []
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers (migration rollback)."""
    statements = {"postgresql": POSTGRESQL_UNINSTALL, "sqlite": SQLITE_UNINSTALL}.get(
        connection.vendor, []
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def installed_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of this module's triggers present (and enabled, on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        else:
            return set()
        return {row[0] for row in cursor.fetchall()}


def missing_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    """The expected triggers that are absent or disabled (empty set: all in place)."""
    expected = set(TRIGGER_NAMES.get(connection.vendor, ()))
    return expected - installed_triggers(connection)


#: The sealer's advisory lock key ("tpaudit"): held by each sealing batch through its commit,
#: and by ``audit-verify``, so a verification never sees a batch half-written.
SEALER_LOCK_ID = 0x7470_6175_6469_74


def lock_sealer(connection: BaseDatabaseWrapper) -> None:
    """Take the sealer's lock until the end of the current transaction (PostgreSQL: an
    advisory lock; SQLite serialises writers anyway). The request path never takes it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK_ID])


def _sqlite_state(connection: BaseDatabaseWrapper) -> list[str]:
    # Held on the wrapper itself (``django.db.connection`` is a proxy to it).
    wrapper = connections[connection.alias]
    state: list[str] = wrapper.__dict__.setdefault("_tierspayant_audit_bypass", [""])
    return state


def register_sqlite_function(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give a new SQLite connection the function its triggers
    call, reading this wrapper's bypass flag (0 none, 1 purge, 2 flush)."""
    if connection.vendor != "sqlite" or connection.connection is None:
        return
    state = _sqlite_state(connection)
    connection.connection.create_function(
        SQLITE_FUNCTION, 0, lambda: _SQLITE_CODES[state[0]], deterministic=False
    )


@contextlib.contextmanager
def guard_lifted(connection: BaseDatabaseWrapper, mode: str) -> Iterator[None]:
    """Let DELETE (``purge``: sealed rows only), DELETE and TRUNCATE (``flush``), or the
    one-time setting of the chain columns (``seal``; on PostgreSQL also only for a member of
    the table's owner) through on this connection for the duration of the block. Used by
    ``services.seal_log``, ``services.purge_expired`` and the ``flush`` command only."""
    if mode not in (PURGE, FLUSH, SEAL):
        raise ValueError(f"unknown bypass mode {mode!r}")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        state = _sqlite_state(connection)
        state[0] = mode
        try:
            yield
        finally:
            state[0] = ""
    elif connection.vendor == "postgresql":
        # Inside a transaction the setting is local to it (gone at commit or rollback);
        # in autocommit it lasts for the session until reset below.
        local = connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, %s)", [BYPASS_SETTING, mode, local])
        try:
            yield
        finally:
            if not connection.needs_rollback:
                try:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT set_config(%s, '', %s)", [BYPASS_SETTING, local])
                except DatabaseError:
                    if not local:  # never leave a session with the flag set
                        connection.close()
    else:
        yield
