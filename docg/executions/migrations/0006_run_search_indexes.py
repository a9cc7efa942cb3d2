"""Trigram indexes for run search (docg.executions.search), on PostgreSQL only, when pg_trgm is available.

The expressions match the queries exactly: UPPER(text) LIKE '%…%'. Without the
right to create the pg_trgm extension the indexes are skipped with a warning
(search then scans); `manage.py search_indexes` creates them later
(docg.executions.search_indexes). SQLite (development) searches unindexed.
"""

from django.db import migrations

from docg.executions.search_indexes import trigram_indexes_create, trigram_indexes_drop


def create(apps, schema_editor):
    trigram_indexes_create(schema_editor.connection)


def drop(apps, schema_editor):
    trigram_indexes_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0005_bulk_operations"),
        ("documents", "0004_template_versions"),
    ]

    operations = [migrations.RunPython(create, drop)]
