"""A workflow's runs: POST /workflows/{id}/executions (start), GET /workflows/{id}/runs, POST /workflows/{id}/preflight.

They live under the workflow's URL but belong to executions (workflows sit below
executions and must not import them); the routes and names are the ones the
workflow viewset had.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.common.errors import DocgError
from docg.executions import selectors as execution_selectors
from docg.executions.api.filters import RunFilter, filtered
from docg.executions.api.idempotency import IDEMPOTENCY_KEY, start_response
from docg.executions.api.serializers import (
    ExecutionOutput,
    ExecutionStartInput,
    ExecutionSummaryOutput,
    PreflightInput,
    PreflightReportOutput,
    localized_report,
)
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.preflight import preflight_check
from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import Role
from docg.workflows import selectors


class WorkflowRunViewSet(TenantViewSet):
    base_queryset = selectors.workflows_with_nodes()
    # Preflight writes and sends nothing, so viewers may run it too.
    action_roles = {"preflight": frozenset(Role)}

    @extend_schema(request=ExecutionStartInput, responses={202: ExecutionOutput}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"])
    def executions(self, request, pk=None):
        """Start a run of the active version; the worker runs preflight and the steps."""
        workflow = self.get_object()
        data = ExecutionStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        return start_response(
            request,
            start=lambda: execution_start(workflow=workflow, by=request.user, **data.validated_data),
            answer=lambda execution: ExecutionOutput(
                execution_selectors.executions_with_version().get(pk=execution.pk)
            ).data,
        )

    @extend_schema(
        responses=ExecutionSummaryOutput(many=True),
        parameters=[
            OpenApiParameter("status", str, enum=ExecutionStatus.values),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("limit", int, description="Page size, at most 100."),
        ],
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def runs(self, request, pk=None):
        workflow = self.get_object()
        runs = filtered(RunFilter, request, execution_selectors.workflow_runs(workflow=workflow))
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(ExecutionSummaryOutput(page, many=True).data)

    @extend_schema(request=PreflightInput, responses=PreflightReportOutput)
    @action(detail=True, methods=["post"])
    def preflight(self, request, pk=None):
        """Check the active version against trigger data; no execution is created."""
        workflow = self.get_object()
        data = PreflightInput(data=request.data)
        data.is_valid(raise_exception=True)
        if workflow.active_version is None:
            raise DocgError(
                "workflow.inactive", "This workflow has no active version: activate it first.", status_code=409
            )
        report = preflight_check(
            organization=request.organization,
            nodes=workflow.active_version.definition["nodes"],
            trigger_data=data.validated_data["trigger_data"],
            workflow_id=workflow.pk,
        )
        return Response(localized_report(report))
