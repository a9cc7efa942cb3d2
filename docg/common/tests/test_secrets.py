import json
import uuid
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction

from docg.common.fields import fernet
from docg.common.secrets import encrypted_columns, secrets_rotate
from docg.connectors.models import DataSourceConnection

SECRETS = [
    {"api_key": "sk-live-123"},
    {"access_token": "ya29.token", "refresh_token": "1//refresh", "scopes": ["drive"]},
    {"password": "hunter2", "unicode": "ação"},
]


@pytest.fixture
def k1() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def k2() -> str:
    return Fernet.generate_key().decode()


def _connection(organization, credentials: dict, name: str = "Stripe", **extra) -> DataSourceConnection:
    return DataSourceConnection.objects.create(
        organization=organization, provider="stripe", name=name, credentials=credentials, **extra
    )


def _raw_credentials(pk) -> str:
    # Straight from the column: the field's from_db_value would decrypt it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connectors_datasourceconnection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_keys", stdout=out)
    return out.getvalue()


def test_the_column_holds_a_fernet_token_not_the_secret(cast):
    conn = _connection(cast.acme, {"api_key": "sk-live-123"})

    raw = _raw_credentials(conn.pk)

    assert "sk-live-123" not in raw
    assert raw.startswith("gAAAAA")  # Fernet version byte 0x80, base64url
    assert json.loads(fernet().decrypt(raw.encode())) == {"api_key": "sk-live-123"}


def test_reading_the_model_back_gives_the_dict(cast):
    conn = _connection(cast.acme, {"api_key": "sk-live-123"})

    assert DataSourceConnection.objects.get(pk=conn.pk).credentials == {"api_key": "sk-live-123"}


def test_rotation_lets_the_old_key_be_removed(cast, settings, k1, k2):
    settings.FERNET_KEYS = [k1]
    conns = [
        _connection(org, creds, name=f"c{i}")
        for i, (org, creds) in enumerate(zip([cast.acme, cast.acme, cast.globex], SECRETS, strict=True))
    ]
    before = {c.pk: _raw_credentials(c.pk) for c in conns}

    settings.FERNET_KEYS = [k2, k1]
    out = _rotate()
    assert "connectors.DataSourceConnection.credentials: 3 value(s) rotated" in out

    settings.FERNET_KEYS = [k2]
    for conn, creds in zip(conns, SECRETS, strict=True):
        assert DataSourceConnection.objects.get(pk=conn.pk).credentials == creds
        raw = _raw_credentials(conn.pk)
        assert raw != before[conn.pk]
        assert json.loads(Fernet(k2.encode()).decrypt(raw.encode())) == creds


def test_without_rotation_the_new_key_alone_cannot_read_old_secrets(cast, settings, k1, k2):
    settings.FERNET_KEYS = [k1]
    conn = _connection(cast.acme, {"api_key": "sk-live-123"})

    settings.FERNET_KEYS = [k2]

    with pytest.raises(ImproperlyConfigured, match="could not be decrypted with any key in FERNET_KEYS"):
        DataSourceConnection.objects.get(pk=conn.pk)


def test_secrets_rotate_counts_every_encrypted_field(cast, settings, k1, k2):
    settings.FERNET_KEYS = [k1]
    _connection(cast.acme, SECRETS[0])
    _connection(cast.globex, SECRETS[1])
    settings.FERNET_KEYS = [k2, k1]

    counts = secrets_rotate(batch_size=1)  # several batches, one row each

    assert counts["connectors.DataSourceConnection.credentials"] == 2
    assert set(counts) == {f"{m._meta.label}.{f.name}" for m, f in encrypted_columns()}


def test_rotation_refuses_a_secret_no_key_can_read_and_changes_nothing(cast, settings, k1, k2):
    settings.FERNET_KEYS = [k1]
    # Rotation walks rows in primary-key order: the readable row is rotated
    # before the orphan fails, so only the rollback can restore it.
    readable = _connection(cast.acme, SECRETS[0], name="readable", id=uuid.UUID(int=1))
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    _connection(cast.acme, SECRETS[1], name="orphan", id=uuid.UUID(int=2**127))
    raw_before = _raw_credentials(readable.pk)
    settings.FERNET_KEYS = [k2, k1]

    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"), transaction.atomic():
        secrets_rotate()

    assert _raw_credentials(readable.pk) == raw_before
