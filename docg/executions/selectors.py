"""Reads of runs, their steps, logs, audit trail and approvals.

The API's base querysets carry no organization (TenantViewSet scopes them); the
per-run reads below take the execution, which already belongs to one organization.
"""

from django.db.models import QuerySet

from docg.audit.models import AuditEvent
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.workflows.models import Workflow


def executions_with_version() -> QuerySet[WorkflowExecution]:
    """Runs with their workflow version joined (the output shows its number)."""
    return WorkflowExecution.objects.select_related("workflow_version")


def workflow_runs(*, workflow: Workflow) -> QuerySet[WorkflowExecution]:
    """One workflow's runs; the (workflow, -created_at) index serves the newest-first pages."""
    return executions_with_version().filter(organization_id=workflow.organization_id, workflow=workflow)


def execution_steps(*, execution: WorkflowExecution) -> QuerySet[ExecutionStep]:
    return ExecutionStep.objects.filter(organization_id=execution.organization_id, execution=execution)


def execution_logs(*, execution: WorkflowExecution) -> QuerySet[ExecutionLog]:
    return ExecutionLog.objects.filter(organization_id=execution.organization_id, execution=execution)


def execution_audit(*, execution: WorkflowExecution) -> QuerySet[AuditEvent]:
    """The run's audit trail, in chain order (served by audit_target_idx)."""
    return AuditEvent.objects.filter(
        organization_id=execution.organization_id, target_type="execution", target_id=str(execution.pk)
    ).order_by("sequence")


def approvals_with_execution() -> QuerySet[WorkflowApproval]:
    """Approvals with their run joined (the output names the workflow)."""
    return WorkflowApproval.objects.select_related("execution")


def organization_executions(
    *, organization_id, status: str = "", workflow_id=None, created_from=None, created_to=None
) -> QuerySet[WorkflowExecution]:
    """An organization's runs, newest first, narrowed by validated filters (the exec_org_* indexes serve it)."""
    runs = WorkflowExecution.objects.filter(organization_id=organization_id).select_related("workflow")
    if status:
        runs = runs.filter(status=status)
    if workflow_id:
        runs = runs.filter(workflow_id=workflow_id)
    if created_from:
        runs = runs.filter(created_at__date__gte=created_from)
    if created_to:
        runs = runs.filter(created_at__date__lte=created_to)
    return runs.order_by("-created_at")
