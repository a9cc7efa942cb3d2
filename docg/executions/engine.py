"""The execution engine: durable steps with leases, run back to back where no queue hop buys anything.

A step moves pending → running → success|failure|waiting|skipped. Claiming a
step, and recording its result together with the creation of the next step,
each happen in one short transaction holding row locks; the action itself runs
outside any transaction. A redelivered message for a finished step does
nothing; a step whose worker died is found by its expired lease (reaper.py).
"""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from docg.audit.choices import ActorType, AuditAction
from docg.audit.services import audit_log
from docg.common.api.exceptions import ApiError
from docg.connectors import registry
from docg.connectors.models import DataSourceConnection
from docg.connectors.runtime import ActionContext, ActionResult
from docg.executions import phases
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, Phase, StepStatus
from docg.executions.context import definition_nodes, expression_context, node_index
from docg.executions.errors import StepError, as_step_error, human_message, recommended_action
from docg.executions.events import publish_event
from docg.executions.logger import log_error, log_ok, log_warn
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import TERMINAL, execution_transition
from docg.workflows.choices import WorkflowStatus
from docg.workflows.expressions import ExpressionError, render_value
from docg.workflows.graph import schema_errors
from docg.workflows.models import Workflow

# Statuses in which steps may run (the document/delivery/signature statuses included).
RUNNABLE = frozenset(
    {
        ExecutionStatus.RUNNING,
        ExecutionStatus.READY,
        ExecutionStatus.SENDING,
        ExecutionStatus.SENT,
        ExecutionStatus.SIGNING,
        ExecutionStatus.SIGNED,
    }
)


# --- starting ---------------------------------------------------------------------


def _check_trigger_data(trigger_data: Any) -> dict:
    if not isinstance(trigger_data, dict):
        raise ApiError("trigger_data.not_an_object", "trigger_data must be a JSON object.")
    size = len(json.dumps(trigger_data, default=str))
    if size > settings.MAX_TRIGGER_DATA_BYTES:
        raise ApiError(
            "trigger_data.too_large",
            f"trigger_data is {size} bytes; the limit is {settings.MAX_TRIGGER_DATA_BYTES}.",
            status_code=413,
        )
    return trigger_data


def execution_start(
    *,
    workflow: Workflow,
    trigger_data: Any,
    by=None,
    actor_type: str = ActorType.USER,
    dry_run: bool = False,
    until_phase: str = "",
    parent: WorkflowExecution | None = None,
    from_step: str = "",
) -> WorkflowExecution:
    """Queue a run of the workflow's active version; the worker runs preflight and the steps."""
    trigger_data = _check_trigger_data(trigger_data)
    if until_phase and until_phase not in phases.STOPPABLE:
        raise ApiError("until_phase.invalid", f"until_phase must be one of {sorted(phases.STOPPABLE)}.")
    with transaction.atomic():
        workflow = Workflow.objects.select_related("active_version").get(pk=workflow.pk)
        version = parent.workflow_version if parent is not None else workflow.active_version
        if parent is None and (workflow.status != WorkflowStatus.ACTIVE or version is None):
            raise ApiError(
                "workflow.inactive", "This workflow is not active: activate it before running it.", status_code=409
            )
        execution = WorkflowExecution.objects.create(
            organization_id=workflow.organization_id,
            workflow=workflow,
            workflow_version=version,
            trigger_data=trigger_data,
            dry_run=dry_run,
            until_phase=until_phase,
            parent_execution=parent,
            retry_from_step=from_step,
            triggered_by=by if getattr(by, "is_authenticated", False) else None,
        )
        actor = {"actor_type": actor_type, "actor_id": str(by.pk) if getattr(by, "pk", None) else ""}
        audit_log(
            organization=workflow.organization_id,
            action=AuditAction.EXECUTION_RETRIED if parent else AuditAction.EXECUTION_STARTED,
            target_type="execution",
            target_id=execution.pk,
            metadata={
                "workflow_id": str(workflow.pk),
                "version": version.number,
                "dry_run": dry_run,
                "parent_execution": str(parent.pk) if parent else None,
                "from_step": from_step or None,
            },
            correlation_id=execution.correlation_id,
            **actor,
        )
        publish_event(execution, "execution.created", {"dry_run": dry_run, "until_phase": until_phase})
        log_ok(
            execution=execution,
            domain=LogDomain.TRIGGER,
            message="Run queued.",
            details={"trigger_keys": sorted(trigger_data)},
        )
        _send_on_commit("start", execution.pk)
    return execution


