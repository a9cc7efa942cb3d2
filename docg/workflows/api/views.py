from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from docg.orgs.api.base import TenantViewSet
from docg.orgs.choices import MANAGER_ROLES
from docg.workflows import selectors, services
from docg.workflows.api.filters import WorkflowFilter
from docg.workflows.api.serializers import WorkflowInput, WorkflowOutput, WorkflowVersionOutput


class WorkflowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, TenantViewSet):
    base_queryset = selectors.workflows_with_nodes()
    serializer_class = WorkflowOutput
    filterset_class = WorkflowFilter
    # Starting runs, a workflow's runs and preflight: docg/executions/api/workflow_views.py.
    action_roles = {"destroy": MANAGER_ROLES, "restore": MANAGER_ROLES}

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

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Archived workflows leave the list (?archived=true shows them); their detail stays readable.
        if self.action == "list" and "archived" not in self.request.query_params:
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def perform_destroy(self, instance):
        # A workflow with runs is archived, not deleted: its runs, documents and signatures stay.
        services.workflow_delete(workflow=instance, by=self.request.user)

    @extend_schema(request=None, responses=WorkflowOutput)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        workflow = self.get_object()
        services.workflow_restore(workflow=workflow, by=request.user)
        return Response(self._fresh(workflow))

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
