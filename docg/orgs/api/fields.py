"""Serializer fields the organization APIs share."""

from rest_framework import serializers

from docg.orgs.people import person_label


class PersonField(serializers.Field):
    """A user, read-only, as docg names them: the e-mail, or "API key: <name>" for a key's principal."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        return person_label(value) or None
