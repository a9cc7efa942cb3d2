import math

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


class JsonObjectField(serializers.DictField):
    """A JSON object that PostgreSQL's jsonb will store: no NUL characters, no NaN or Infinity.

    Both are valid to Python's json module, and both would make the INSERT fail (a 500).
    """

    default_error_messages = {
        "nul": "Text may not contain NUL (\\u0000) characters.",
        "not_finite": "Numbers must be finite (no NaN or Infinity).",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        stack = [value]
        while stack:  # Iterative: the input is untrusted and may be deep.
            item = stack.pop()
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in str(key):
                        self.fail("nul")
                    stack.append(child)
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str) and "\x00" in item:
                self.fail("nul")
            elif isinstance(item, float) and not math.isfinite(item):
                self.fail("not_finite")
        return value
