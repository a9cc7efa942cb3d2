from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.common.api.views import TenantViewSet
from docg.common.errors import DocgError
from docg.executions import selectors as execution_selectors
from docg.executions.api.filters import RunFilter, filtered
from docg.executions.api.serializers import (
    ExecutionOutput,
    ExecutionStartInput,
    ExecutionSummaryOutput,
    PreflightInput,
    PreflightReportOutput,
)
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import execution_start
from docg.executions.preflight import preflight_check
from docg.orgs.choices import MANAGER_ROLES, Role
from docg.workflows import selectors, services
from docg.workflows.api.filters import WorkflowFilter
from docg.workflows.api.serializers import WorkflowInput, WorkflowOutput, WorkflowVersionOutput


class WorkflowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    base_queryset = selectors.workflows_with_nodes()
    serializer_class = WorkflowOutput
    filterset_class = WorkflowFilter
    # Preflight writes and sends nothing, so viewers may run it too.
    action_roles = {"destroy": MANAGER_ROLES, "preflight": frozenset(Role)}

    def _fresh(self, workflow) -> dict:
        return WorkflowOutput(self.get_queryset().get(pk=workflow.pk)).data

    @extend_schema(request=WorkflowInput, responses={201: WorkflowOutput})
    def create(self, request):
        data = WorkflowInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        workflow = services.workflow_create(organization=request.organization, by=request.user, **data.validated_data)
        return Response(self._fresh(workflow), status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkflowInput, responses=WorkflowOutput)
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(request=WorkflowInput, responses=WorkflowOutput)
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        workflow = self.get_object()
        data = WorkflowInput(data=request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        services.workflow_update(workflow=workflow, by=request.user, **data.validated_data)
        return Response(self._fresh(workflow))

    def perform_destroy(self, instance):
        services.workflow_delete(workflow=instance, by=self.request.user)

    @extend_schema(request=None, responses=WorkflowOutput)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        workflow = self.get_object()
        services.workflow_activate(workflow=workflow, by=request.user)
        return Response(self._fresh(workflow))

    @extend_schema(request=None, responses=WorkflowOutput)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        workflow = self.get_object()
        services.workflow_deactivate(workflow=workflow, by=request.user)
        return Response(self._fresh(workflow))

    @extend_schema(responses=WorkflowVersionOutput(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        workflow = self.get_object()
        page = self.paginate_queryset(workflow.versions.all())
        return self.get_paginated_response(WorkflowVersionOutput(page, many=True).data)

    @extend_schema(request=ExecutionStartInput, responses={202: ExecutionOutput})
    @action(detail=True, methods=["post"])
    def executions(self, request, pk=None):
        """Start a run of the active version; the worker runs preflight and the steps."""
        workflow = self.get_object()
        data = ExecutionStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        execution = execution_start(workflow=workflow, by=request.user, **data.validated_data)
        fresh = execution_selectors.executions_with_version().get(pk=execution.pk)
        return Response(ExecutionOutput(fresh).data, status=status.HTTP_202_ACCEPTED)

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
        )
        return Response(report)
