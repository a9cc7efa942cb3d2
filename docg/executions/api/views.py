from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from docg.common.errors import DocgError
from docg.executions import control, selectors
from docg.executions.api.filters import ApprovalFilter, ExecutionFilter, LogFilter, filtered
from docg.executions.api.idempotency import IDEMPOTENCY_KEY, start_response
from docg.executions.api.serializers import (
    ApprovalOutput,
    AuditOutput,
    CancelInput,
    DecideInput,
    ExecutionOutput,
    ExecutionSummaryOutput,
    LogOutput,
    PreflightReportOutput,
    ResumeInput,
    RetryInput,
    StepOutput,
)
from docg.executions.api.signatures import ExecutionSignaturesOutput, execution_signatures_response
from docg.executions.choices import LogDomain, LogLevel
from docg.executions.state import IllegalTransition, TransitionConflict
from docg.orgs.api.base import TenantViewSet


class _Chronological(CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100


class StepPagination(_Chronological):
    # A step's retries share its index; attempt breaks the tie.
    ordering = ("index", "attempt", "id")
    page_size = 100


class LogPagination(_Chronological):
    ordering = ("timestamp", "id")


class AuditPagination(_Chronological):
    ordering = ("sequence",)


LIMIT = OpenApiParameter("limit", int, description="Page size, at most 100.")
LOG_PARAMETERS = [
    OpenApiParameter("level", str, enum=LogLevel.values),
    OpenApiParameter("domain", str, enum=LogDomain.values),
    OpenApiParameter("step_id", OpenApiTypes.UUID, description="Only this step's lines."),
    LIMIT,
]


@contextmanager
def conflicts_as_409() -> Iterator[None]:
    """A run another request (or the worker) moved at the same moment is a conflict, not a 500."""
    try:
        yield
    except (IllegalTransition, TransitionConflict) as exc:
        raise DocgError("execution.illegal_transition", str(exc), status_code=409)


class ExecutionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = selectors.executions_with_version()
    serializer_class = ExecutionOutput
    filterset_class = ExecutionFilter

    def filter_queryset(self, queryset):
        # The list's filters; a detail route finds its run by id alone (its own query
        # parameters, e.g. the logs' `level`, are applied by the action).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self):
        return ExecutionSummaryOutput if self.action == "list" else ExecutionOutput

    def _state(self, execution, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.base_queryset.get(pk=execution.pk)
        return Response(ExecutionOutput(fresh).data, status=code)

    @extend_schema(responses=StepOutput(many=True), parameters=[LIMIT])
    @action(detail=True, methods=["get"], pagination_class=StepPagination, filter_backends=[])
    def steps(self, request, pk=None):
        execution = self.get_object()
        page = self.paginate_queryset(selectors.execution_steps(execution=execution))
        return self.get_paginated_response(StepOutput(page, many=True).data)

    @extend_schema(responses=LogOutput(many=True), parameters=LOG_PARAMETERS)
    @action(detail=True, methods=["get"], pagination_class=LogPagination, filter_backends=[])
    def logs(self, request, pk=None):
        execution = self.get_object()
        logs = filtered(LogFilter, request, selectors.execution_logs(execution=execution))
        page = self.paginate_queryset(logs)
        return self.get_paginated_response(LogOutput(page, many=True).data)

    @extend_schema(responses=AuditOutput(many=True), parameters=[LIMIT])
    @action(detail=True, methods=["get"], pagination_class=AuditPagination, filter_backends=[])
    def audit(self, request, pk=None):
        execution = self.get_object()
        page = self.paginate_queryset(selectors.execution_audit(execution=execution))
        return self.get_paginated_response(AuditOutput(page, many=True).data)

    @extend_schema(responses=ExecutionSignaturesOutput)
    @action(detail=True, methods=["get"], filter_backends=[])
    def signatures(self, request, pk=None):
        return execution_signatures_response(self.get_object())

    @extend_schema(responses=PreflightReportOutput)
    @action(detail=True, methods=["get"])
    def preflight(self, request, pk=None):
        execution = self.get_object()
        if execution.preflight_summary is None:
            raise DocgError(
                "preflight.not_run",
                "Preflight has not run for this execution yet.",
                status_code=status.HTTP_409_CONFLICT,
            )
        return Response(execution.preflight_summary)

    @extend_schema(request=ResumeInput, responses=ExecutionOutput)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        execution = self.get_object()
        data = ResumeInput(data=request.data)
        data.is_valid(raise_exception=True)
        with conflicts_as_409():
            control.execution_resume(
                execution=execution,
                by=request.user,
                approved=data.validated_data["approved"],
                changes=data.validated_data.get("changes"),
            )
        return self._state(execution)

    @extend_schema(request=None, responses=ExecutionOutput)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        execution = self.get_object()
        with conflicts_as_409():
            control.execution_pause(execution=execution, by=request.user)
        return self._state(execution)

    @extend_schema(request=CancelInput, responses=ExecutionOutput)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        execution = self.get_object()
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        with conflicts_as_409():
            control.execution_cancel(execution=execution, by=request.user, reason=data.validated_data["reason"])
        return self._state(execution)

    @extend_schema(request=RetryInput, responses={202: ExecutionOutput}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        execution = self.get_object()
        data = RetryInput(data=request.data)
        data.is_valid(raise_exception=True)

        def start():
            with conflicts_as_409():
                return control.execution_retry(
                    execution=execution,
                    by=request.user,
                    trigger_data=data.validated_data.get("trigger_data"),
                    from_step=data.validated_data["from_step"],
                )

        return start_response(
            request, start=start, answer=lambda retried: ExecutionOutput(self.base_queryset.get(pk=retried.pk)).data
        )


class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    base_queryset = selectors.approvals_with_execution()
    serializer_class = ApprovalOutput
    filterset_class = ApprovalFilter

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(request=DecideInput, responses=ApprovalOutput)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        approval = self.get_object()
        data = DecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        with conflicts_as_409():
            approval = control.approval_decide(approval=approval, by=request.user, **data.validated_data)
        return Response(ApprovalOutput(self.base_queryset.get(pk=approval.pk)).data)
