"""API keys over the API (owners and admins): create (the key is in that one answer), list, revoke."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from docg.common.api.serializers import StrictInput
from docg.orgs.api.base import TenantViewSet
from docg.orgs.api.fields import PersonField
from docg.orgs.api_keys import api_key_create, api_key_revoke
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.orgs.models import ApiKey


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Api-Key <key>` in the OpenAPI schema (registered by being defined)."""

    target_class = "docg.orgs.tenancy.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organization's API key, sent as `Api-Key <key>`; no X-Organization-ID needed.",
        }


class ApiKeyOutput(serializers.ModelSerializer):
    created_by = PersonField(default=None)

    class Meta:
        model = ApiKey
        fields = [
            "id", "name", "role", "prefix", "status", "expires_at", "last_used_at", "revoked_at",
            "created_by", "created_at",
        ]  # fmt: skip


class ApiKeyCreatedOutput(ApiKeyOutput):
    key = serializers.CharField(help_text="The key itself: shown in this answer only.")

    class Meta(ApiKeyOutput.Meta):
        fields = [*ApiKeyOutput.Meta.fields, "key"]


class ApiKeyInput(StrictInput):
    name = serializers.CharField(max_length=50)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Keys for integrations: clients send `Authorization: Api-Key <key>`, no X-Organization-ID."""

    base_queryset = ApiKey.objects.select_related("created_by")
    serializer_class = ApiKeyOutput
    action_roles = dict.fromkeys(("list", "retrieve", "create", "destroy"), MANAGER_ROLES)

    @extend_schema(request=ApiKeyInput, responses={201: ApiKeyCreatedOutput})
    def create(self, request):
        data = ApiKeyInput(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, key = api_key_create(organization=request.organization, by=request.membership, **data.validated_data)
        api_key.key = key
        return Response(ApiKeyCreatedOutput(api_key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        api_key_revoke(api_key=self.get_object(), by=request.membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