def execution_begin(*, execution_id: Any) -> tuple[str, str] | None:
    """Run preflight and the trigger step; return the first action step to run as (step_id, queue)."""
    from docg.executions.preflight import preflight_for_execution

    execution = WorkflowExecution.objects.select_related("workflow_version", "organization").get(pk=execution_id)
    if execution.status != ExecutionStatus.QUEUED:
        return None  # A redelivered start message, or the run was canceled.
    started = timezone.now()
    try:
        report = preflight_for_execution(execution)
    except Exception as exc:  # A broken check fails the run instead of leaving it queued for ever.
        _fail_preflight(execution_id, as_step_error(exc))
        return None
    with transaction.atomic():
        execution = _lock_execution(execution_id)
        if execution.status != ExecutionStatus.QUEUED:
            return None
        phases.record(execution, Phase.PREFLIGHT, started, timezone.now())
        execution.preflight_summary = report
        execution.recommended_actions = report["recommended_actions"]
        execution.save(update_fields=["phase_metrics", "preflight_summary", "recommended_actions", "updated_at"])
        publish_event(
            execution, "preflight.completed", {"blocking": len(report["blocking"]), "warnings": len(report["warnings"])}
        )
        if report["blocking"]:
            first = report["blocking"][0]
            execution_transition(
                execution=execution,
                target=ExecutionStatus.NEEDS_REVIEW,
                last_error_code=first["code"],
                last_error_human=first["message_human"],
            )
            log_warn(
                execution=execution,
                domain=LogDomain.PREFLIGHT,
                details=report,
                message=f"Preflight found {len(report['blocking'])} problem(s) to fix before the run.",
            )
            publish_event(execution, "execution.status_changed", {"reason": "preflight"})
            return None
        log_ok(
            execution=execution,
            domain=LogDomain.PREFLIGHT,
            message="Preflight passed.",
            details={"warnings": report["warnings"]},
        )
        execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
        publish_event(execution, "execution.status_changed", {})
        if execution.until_phase == Phase.PREFLIGHT:
            _complete(execution, reason="until_phase")
            return None
        nodes = definition_nodes(execution)
        now = timezone.now()
        trigger = ExecutionStep.objects.create(
            organization_id=execution.organization_id,
            execution=execution,
            node_key=nodes[0]["key"],
            index=0,
            status=StepStatus.SUCCESS,
            data_in=None,
            data_out=execution.trigger_data,
            started_at=started,
            finished_at=now,
            duration_ms=0,
        )
        phases.record(execution, Phase.TRIGGER, started, now)
        execution.save(update_fields=["phase_metrics", "updated_at"])
        next_key = phases.default_next(nodes, 0)
        next_key, index = _reuse_parent_steps(execution, nodes, next_key, trigger.index)
        return _advance(execution, nodes, index, next_key, delay_seconds=0, current_queue="default")


def _fail_preflight(execution_id, error: StepError) -> None:
    with transaction.atomic():
        execution = _lock_execution(execution_id)
        if execution.status != ExecutionStatus.QUEUED:
            return
        human = human_message("internal", language=execution.organization.language, node="preflight")
        tech = json.loads(json.dumps({"detail": error.detail, **error.tech}, default=str))
        execution_transition(
            execution=execution,
            target=ExecutionStatus.FAILED,
            last_error_code=error.code,
            last_error_human=human,
            last_error_tech=tech,
        )
        log_error(execution=execution, domain=LogDomain.PREFLIGHT, message=human, details=tech)
        audit_log(
            organization=execution.organization_id,
            action=AuditAction.EXECUTION_FAILED,
            target_type="execution",
            target_id=execution.pk,
            metadata={"phase": "preflight", "error_code": error.code},
            correlation_id=execution.correlation_id,
        )
        publish_event(execution, "execution.failed", {"error_code": error.code, "phase": "preflight"})


