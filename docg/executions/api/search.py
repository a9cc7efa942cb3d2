"""Finding runs (issue 15): `GET /executions/search?q=` and the streamed `GET /executions/export.csv`."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from docg.common.errors import DocgError
from docg.executions import selectors
from docg.executions.api.filters import ExecutionFilter
from docg.executions.api.serializers import ExecutionSummaryOutput
from docg.executions.choices import ExecutionStatus
from docg.executions.export import executions_csv
from docg.executions.search import executions_matching
from docg.orgs.api.base import TenantViewSet
from docg.workflows.models import Workflow

Q_PARAMETER = OpenApiParameter(
    "q", str, description="Text in the trigger data, a generated document's name or a signer's email (3+ characters)."
)


FILTER_PARAMETERS = [
    Q_PARAMETER,
    OpenApiParameter("status", str, enum=ExecutionStatus.values),
    OpenApiParameter("workflow", OpenApiTypes.UUID),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME),
]


class ExecutionSearchViewSet(TenantViewSet):
    """The runs list's filters (status, workflow, dates) plus a text query."""

    base_queryset = selectors.executions_with_version()
    serializer_class = ExecutionSummaryOutput
    filterset_class = ExecutionFilter

    def _runs(self, request, *, required: bool):
        runs = self.filter_queryset(self.get_queryset())
        workflow = request.query_params.get("workflow")
        if workflow and not Workflow.objects.filter(organization=request.organization, pk=workflow).exists():
            # A valid id (the filter checked it) of no workflow here: say so rather than answer nothing.
            raise DocgError("search.unknown_workflow", _("No such workflow."), details={"workflow": [workflow]})
        q = request.query_params.get("q")
        if q is not None or required:
            runs = executions_matching(runs, organization=request.organization, q=q or "")
        return runs

    @extend_schema(parameters=[Q_PARAMETER], responses=ExecutionSummaryOutput(many=True))
    def list(self, request):
        page = self.paginate_queryset(self._runs(request, required=True))
        return self.get_paginated_response(ExecutionSummaryOutput(page, many=True).data)


class ExecutionExportViewSet(ExecutionSearchViewSet):
    pagination_class = None

    @extend_schema(
        parameters=FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The filtered runs as CSV, streamed (newest first).",
    )
    def list(self, request):
        runs = self._runs(request, required=False)
        response = StreamingHttpResponse(executions_csv(runs), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="runs-{stamp}.csv"'
        return response
