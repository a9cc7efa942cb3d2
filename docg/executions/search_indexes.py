"""The trigram indexes behind run search (docg.executions.search), on PostgreSQL, when the database allows them.

They need the `pg_trgm` extension, and creating an extension needs rights a
production application role often lacks (or the contrib package is missing).
So the indexes are optional: when the extension exists or can be created here,
they are created; otherwise they are skipped with a warning that says what to do,
and search still answers, with the same `UPPER(…) LIKE '%…%'` query read by a
scan instead of an index. Once a superuser has run `CREATE EXTENSION pg_trgm`,
`manage.py search_indexes` creates them (migration 0006 calls the same function).
"""

import logging

from django.db import DatabaseError, transaction

logger = logging.getLogger(__name__)

EXTENSION = "pg_trgm"
# (name, table, expression): the expressions match search.py's queries exactly.
INDEXES = (
    ("exec_trigger_trgm_idx", "executions_workflowexecution", 'UPPER(("trigger_data")::text)'),
    ("document_name_trgm_idx", "documents_generateddocument", 'UPPER("name")'),
    ("signature_email_trgm_idx", "documents_signaturerequest", 'UPPER("signer_email")'),
)
ADVICE = (
    "Run search works without them, scanning instead. To index it, a superuser runs "
    "`CREATE EXTENSION pg_trgm;` once in this database, then `manage.py search_indexes`."
)


def trigram_extension(connection) -> bool:
    """True when pg_trgm is installed in the database, or could be installed now (in a savepoint)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [EXTENSION])
        if cursor.fetchone():
            return True
    try:
        # A savepoint: a refused CREATE EXTENSION must not abort the surrounding migration.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f'CREATE EXTENSION IF NOT EXISTS "{EXTENSION}"')
    except DatabaseError as exc:
        logger.warning(
            "Run search: the %s extension is not available here (%s), so its trigram indexes are skipped. %s",
            EXTENSION,
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            ADVICE,
        )
        return False
    return True


def trigram_indexes_create(connection, *, concurrently: bool = False) -> list[str]:
    """Create the missing trigram indexes; their names, or [] (with a warning) without pg_trgm or PostgreSQL.

    `concurrently` (outside a transaction: the management command) builds them without
    blocking writes to a table already full of runs; an index a failed concurrent build
    left invalid is dropped and built again.
    """
    if connection.vendor != "postgresql" or not trigram_extension(connection):
        return []
    how = "CONCURRENTLY " if concurrently else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [list(_names())],
        )
        for (invalid,) in cursor.fetchall():
            cursor.execute(f"DROP INDEX {how}IF EXISTS {invalid}")
        for name, table, expression in INDEXES:
            cursor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")
    return list(_names())


def _names() -> tuple[str, ...]:
    return tuple(name for name, _table, _expression in INDEXES)


def trigram_indexes_drop(connection) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in _names():
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def trigram_indexes_missing(connection) -> list[str]:
    """The trigram indexes this database lacks (none off PostgreSQL, where search is never indexed)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ANY(%s)",
            [list(_names())],
        )
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in _names() if name not in present]