def _reuse_parent_steps(execution: WorkflowExecution, nodes: list, next_key: str | None, index: int):
    """For a retry with from_step: copy the parent's outputs for every step before it."""
    if not execution.parent_execution_id or not execution.retry_from_step:
        return next_key, index
    done = {
        s.node_key: s
        for s in ExecutionStep.objects.filter(execution_id=execution.parent_execution_id, status=StepStatus.SUCCESS)
    }
    while next_key and next_key != execution.retry_from_step and next_key in done:
        previous = done[next_key]
        index += 1
        ExecutionStep.objects.create(
            organization_id=execution.organization_id,
            execution=execution,
            node_key=next_key,
            index=index,
            status=StepStatus.SUCCESS,
            data_in={"reused_from_step": str(previous.pk)},
            data_out=previous.data_out,
            started_at=timezone.now(),
            finished_at=timezone.now(),
            duration_ms=0,
        )
        chosen = (previous.data_out or {}).get("next") if nodes[node_index(nodes, next_key)].get("branches") else None
        next_key = chosen or phases.default_next(nodes, node_index(nodes, next_key))
    return next_key, index


# --- running a step -----------------------------------------------------------------


def step_run(*, step_id: Any, queue: str) -> tuple[str, str] | None:
    """Run one step; return the next step (id, queue) when it can run right here, with no queue hop."""
    claimed = _claim(step_id)
    if claimed is None:
        return None
    step, execution, node, operation, lease = claimed
    context = expression_context(execution)
    params: Any = node.get("parameters") or {}
    result: ActionResult | None = None
    error: StepError | None = None
    try:
        if operation is None or operation.handler is None:
            raise StepError("action.unknown", f"{node['app']}.{node['operation']}")
        rendered = render_value(params, context)
        _require_json(rendered, "expression.failed", "The parameters")
        params = rendered
        problems = schema_errors(operation.parameters, params)
        if problems:
            raise StepError("parameters.invalid", "; ".join(problems), {"errors": problems})
        result = operation.handler(_action_context(execution, step, node, context), params)
        _require_json(result.output, "internal", "The action's results")
    except ExpressionError as exc:
        error = StepError("expression.failed", str(exc), {"expression": exc.expression, "missing": exc.missing})
    except Exception as exc:  # An action's failure is recorded on the step, whatever it is.
        error = as_step_error(exc)
    return _finish(step.pk, lease, node, operation, params, result, error, queue)


def _require_json(value: Any, code: str, what: str) -> None:
    # A value JSONB cannot store ({{ range(3) }}, a method) would make recording the step
    # fail after the action ran, and the lease sweep would run it again and again.
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise StepError(code, f"{what} include a value that is not JSON data ({exc}).")


def _action_context(execution, step, node, context) -> ActionContext:
    connection = None
    if node.get("connection"):
        connection = DataSourceConnection.objects.filter(
            pk=node["connection"], organization_id=execution.organization_id
        ).first()
    return ActionContext(
        execution=execution,
        step=step,
        node=node,
        organization=execution.organization,
        dry_run=execution.dry_run,
        idempotency_key=f"{execution.pk}:{step.node_key}:{step.attempt}",
        correlation_id=str(execution.correlation_id),
        language=execution.organization.language,
        connection=connection,
        expression_context=context,
    )


def _lock_execution(execution_id) -> WorkflowExecution:
    return (
        WorkflowExecution.objects.select_for_update(of=("self",))
        .select_related("workflow_version", "organization")
        .get(pk=execution_id)
    )


def _operation(node: dict):
    return registry.find_operation(node["app"], node["kind"], node["operation"])


