"""Query-string filters. Invalid values are a 400 (see `filtered`), never passed on to `.filter()`."""

import django_filters
from django.db.models import QuerySet
from django_filters.utils import translate_validation

from docg.common.api.filters import UtcDateTimeFilter
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, LogLevel
from docg.executions.models import ExecutionLog, WorkflowApproval, WorkflowExecution


class RunFilter(django_filters.FilterSet):
    """One workflow's runs: `GET /workflows/{id}/runs`."""

    status = django_filters.ChoiceFilter(choices=ExecutionStatus.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = WorkflowExecution
        fields = ["status", "created_after", "created_before"]


class ExecutionFilter(RunFilter):
    # A UUID, not a model choice: the queryset is already the organization's, so another
    # organization's workflow id simply matches nothing.
    workflow = django_filters.UUIDFilter(field_name="workflow_id")

    class Meta(RunFilter.Meta):
        fields = ["status", "workflow", "created_after", "created_before"]


class LogFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=LogLevel.choices)
    domain = django_filters.ChoiceFilter(choices=LogDomain.choices)
    # Scoped by the execution's log queryset: a step of another run matches nothing.
    step_id = django_filters.UUIDFilter(field_name="step_id")

    class Meta:
        model = ExecutionLog
        fields = ["level", "domain", "step_id"]


class ApprovalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApprovalStatus.choices)
    execution = django_filters.UUIDFilter(field_name="execution_id")

    class Meta:
        model = WorkflowApproval
        fields = ["status", "execution"]


def filtered(filterset_class: type[django_filters.FilterSet], request, queryset: QuerySet) -> QuerySet:
    """Apply a filterset outside a list view (detail actions), answering 400 for invalid values."""
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs
