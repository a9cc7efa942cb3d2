"""Reads of runs, their steps, logs, audit trail and approvals.

The API's base querysets carry no organization (TenantViewSet scopes them); the
per-run reads below take the execution, which already belongs to one organization.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from docg.audit.models import AuditEvent
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.models import ExecutionLog, ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.orgs.models import Organization
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
    """Every audit row about the run, its documents and its signature requests, in chain order.

    Three target lists OR-ed together; each branch is served by audit_target_idx.
    """
    organization_id = execution.organization_id
    documents = GeneratedDocument.objects.filter(organization_id=organization_id, execution=execution)
    signatures = SignatureRequest.objects.filter(organization_id=organization_id, execution=execution)
    return AuditEvent.objects.filter(
        Q(target_type="execution", target_id=str(execution.pk))
        | Q(target_type="document", target_id__in=[str(pk) for pk in documents.values_list("pk", flat=True)])
        | Q(
            target_type="signature_request",
            target_id__in=[str(pk) for pk in signatures.values_list("pk", flat=True)],
        ),
        organization_id=organization_id,
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


@dataclass(frozen=True)
class RunSummary:
    """A workflow's newest run and how its recent finished runs went (for the dashboard list)."""

    last_run_id: Any
    last_run_status: str
    last_run_at: datetime
    finished: int
    completed: int

    @property
    def success_rate(self) -> int | None:
        """Whole percent of recent finished runs that completed; None before any run has finished."""
        return round(100 * self.completed / self.finished) if self.finished else None


def workflow_run_summaries(
    *, organization: Organization, workflow_ids: list, recent: int = 20
) -> dict[Any, RunSummary]:
    """Per workflow: its newest run and, over its `recent` newest runs, how many finished and how many completed.

    One query for any number of workflows: a window function ranks each workflow's runs
    newest first (the (workflow, -created_at) index serves it). Canceled runs were a
    person's choice, so only completed and failed runs count as finished.
    """
    rows = (
        WorkflowExecution.objects.filter(organization=organization, workflow_id__in=workflow_ids)
        .annotate(rank=Window(RowNumber(), partition_by=[F("workflow_id")], order_by=F("created_at").desc()))
        .filter(rank__lte=recent)
        .values_list("workflow_id", "id", "status", "created_at", "rank")
    )
    latest: dict[Any, tuple] = {}
    counts: dict[Any, list[int]] = {}
    for workflow_id, run_id, status, created_at, rank in rows:
        if rank == 1:
            latest[workflow_id] = (run_id, status, created_at)
        finished_completed = counts.setdefault(workflow_id, [0, 0])
        if status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
            finished_completed[0] += 1
        if status == ExecutionStatus.COMPLETED:
            finished_completed[1] += 1
    return {
        workflow_id: RunSummary(*latest[workflow_id], finished=counts[workflow_id][0], completed=counts[workflow_id][1])
        for workflow_id in latest
    }
