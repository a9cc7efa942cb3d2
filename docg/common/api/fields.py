from rest_framework import serializers

from docg.common.untrusted import UntrustedValueError, check_json


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in a request body; only the request organization's rows are accepted (else 400)."""

    default_error_messages = {
        "does_not_exist": "No object with id {pk_value} exists in this organization.",
        "incorrect_type": "Expected an id (UUID), got {data_type}.",
    }

    def __init__(self, model, **kwargs):
        self.model = model
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        organization = self.context.get("organization")
        if organization is None:
            return self.model.objects.none()
        return self.model.objects.filter(organization=organization)


class JsonObjectField(serializers.DictField):
    """A JSON object that PostgreSQL's jsonb will store (see docg.common.untrusted), else a 400 naming the key."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return check_json(value)
        except UntrustedValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
