from rest_framework import serializers

from docg.common.api.serializers import StrictInput
from docg.connectors.choices import Provider
from docg.connectors.models import DataSourceConnection
from docg.connectors.services import connection_address_problems


class _AddressCheck:
    def validate(self, attrs):
        problems = connection_address_problems(config=attrs.get("config"), credentials=attrs.get("credentials"))
        if problems:
            raise serializers.ValidationError({field: [message] for field, message in problems.items()})
        return attrs


class ConnectionInput(_AddressCheck, StrictInput):
    provider = serializers.ChoiceField(choices=Provider.choices)
    name = serializers.CharField(max_length=200)
    # Write-only: a secret goes in and never comes out.
    credentials = serializers.DictField(required=False, write_only=True)
    config = serializers.DictField(required=False)


class ConnectionUpdateInput(_AddressCheck, StrictInput):
    name = serializers.CharField(max_length=200, required=False)
    credentials = serializers.DictField(required=False, write_only=True)
    config = serializers.DictField(required=False)


class ConnectionOutput(serializers.ModelSerializer):
    has_credentials = serializers.SerializerMethodField()

    class Meta:
        model = DataSourceConnection
        fields = [
            "id",
            "provider",
            "name",
            "status",
            "config",
            "scopes",
            "expires_at",
            "last_checked_at",
            "last_error",
            "has_credentials",
            "created_at",
            "updated_at",
        ]

    def get_has_credentials(self, connection: DataSourceConnection) -> bool:
        return bool(connection.credentials)


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()


class AppOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    auth = serializers.CharField()
    triggers = serializers.ListField(child=serializers.DictField())
    actions = serializers.ListField(child=serializers.DictField())
