"""Encrypted model fields on cryptography's MultiFernet.

`FERNET_KEYS` is a list: the first key encrypts, every key decrypts, so keys can
be rotated without downtime (`manage.py rotate_keys` re-encrypts with the first).
The column holds the Fernet token as text; the plaintext never reaches the database.
"""

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FERNET_KEYS is empty: at least one key is needed.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FERNET_KEYS holds an invalid key: {exc}") from exc


def fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.FERNET_KEYS))


def encrypt_text(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A secret could not be decrypted with any key in FERNET_KEYS (was a key removed too early?)."
        ) from exc


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. Not searchable, by design."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt_text(self._serialize(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._deserialize(decrypt_text(value))

    def _serialize(self, value: Any) -> str:
        return str(value)

    def _deserialize(self, plaintext: str) -> Any:
        return plaintext


class EncryptedJSONField(EncryptedTextField):
    """A JSON document (e.g. OAuth tokens) stored encrypted as one token."""

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt_text(self._serialize(value))

    def _serialize(self, value: Any) -> str:
        return json.dumps(value, sort_keys=True)

    def _deserialize(self, plaintext: str) -> Any:
        return json.loads(plaintext)

    def value_to_string(self, obj: Any) -> str:
        return self._serialize(self.value_from_object(obj))


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
