"""The organization's retention policy (issue 15): `GET` and `PUT /retention-policy` (owners change it)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from docg.common.api.serializers import StrictInput
from docg.executions import retention
from docg.executions.volume_models import RetentionPolicy
from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import Role

DAYS_HELP = "Days to keep; null: the default; 0: forever."


class RetentionInput(StrictInput):
    run_days = serializers.IntegerField(min_value=0, max_value=36_500, allow_null=True, help_text=DAYS_HELP)
    document_days = serializers.IntegerField(min_value=0, max_value=36_500, allow_null=True, help_text=DAYS_HELP)


class RetentionOutput(serializers.Serializer):
    run_days = serializers.IntegerField(allow_null=True, help_text=DAYS_HELP)
    document_days = serializers.IntegerField(allow_null=True, help_text=DAYS_HELP)
    effective_run_days = serializers.IntegerField(help_text="What the purge applies (0: forever).")
    effective_document_days = serializers.IntegerField(help_text="What the purge applies (0: forever).")
    default_run_days = serializers.IntegerField()
    default_document_days = serializers.IntegerField()


def _state(organization) -> dict:
    policy = RetentionPolicy.objects.filter(organization=organization).first()
    run_days, document_days = retention.policy_days(organization.pk)
    return {
        "run_days": policy.run_days if policy else None,
        "document_days": policy.document_days if policy else None,
        "effective_run_days": run_days,
        "effective_document_days": document_days,
        "default_run_days": settings.RETENTION_RUN_DAYS,
        "default_document_days": settings.RETENTION_DOCUMENT_DAYS,
    }


class RetentionPolicyViewSet(TenantViewSet):
    base_queryset = RetentionPolicy.objects.all()
    action_roles = {"change": frozenset({Role.OWNER})}

    @extend_schema(responses=RetentionOutput)
    def current(self, request):
        return Response(RetentionOutput(_state(request.organization)).data)

    @extend_schema(request=RetentionInput, responses=RetentionOutput)
    def change(self, request):
        data = RetentionInput(data=request.data)
        data.is_valid(raise_exception=True)
        retention.retention_policy_set(organization=request.organization, by=request.user, **data.validated_data)
        return Response(RetentionOutput(_state(request.organization)).data)
