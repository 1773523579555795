"""The disclosure log's chain columns are the sealer's alone (issue 13): an INSERT that fills
``seq``, ``prev_hash`` or ``row_hash`` is refused for every role, and the one-time UPDATE that
chains a row needs the ``seal`` flag (and, on PostgreSQL, a member of the table's owner role).
"""

import importlib

from django.db import migrations

# The SQL of tierspayant.audit.db_guard as of this migration (frozen here on purpose).
POSTGRESQL_INSTALL = [
    """
CREATE OR REPLACE FUNCTION audit_disclosurelog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  bypass text := coalesce(current_setting('tierspayant.audit_bypass', true), '');
BEGIN
  IF TG_OP = 'INSERT' THEN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
      MESSAGE = 'the disclosure log is append-only: INSERT with chain columns refused';
  ELSIF TG_OP = 'UPDATE' THEN
    IF bypass = 'seal'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                       'MEMBER')
       AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'row_hash'])
           = (to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'row_hash']) THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF bypass = 'flush' OR (bypass = 'purge' AND OLD.seq IS NOT NULL) THEN
      RETURN OLD;
    END IF;
  ELSIF TG_OP = 'TRUNCATE' THEN
    IF bypass = 'flush' THEN
      RETURN NULL;
    END IF;
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
    MESSAGE = 'the disclosure log is append-only: ' || TG_OP || ' refused';
END
$$""",
    'DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_row ON audit_disclosurelog',
    """CREATE TRIGGER audit_disclosurelog_append_only_row BEFORE UPDATE OR DELETE ON audit_disclosurelog
FOR EACH ROW EXECUTE FUNCTION audit_disclosurelog_append_only()""",
    'DROP TRIGGER IF EXISTS audit_disclosurelog_append_only_truncate ON audit_disclosurelog',
    """CREATE TRIGGER audit_disclosurelog_append_only_truncate BEFORE TRUNCATE ON audit_disclosurelog
FOR EACH STATEMENT EXECUTE FUNCTION audit_disclosurelog_append_only()""",
    'DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert ON audit_disclosurelog',
    """CREATE TRIGGER audit_disclosurelog_unsealed_insert BEFORE INSERT ON audit_disclosurelog
FOR EACH ROW WHEN (NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.row_hash IS NOT NULL) EXECUTE FUNCTION audit_disclosurelog_append_only()""",
]

SQLITE_INSTALL = [
    'DROP TRIGGER IF EXISTS audit_disclosurelog_no_update',
    """CREATE TRIGGER audit_disclosurelog_no_update BEFORE UPDATE ON audit_disclosurelog
WHEN NOT (tierspayant_audit_bypass() = 3 AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
          AND NEW.prev_hash IS NOT NULL AND NEW.row_hash IS NOT NULL AND NEW."id" IS OLD."id" AND NEW."occurred_at" IS OLD."occurred_at" AND NEW."request_id" IS OLD."request_id" AND NEW."channel" IS OLD."channel" AND NEW."purpose" IS OLD."purpose" AND NEW."outcome" IS OLD."outcome" AND NEW."reason" IS OLD."reason" AND NEW."actor_id" IS OLD."actor_id" AND NEW."professional_id" IS OLD."professional_id" AND NEW."beneficiary_id" IS OLD."beneficiary_id" AND NEW."fields_disclosed" IS OLD."fields_disclosed" AND NEW."ip_address" IS OLD."ip_address" AND NEW."user_agent" IS OLD."user_agent")
BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only: UPDATE refused'); END""",
    'DROP TRIGGER IF EXISTS audit_disclosurelog_no_delete',
    """CREATE TRIGGER audit_disclosurelog_no_delete BEFORE DELETE ON audit_disclosurelog
WHEN NOT (tierspayant_audit_bypass() = 2 OR (tierspayant_audit_bypass() = 1 AND OLD.seq IS NOT NULL))
BEGIN SELECT RAISE(ABORT, 'the disclosure log is append-only: DELETE refused'); END""",
    'DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert',
    """CREATE TRIGGER audit_disclosurelog_unsealed_insert BEFORE INSERT ON audit_disclosurelog
WHEN NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.row_hash IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'the disclosure log is append-only: INSERT with chain columns refused');
END""",
]

DROP_INSERT_TRIGGER = {
    "postgresql": ["DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert ON audit_disclosurelog"],
    "sqlite": ["DROP TRIGGER IF EXISTS audit_disclosurelog_unsealed_insert"],
}


def install_triggers(apps, schema_editor):
    statements = {"postgresql": POSTGRESQL_INSTALL, "sqlite": SQLITE_INSTALL}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def restore_previous_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in DROP_INSERT_TRIGGER.get(vendor, []):
        schema_editor.execute(sql)
    previous = importlib.import_module("tierspayant.audit.migrations.0002_tamper_evidence")
    previous.install_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_purpose_prior_approval_claim"),
    ]

    operations = [
        migrations.RunPython(install_triggers, restore_previous_triggers),
    ]
