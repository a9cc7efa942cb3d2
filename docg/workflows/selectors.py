from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber

from docg.orgs.models import Organization
from docg.workflows.models import Workflow, WorkflowNode


def workflows_with_nodes() -> QuerySet[Workflow]:
    """Workflows with their nodes (in order) and active version, in three queries for any page size."""
    return Workflow.objects.select_related("active_version").prefetch_related(
        Prefetch("nodes", queryset=WorkflowNode.objects.order_by("order"))
    )


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
    from docg.executions.choices import ExecutionStatus
    from docg.executions.models import WorkflowExecution

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
