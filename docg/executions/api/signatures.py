"""Signature requests in the API: the organization's list, one request, a reminder; a run's envelopes.

`GET /signature-requests?status=&provider=&created_before=` lists the organization's
signers (newest first); `POST /signature-requests/{id}/remind` asks the provider to
e-mail the envelope's pending signers again. `GET /executions/{id}/signatures` (an
action of ExecutionViewSet) groups one run's signers by envelope.
"""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.common.api.filters import UtcDateTimeFilter
from docg.documents.choices import SignatureStatus
from docg.documents.models import SignatureRequest
from docg.executions.envelopes import envelope_remind
from docg.executions.models import WorkflowExecution
from docg.executions.signature_state import signature_state_of, signer_state
from docg.orgs.api.base import TenantViewSet

E_SIGNATURE_PROVIDERS = [("clicksign", "ClickSign"), ("zapsign", "ZapSign")]


def execution_signature_requests(*, execution: WorkflowExecution):
    """One run's signature requests, oldest first."""
    return SignatureRequest.objects.filter(organization_id=execution.organization_id, execution=execution).order_by(
        "created_at", "id"
    )


class SignerOutput(serializers.Serializer):
    signature_request_id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    status = serializers.CharField(help_text="pending, viewed, signed, declined, expired or canceled.")
    sign_url = serializers.CharField(help_text="The signing link, where the provider gives one.")
    signed_at = serializers.DateTimeField(allow_null=True)
    viewed_at = serializers.CharField(allow_null=True)
    declined_at = serializers.CharField(allow_null=True)
    expired_at = serializers.CharField(allow_null=True)
    canceled_at = serializers.CharField(allow_null=True)
    reminded_at = serializers.CharField(allow_null=True)


class EnvelopeOutput(serializers.Serializer):
    provider = serializers.CharField()
    envelope_id = serializers.CharField()
    node_key = serializers.CharField()
    status = serializers.CharField()
    document_id = serializers.CharField()
    signed_document_id = serializers.CharField()
    withdrawal = serializers.JSONField(allow_null=True, help_text="The provider's answer when the run was canceled.")
    signers = SignerOutput(many=True)


class ExecutionSignaturesOutput(serializers.Serializer):
    envelopes = EnvelopeOutput(many=True)


class SignatureRequestOutput(serializers.ModelSerializer):
    execution_id = serializers.UUIDField()
    workflow_id = serializers.UUIDField(source="execution.workflow_id")
    document_id = serializers.UUIDField(allow_null=True)
    signer = serializers.SerializerMethodField()
    signed_document_id = serializers.SerializerMethodField()

    class Meta:
        model = SignatureRequest
        fields = [
            "id",
            "execution_id",
            "workflow_id",
            "provider",
            "envelope_id",
            "document_id",
            "signed_document_id",
            "signer",
            "created_at",
        ]

    @extend_schema_field(SignerOutput)
    def get_signer(self, request: SignatureRequest) -> dict:
        return SignerOutput(signer_state(request)).data

    def get_signed_document_id(self, request: SignatureRequest) -> str:
        return str((request.provider_data or {}).get("signed_document_id") or "")


class RemindOutput(serializers.Serializer):
    envelope_id = serializers.CharField()
    provider = serializers.CharField()
    reminded = serializers.ListField(child=serializers.UUIDField())
    reminded_at = serializers.CharField()


class SignatureRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=SignatureStatus.choices)
    provider = django_filters.ChoiceFilter(choices=E_SIGNATURE_PROVIDERS)
    execution = django_filters.UUIDFilter(field_name="execution_id")
    # "Waiting for more than N days" on the dashboard is `created_before`.
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lte")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = SignatureRequest
        fields = ["status", "provider", "execution", "created_before", "created_after"]


class SignatureRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = SignatureRequest.objects.select_related("execution")
    serializer_class = SignatureRequestOutput
    filterset_class = SignatureRequestFilter

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(request=None, responses=RemindOutput)
    @action(detail=True, methods=["post"])
    def remind(self, request, pk=None):
        signature_request = self.get_object()
        return Response(RemindOutput(envelope_remind(request=signature_request, by=request.user)).data)


def execution_signatures_response(execution: WorkflowExecution) -> Response:
    """The body of `GET /executions/{id}/signatures`: the run's envelopes with their signers."""
    state = signature_state_of(list(execution_signature_requests(execution=execution)))
    return Response(ExecutionSignaturesOutput({"envelopes": state["envelopes"]}).data)