def _claim(step_id):
    with transaction.atomic():
        step = ExecutionStep.objects.select_for_update().filter(pk=step_id).first()
        if step is None or step.status not in (StepStatus.PENDING, StepStatus.RUNNING):
            return None  # Already finished: a redelivered message does nothing.
        now = timezone.now()
        if step.status == StepStatus.RUNNING and step.lease_expires_at and step.lease_expires_at > now:
            return None  # Another worker holds the lease.
        execution = _lock_execution(step.execution_id)
        if execution.status in TERMINAL:
            _skip(step, "The run had ended before this step started.")
            return None
        if execution.status not in RUNNABLE:
            return None  # Paused or under review: the step waits; resume sends it again.
        nodes = definition_nodes(execution)
        node = nodes[node_index(nodes, step.node_key)]
        operation = _operation(node)
        timeout = operation.timeout_seconds if operation else 60
        lease = now + timedelta(seconds=max(timeout, settings.STEP_LEASE_SECONDS))
        step.status = StepStatus.RUNNING
        step.started_at = step.started_at or now
        step.lease_expires_at = lease
        step.save(update_fields=["status", "started_at", "lease_expires_at", "updated_at"])
        execution.current_step = {
            "index": step.index,
            "label": node.get("label") or node["key"],
            "node_key": node["key"],
            "node_type": f"{node['app']}.{node['operation']}",
        }
        if operation is not None and operation.phase:
            phases.start(execution, operation.phase, now)
        execution.save(update_fields=["current_step", "phase_metrics", "updated_at"])
        publish_event(
            execution, "step.started", {"step_id": str(step.pk), "node_key": step.node_key, "attempt": step.attempt}
        )
        return step, execution, node, operation, lease


def _skip(step: ExecutionStep, why: str) -> None:
    step.status = StepStatus.SKIPPED
    step.finished_at = timezone.now()
    step.error_tech = {"skipped": why}
    step.save(update_fields=["status", "finished_at", "error_tech", "updated_at"])


def _finish(step_id, lease, node, operation, params, result, error, queue):
    with transaction.atomic():
        step = ExecutionStep.objects.select_for_update().get(pk=step_id)
        if step.status != StepStatus.RUNNING or step.lease_expires_at != lease:
            return None  # Our lease was taken over (we were presumed dead): the other run's result counts.
        execution = _lock_execution(step.execution_id)
        now = timezone.now()
        step.finished_at = now
        step.duration_ms = int((now - step.started_at).total_seconds() * 1000)
        step.data_in = params if isinstance(params, dict) else {"parameters": params}
        step.lease_expires_at = None
        if execution.status in TERMINAL:
            _skip(step, f"The run was {execution.status} while this step ran; its result was discarded.")
            return None
        if error is not None:
            return _fail_step(execution, step, node, operation, error)
        step.status = StepStatus.WAITING if result.wait else StepStatus.SUCCESS
        step.data_out = result.output
        step.save()
        if operation is not None and operation.phase:
            phases.complete(execution, operation.phase, now)
        publish_event(
            execution,
            "step.completed",
            {"step_id": str(step.pk), "node_key": step.node_key, "duration_ms": step.duration_ms},
        )
        log_ok(
            execution=execution,
            step=step,
            domain=LogDomain.STEP,
            message=f"Step '{node.get('label') or node['key']}' finished.",
            details={"output": result.output},
        )
        if result.wait == "approval":
            _request_approval(execution, step, result)
            return None
        nodes = definition_nodes(execution)
        if result.stop:
            _complete(execution, reason="filter")
            return None
        if operation is not None and operation.phase and operation.phase == execution.until_phase:
            _complete(execution, reason="until_phase")
            return None
        index = node_index(nodes, node["key"])
        next_key = result.next if result.next is not None else phases.default_next(nodes, index)
        return _advance(execution, nodes, step.index, next_key, result.delay_seconds, queue)


def _advance(execution, nodes, index: int, next_key: str | None, delay_seconds: int, current_queue: str):
    """Create the next step (in the caller's transaction) or complete the run."""
    if not next_key:
        _complete(execution, reason="end")
        return None
    node = nodes[node_index(nodes, next_key)]
    operation = _operation(node)
    queue = operation.queue if operation is not None else "default"
    now = timezone.now()
    step = ExecutionStep.objects.create(
        organization_id=execution.organization_id,
        execution=execution,
        node_key=next_key,
        index=index + 1,
        status=StepStatus.PENDING,
        # If this message is lost (worker killed between commit and send), the reaper resends it.
        lease_expires_at=now + timedelta(seconds=delay_seconds + settings.STEP_LEASE_SECONDS),
    )
    done = ExecutionStep.objects.filter(execution=execution, status=StepStatus.SUCCESS).count()
    progress = max(execution.progress, min(99, int(100 * done / max(len(nodes), 1))))
    if progress != execution.progress:
        execution.progress = progress
        execution.save(update_fields=["progress", "updated_at"])
        publish_event(execution, "execution.progress", {"progress": progress})
    if delay_seconds or queue != current_queue:
        _send_on_commit(queue, step.pk, delay_ms=delay_seconds * 1000)
        return None
    return str(step.pk), queue


