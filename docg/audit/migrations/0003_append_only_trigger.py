"""Make the audit table append-only in PostgreSQL itself.

A trigger refuses UPDATE, DELETE and TRUNCATE, so neither application bugs nor
`.update()` / bulk deletes nor a stray psql session can rewrite history. SQLite
(the embedded mode) has no such guard; the hash chain still detects tampering.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION docg_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_refuse_update_delete
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION docg_audit_refuse_change();

CREATE TRIGGER audit_refuse_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION docg_audit_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_refuse_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_refuse_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS docg_audit_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(forward, backward)]
