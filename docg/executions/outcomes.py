"""How a run goes on, ends or waits: the next step, a failed step (retried or final), an approval
request, completion.

Each is written in the caller's transaction (which holds the execution's lock), with its
audit row and events; queue messages leave through dispatch after that transaction commits.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log
from docg.common.errors import DocgError
from docg.connectors.runtime import ActionResult
from docg.executions import dispatch
from docg.executions.approval_mail import approvers_notify_on_commit
from docg.executions.choices import ExecutionStatus, LogDomain, StepStatus
from docg.executions.errors import human_message, recommended_action
from docg.executions.events import publish_event
from docg.executions.logger import log_error, log_ok, log_warn
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import can_transition, execution_transition
from docg.workflows.graph import node_index, node_operation


def _retry_backoff(attempt: int, tech: dict) -> float:
    """Seconds before the next attempt: exponential, or the provider's Retry-After if longer; both capped."""
    wait = settings.STEP_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    # Clients put the parsed header in `retry_after_seconds` (docg.connectors.errors.retry_after_details);
    # retrying sooner than the provider asked only earns another 429.
    asked = tech.get("retry_after_seconds")
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > wait:
        wait = asked
    return min(wait, settings.STEP_RETRY_MAX_SECONDS)


def step_advance(
    *,
    execution: WorkflowExecution,
    nodes: list[dict],
    index: int,
    next_key: str | None,
    delay_seconds: int = 0,
    current_queue: str = "",
    defer: bool = False,
) -> tuple[str, str, ExecutionStep] | None:
    """Create the step after the one at `index` (in the caller's transaction), or complete the run.

    Returns (step id, queue, step) when the caller may run it right away (no delay, and it
    belongs on `current_queue`); otherwise its message is sent after commit and None returned.
    With `defer`, a step the caller runs right away is not inserted yet: the caller saves it
    once, finished (one INSERT instead of INSERT + UPDATE).
    """
    if not next_key:
        execution_complete(execution=execution, reason="end")
        return None
    position = node_index(nodes, next_key)
    queue = dispatch.node_queue(nodes[position])
    runs_here = not delay_seconds and queue == current_queue
    step = ExecutionStep(
        organization_id=execution.organization_id,
        execution=execution,
        node_key=next_key,
        index=index + 1,
        status=StepStatus.PENDING,
        # If this message is lost (worker killed between commit and send), the reaper resends it.
        lease_expires_at=timezone.now() + timedelta(seconds=delay_seconds + settings.STEP_LEASE_SECONDS),
    )
    if not (defer and runs_here):
        step.save(force_insert=True)
    # Progress by position in the definition: monotonic, and no COUNT query per step.
    progress = max(execution.progress, min(99, int(100 * position / max(len(nodes), 1))))
    if progress != execution.progress:
        execution.progress = progress
        publish_event(execution, "execution.progress", {"progress": progress})
    if not runs_here:
        dispatch.step_enqueue(step_id=step.pk, queue=queue, delay_ms=delay_seconds * 1000)
        return None
    return str(step.pk), queue, step


def step_fail(*, execution: WorkflowExecution, step: ExecutionStep, node: dict, error: DocgError) -> None:
    """Record a step's failure: a transient error within the node's attempts is retried later, else the run fails."""
    operation = node_operation(node)
    language = execution.organization.language
    step.status = StepStatus.FAILURE
    step.error_code = error.code
    step.error_human = error.human or human_message(
        error.code, language=language, node=node.get("label") or node["key"], detail=error.message
    )
    step.error_tech = json.loads(json.dumps({"detail": error.message, **error.details}, default=str))
    step.save()
    max_attempts = operation.max_attempts if operation is not None else 1
    retrying = error.transient and step.attempt < max_attempts
    publish_event(
        execution,
        "step.failed",
        {"step_id": str(step.pk), "node_key": step.node_key, "error_code": error.code, "retrying": retrying},
    )
    if retrying:
        backoff = _retry_backoff(step.attempt, error.details)
        retry = ExecutionStep.objects.create(
            organization_id=execution.organization_id,
            execution=execution,
            node_key=step.node_key,
            index=step.index,
            attempt=step.attempt + 1,
            status=StepStatus.PENDING,
            lease_expires_at=timezone.now() + timedelta(seconds=backoff + settings.STEP_LEASE_SECONDS),
        )
        log_warn(
            execution=execution,
            step=step,
            domain=LogDomain.STEP,
            details=step.error_tech,
            message=format_lazy(
                gettext_lazy("{} Trying again in {:g} s (attempt {})."), step.error_human, backoff, retry.attempt
            ),
        )
        dispatch.step_enqueue(step_id=retry.pk, queue=dispatch.operation_queue(operation), delay_ms=int(backoff * 1000))
        return
    action = recommended_action(error.code, execution_id=execution.pk, node_key=step.node_key)
    execution_transition(
        execution=execution,
        target=ExecutionStatus.FAILED,
        last_error_code=error.code,
        last_error_human=step.error_human,
        last_error_tech=step.error_tech,
        recommended_actions=[action] if action else [],
    )
    log_error(execution=execution, step=step, domain=LogDomain.STEP, message=step.error_human, details=step.error_tech)
    audit_log(
        organization=execution.organization_id,
        action=AuditAction.EXECUTION_FAILED,
        target_type="execution",
        target_id=execution.pk,
        metadata={"node_key": step.node_key, "error_code": error.code},
        correlation_id=execution.correlation_id,
    )
    publish_event(execution, "execution.failed", {"error_code": error.code, "node_key": step.node_key})


def approval_request(*, execution: WorkflowExecution, step: ExecutionStep, result: ActionResult) -> WorkflowApproval:
    """The step waits for a person: an approval is opened and the run paused."""
    approval = WorkflowApproval.objects.create(
        organization_id=execution.organization_id,
        execution=execution,
        step=step,
        node_key=step.node_key,
        message=result.output.get("message", ""),
        approvers=result.output.get("approvers", []),
    )
    approvers_notify_on_commit(approval)
    execution_transition(execution=execution, target=ExecutionStatus.PAUSED)
    publish_event(
        execution,
        "approval.requested",
        {"approval_id": str(approval.pk), "node_key": step.node_key, "message": approval.message},
    )
    publish_event(execution, "execution.status_changed", {"reason": "approval"})
    return approval


def execution_complete(*, execution: WorkflowExecution, reason: str) -> None:
    """The run completed: at its end, stopped by a filter, or at its `until_phase`."""
    if not can_transition(execution.status, ExecutionStatus.COMPLETED):
        execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    # Where the run stood and its phase timings go in the same UPDATE: nothing is written after it.
    execution_transition(
        execution=execution,
        target=ExecutionStatus.COMPLETED,
        progress=100,
        current_step=execution.current_step,
        phase_metrics=execution.phase_metrics,
    )
    log_ok(
        execution=execution, domain=LogDomain.STEP, message=gettext_lazy("Run completed."), details={"reason": reason}
    )
    audit_log(
        organization=execution.organization_id,
        action=AuditAction.EXECUTION_COMPLETED,
        target_type="execution",
        target_id=execution.pk,
        metadata={"reason": reason},
        correlation_id=execution.correlation_id,
    )
    publish_event(execution, "execution.completed", {"reason": reason})
