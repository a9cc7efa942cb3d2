"""The bulk-operations API (issue 15): `POST /executions/bulk` and `/bulk-operations`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.common.api.filters import UtcDateTimeField
from docg.common.api.serializers import StrictInput
from docg.executions import bulk
from docg.executions.api.serializers import ExecutionSummaryOutput
from docg.executions.choices import ExecutionStatus
from docg.executions.models import WorkflowExecution
from docg.executions.volume_models import BulkAction, BulkOperation, BulkOperationItem
from docg.orgs.api.base import TenantViewSet
from docg.workflows.models import Workflow

# --- input --------------------------------------------------------------------------


class UtcDateTimeInput(serializers.DateTimeField):
    """A date-time read as the list filters read it (docg.common.api.filters): real-world offsets, in UTC."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        try:
            moment = UtcDateTimeField().clean(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages)
        if moment is None:
            self.fail("invalid", format="ISO 8601")
        return moment


class BulkFilterInput(StrictInput):
    status = serializers.ChoiceField(choices=ExecutionStatus.choices, required=False)
    workflow = serializers.UUIDField(required=False)
    error_code = serializers.CharField(required=False, allow_blank=True, max_length=100)
    created_after = UtcDateTimeInput(required=False)
    created_before = UtcDateTimeInput(required=False)
    ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=10_000)

    # Another organization's ids are refused by name (the service checks again for other callers).
    def validate_workflow(self, value):
        organization = self.context["organization"]
        if not Workflow.objects.filter(organization=organization, pk=value).exists():
            raise serializers.ValidationError(_("No workflow %(id)s in this organization.") % {"id": value})
        return value

    def validate_ids(self, value):
        organization = self.context["organization"]
        found = set(
            WorkflowExecution.objects.filter(organization=organization, pk__in=value).values_list("pk", flat=True)
        )
        unknown = [str(v) for v in value if v not in found]
        if unknown:
            raise serializers.ValidationError(_("No such runs: %(ids)s.") % {"ids": ", ".join(unknown[:20])})
        return value


class BulkInput(StrictInput):
    action = serializers.ChoiceField(choices=BulkAction.choices)
    filter = BulkFilterInput()
    from_step = serializers.SlugField(required=False, allow_blank=True, max_length=64, default="")
    dry_run = serializers.BooleanField(required=False, default=False)


# --- output -------------------------------------------------------------------------


class BulkPreviewOutput(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    over_limit = serializers.BooleanField()
    plan_remaining = serializers.IntegerField(
        allow_null=True,
        help_text="For a retry: runs the plan still starts this month (null: unlimited); retries past it fail.",
    )
    sample = ExecutionSummaryOutput(many=True)


class BulkOperationOutput(serializers.ModelSerializer):
    pending = serializers.SerializerMethodField()
    # Plain strings: drf-spectacular would name every `status` enum alike.
    action = serializers.CharField(read_only=True, help_text="retry or cancel.")
    status = serializers.CharField(read_only=True, help_text="queued, running, completed or canceled.")

    class Meta:
        model = BulkOperation
        fields = [
            "id",
            "action",
            "status",
            "workflow",
            "filter",
            "from_step",
            "total",
            "done",
            "failed",
            "canceled",
            "pending",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_pending(self, operation) -> int:
        return max(0, operation.total - operation.done - operation.failed - operation.canceled)


class BulkItemOutput(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, done, failed or canceled.")

    class Meta:
        model = BulkOperationItem
        fields = ["id", "execution", "status", "result_execution", "error_code", "error_human", "updated_at"]
        read_only_fields = fields


# --- views --------------------------------------------------------------------------


class ExecutionBulkViewSet(TenantViewSet):
    """`POST /executions/bulk`: a dry run answers the count and a sample; otherwise a bulk operation (202)."""

    base_queryset = BulkOperation.objects.all()

    @extend_schema(request=BulkInput, responses={200: BulkPreviewOutput, 202: BulkOperationOutput})
    def create(self, request):
        data = BulkInput(data=request.data, context={"organization": request.organization})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["dry_run"]:
            preview = bulk.bulk_preview(
                organization=request.organization, action=values["action"], filter=values["filter"]
            )
            return Response(BulkPreviewOutput(preview).data)
        operation = bulk.bulk_create(
            organization=request.organization,
            by=request.user,
            action=values["action"],
            filter=values["filter"],
            from_step=values["from_step"],
        )
        return Response(BulkOperationOutput(operation).data, status=status.HTTP_202_ACCEPTED)


class BulkOperationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = BulkOperation.objects.all()
    serializer_class = BulkOperationOutput

    @extend_schema(request=None, responses=BulkOperationOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        operation = bulk.bulk_cancel(operation=self.get_object(), by=request.user)
        return Response(BulkOperationOutput(operation).data)

    @extend_schema(responses=BulkItemOutput(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        operation = self.get_object()
        items = operation.items.order_by("created_at", "id")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(BulkItemOutput(page, many=True).data)
