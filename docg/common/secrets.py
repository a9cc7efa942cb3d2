"""Key rotation for the encrypted fields in `docg.common.fields`."""

from collections.abc import Iterator

from cryptography.fernet import InvalidToken, MultiFernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction

from docg.common.fields import EncryptedTextField, encrypted_fields, fernet

BATCH_SIZE = 500


def encrypted_columns() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, encrypted field) pair whose column lives in that model's own table."""
    for model in apps.get_models():
        # A proxy shares its concrete model's table, and a multi-table child lists
        # its parent's fields too: either would rotate the same column twice.
        if model._meta.proxy:
            continue
        for field in encrypted_fields(model):
            if field.model is model and field.concrete:
                yield model, field


def secrets_rotate(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Re-encrypt every stored secret with the first key of FERNET_KEYS; return counts per model field."""
    keys = fernet()
    return {
        f"{model._meta.label}.{field.name}": _rotate_column(model, field, keys, batch_size)
        for model, field in encrypted_columns()
    }


def _rotate_column(model: type[models.Model], field: EncryptedTextField, keys: MultiFernet, batch_size: int) -> int:
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    table, column, pk = qn(model._meta.db_table), qn(field.column), qn(model._meta.pk.column)
    # Raw SQL on both sides: the field's from_db_value would decrypt and its
    # get_prep_value would encrypt again, while rotation must move tokens as they are.
    select_sql = (
        f"SELECT {pk}, {column} FROM {table} "  # noqa: S608 - identifiers are quoted model metadata
        f"WHERE {column} IS NOT NULL AND {column} <> '' AND {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    first_sql = (
        f"SELECT {pk}, {column} FROM {table} "  # noqa: S608
        f"WHERE {column} IS NOT NULL AND {column} <> '' ORDER BY {pk} LIMIT %s"
    )
    # Compare-and-swap on the old token: a row rewritten by the application since
    # we read it already holds a token under the current first key; keep it.
    update_sql = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"  # noqa: S608
    rotated = 0
    last_pk = None
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        while True:
            if last_pk is None:
                cursor.execute(first_sql, [batch_size])
            else:
                cursor.execute(select_sql, [last_pk, batch_size])
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for row_pk, token in rows:
                try:
                    new_token = keys.rotate(token.encode()).decode()
                except InvalidToken as exc:
                    raise ImproperlyConfigured(
                        f"{model._meta.label}.{field.name} of row {row_pk} cannot be decrypted with any key "
                        "in FERNET_KEYS; nothing was rotated for this field."
                    ) from exc
                updates.append((new_token, row_pk, token))
            cursor.executemany(update_sql, updates)
            # psycopg 3 reports the sum over the batch; rows lost to the compare-and-swap are not counted.
            rotated += max(cursor.rowcount, 0)
            last_pk = rows[-1][0]
    return rotated
