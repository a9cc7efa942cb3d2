"""The one lock order of the engine: a run's execution row first, then its step or approval rows.

Every path that changes a run (claiming a step, recording its result, cancel,
pause, resume, an approval decision, a provider callback) takes its locks
through these functions, so two of them can never wait on each other in
opposite orders (a deadlock PostgreSQL would break by failing one of them).
"""

from typing import Any

from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution


def execution_lock(execution_id: Any) -> WorkflowExecution:
    """Lock the execution row (caller's transaction); its organization comes along unlocked."""
    return WorkflowExecution.objects.select_for_update(of=("self",)).select_related("organization").get(pk=execution_id)


def step_lock(*, step_id: Any) -> tuple[WorkflowExecution, ExecutionStep] | None:
    """Lock a step's execution, then the step; None when the step does not exist."""
    execution_id = ExecutionStep.objects.filter(pk=step_id).values_list("execution_id", flat=True).first()
    if execution_id is None:
        return None
    execution = execution_lock(execution_id)
    return execution, ExecutionStep.objects.select_for_update().get(pk=step_id)


def approval_lock(*, approval_id: Any) -> tuple[WorkflowExecution, WorkflowApproval]:
    """Lock an approval's execution, then the approval."""
    execution_id = WorkflowApproval.objects.values_list("execution_id", flat=True).get(pk=approval_id)
    execution = execution_lock(execution_id)
    return execution, WorkflowApproval.objects.select_for_update().get(pk=approval_id)