def _fail_step(execution, step, node, operation, error: StepError):
    language = execution.organization.language
    step.status = StepStatus.FAILURE
    step.error_code = error.code
    step.error_human = error.human or human_message(
        error.code, language=language, node=node.get("label") or node["key"], detail=error.detail
    )
    step.error_tech = json.loads(json.dumps({"detail": error.detail, **error.tech}, default=str))
    step.save()
    max_attempts = operation.max_attempts if operation is not None else 1
    retrying = error.transient and step.attempt < max_attempts
    publish_event(
        execution,
        "step.failed",
        {"step_id": str(step.pk), "node_key": step.node_key, "error_code": error.code, "retrying": retrying},
    )
    if retrying:
        backoff = min(settings.STEP_RETRY_BASE_SECONDS * 2 ** (step.attempt - 1), settings.STEP_RETRY_MAX_SECONDS)
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
            message=f"{step.error_human} Trying again in {backoff:g} s (attempt {retry.attempt}).",
        )
        queue = operation.queue if operation is not None else "default"
        _send_on_commit(queue, retry.pk, delay_ms=int(backoff * 1000))
        return None
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
    return None


def _request_approval(execution, step, result: ActionResult) -> None:
    approval = WorkflowApproval.objects.create(
        organization_id=execution.organization_id,
        execution=execution,
        step=step,
        node_key=step.node_key,
        message=result.output.get("message", ""),
        approvers=result.output.get("approvers", []),
    )
    execution_transition(execution=execution, target=ExecutionStatus.PAUSED)
    publish_event(
        execution,
        "approval.requested",
        {"approval_id": str(approval.pk), "node_key": step.node_key, "message": approval.message},
    )
    publish_event(execution, "execution.status_changed", {"reason": "approval"})


def _complete(execution, *, reason: str) -> None:
    if execution.status not in RUNNABLE:
        execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    execution_transition(execution=execution, target=ExecutionStatus.COMPLETED, progress=100)
    log_ok(execution=execution, domain=LogDomain.STEP, message="Run completed.", details={"reason": reason})
    audit_log(
        organization=execution.organization_id,
        action=AuditAction.EXECUTION_COMPLETED,
        target_type="execution",
        target_id=execution.pk,
        metadata={"reason": reason},
        correlation_id=execution.correlation_id,
    )
    publish_event(execution, "execution.completed", {"reason": reason})


def approval_continue(*, execution: WorkflowExecution, approval: WorkflowApproval) -> None:
    """After an approval: the waiting step succeeds and the run goes on (caller holds the locks)."""
    step = ExecutionStep.objects.select_for_update().get(pk=approval.step_id)
    step.status = StepStatus.SUCCESS
    step.data_out = {
        **(step.data_out or {}),
        "approved": approval.status == ApprovalStatus.APPROVED,
        "comment": approval.comment,
        "decided_by": str(approval.decided_by_id or ""),
    }
    step.finished_at = timezone.now()
    step.save(update_fields=["status", "data_out", "finished_at", "updated_at"])
    execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    publish_event(execution, "execution.status_changed", {"reason": "approved"})
    nodes = definition_nodes(execution)
    next_key = phases.default_next(nodes, node_index(nodes, step.node_key))
    _advance(execution, nodes, step.index, next_key, delay_seconds=0, current_queue="")


def _send_on_commit(queue: str, object_id, *, delay_ms: int = 0) -> None:
    from docg.executions import actors

    transaction.on_commit(lambda: actors.send(queue, str(object_id), delay_ms=delay_ms))
