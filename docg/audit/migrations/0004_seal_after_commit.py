"""Rows are sealed by the chain writer after they are inserted: the seal columns start NULL.

The append-only trigger lets exactly one UPDATE through: filling a row's NULL
sequence, prev_hash and hash, with every other column unchanged. A sealed row
stays as immutable as before; DELETE and TRUNCATE are still refused.
"""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION docg_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.sequence IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.sequence IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.organization_id, NEW.timestamp, NEW.actor_type, NEW.actor_id, NEW.action,
            NEW.target_type, NEW.target_id, NEW.event_metadata)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.organization_id, OLD.timestamp, OLD.actor_type, OLD.actor_id, OLD.action,
            OLD.target_type, OLD.target_id, OLD.event_metadata)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION docg_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("sequence__isnull", True)),
                fields=["organization", "timestamp"],
                name="audit_unsealed_idx",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
