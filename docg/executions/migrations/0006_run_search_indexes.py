"""Trigram indexes for run search (docg.executions.search), on PostgreSQL only.

The expressions match the queries exactly: UPPER(text) LIKE '%…%'. SQLite (development)
searches unindexed.
"""

from django.db import migrations

INDEXES = (
    ("exec_trigger_trgm_idx", "executions_workflowexecution", 'UPPER(("trigger_data")::text)'),
    ("document_name_trgm_idx", "documents_generateddocument", 'UPPER("name")'),
    ("signature_email_trgm_idx", "documents_signaturerequest", 'UPPER("signer_email")'),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0005_bulk_operations"),
        ("documents", "0004_template_versions"),
    ]

    operations = [migrations.RunPython(create, drop)]
