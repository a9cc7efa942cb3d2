from rest_framework import serializers


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
