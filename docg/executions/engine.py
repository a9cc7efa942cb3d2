"""The execution engine's public face: starting runs, preflight and the trigger step, and going on
after an approval or a signature.

Inside the executions app, imports go one way: actors → control, reaper → engine →
steps → outcomes → dispatch, locks → context, phases, state, events, logger, leases.
Running the steps themselves (claims, leases, inline chains) is in steps.py; how a
run goes on, fails, waits or ends in outcomes.py; queue messages in dispatch.py;
the lease sweep that recovers from dead workers in reaper.py.
"""

import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, ngettext_lazy

from docg.audit.choices import ActorType, AuditAction
from docg.audit.services import audit_batch, audit_log, user_actor
from docg.common.errors import DocgError
from docg.common.untrusted import UntrustedValueError, check_json
from docg.executions import dispatch, phases
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, Phase, StepStatus
from docg.executions.context import definition_nodes, expression_context
from docg.executions.errors import as_step_error, human_message
from docg.executions.events import event_batch, publish_event
from docg.executions.locks import execution_lock
from docg.executions.logger import log_batch, log_error, log_ok, log_warn
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.outcomes import execution_complete, step_advance
from docg.executions.preflight import preflight_for_execution
from docg.executions.reaper import pending_resend
from docg.executions.state import execution_transition
from docg.executions.steps import step_chain_here, step_run
from docg.orgs.billing import plan_run_reservation
from docg.workflows.choices import WorkflowStatus
from docg.workflows.graph import default_next, node_index
from docg.workflows.models import Workflow

__all__ = [
    "approval_continue",
    "execution_begin",
    "execution_start",
    "signature_continue",
    "step_run",
    "trigger_data_check",
]


# --- starting ---------------------------------------------------------------------


def trigger_data_check(trigger_data: Any) -> dict:
    """The trigger data itself if a run may take it (a JSON object within the size limit); else an DocgError."""
    if not isinstance(trigger_data, dict):
        raise DocgError("trigger_data.not_an_object", "trigger_data must be a JSON object.")
    try:  # every start path (API, webhooks, dashboard, triggers): storable in jsonb, or a 400
        check_json(trigger_data, field="trigger_data")
    except UntrustedValueError as exc:
        raise DocgError("trigger_data.invalid", str(exc), details={exc.field: [exc.message]}) from exc
    size = len(json.dumps(trigger_data, default=str))
    if size > settings.MAX_TRIGGER_DATA_BYTES:
        raise DocgError(
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
    correlation_id: Any = None,
    workflow_read: bool = False,
) -> WorkflowExecution:
    """Queue a run of the workflow's active version; the worker runs preflight and the steps.

    `correlation_id`: the id a trigger already sent to its provider (the HubSpot deal fetch), kept as the run's.
    `workflow_read`: the caller has just read `workflow` with its active version and organization
    (select_related) to decide on this very request (the webhook intake), so it is not read a second time.
    """
    trigger_data = trigger_data_check(trigger_data)
    if until_phase and until_phase not in phases.STOPPABLE:
        raise DocgError("until_phase.invalid", f"until_phase must be one of {sorted(phases.STOPPABLE)}.")
    # The plan's monthly limit: one conditional UPDATE before the transaction, given back if it fails.
    with plan_run_reservation(organization_id=workflow.organization_id), transaction.atomic(), audit_batch():
        if not workflow_read:
            workflow = Workflow.objects.select_related("active_version", "organization").get(pk=workflow.pk)
        version = parent.workflow_version if parent is not None else workflow.active_version
        if parent is None and (workflow.status != WorkflowStatus.ACTIVE or version is None):
            raise DocgError(
                "workflow.inactive", "This workflow is not active: activate it before running it.", status_code=409
            )
        execution = WorkflowExecution.objects.create(
            organization=workflow.organization,  # its language writes the log line below
            workflow=workflow,
            workflow_version=version,
            trigger_data=trigger_data,
            dry_run=dry_run,
            until_phase=until_phase,
            parent_execution=parent,
            retry_from_step=from_step,
            triggered_by=by if getattr(by, "is_authenticated", False) else None,
            **({"correlation_id": correlation_id} if correlation_id else {}),
        )
        actor = {"actor_type": actor_type, "actor_id": str(by.pk) if getattr(by, "pk", None) else ""}
        if getattr(by, "is_api_key", False):
            actor = user_actor(by)  # an integration's run: the audit names its API key
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
            message=gettext_lazy("Run queued."),
            details={"trigger_keys": sorted(trigger_data)},
        )
        dispatch.execution_enqueue(execution_id=execution.pk)
    return execution


def execution_begin(*, execution_id: Any, again: bool = False) -> tuple[str, str] | None:
    """Run preflight and the trigger step; return the first action step to run as (step_id, queue).

    `again`: a retry after a lost connection; if the first try committed the start, the first step it
    was to run here is sent instead of waiting for its lease.
    """
    execution = WorkflowExecution.objects.select_related("workflow_version", "organization").get(pk=execution_id)
    if execution.status != ExecutionStatus.QUEUED:
        if again:
            pending_resend(execution_id=execution_id)
        return None  # A redelivered start message, or the run was canceled.
    started = timezone.now()
    try:
        report = preflight_for_execution(execution)
    except Exception as exc:  # A broken check fails the run instead of leaving it queued for ever.
        _fail_preflight(execution_id, as_step_error(exc))
        return None
    with transaction.atomic(), audit_batch(), event_batch(), log_batch():
        execution = execution_lock(execution_id)
        if execution.status != ExecutionStatus.QUEUED:
            return None
        phases.record(execution, Phase.PREFLIGHT, started, timezone.now())
        # Written with the status change below, in one UPDATE.
        preflight_fields = {
            "phase_metrics": execution.phase_metrics,
            "preflight_summary": report,
            "recommended_actions": report["recommended_actions"],
        }
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
                **preflight_fields,
            )
            log_warn(
                execution=execution,
                domain=LogDomain.PREFLIGHT,
                details=report,
                message=format_lazy(
                    ngettext_lazy(
                        "Preflight found {} problem to fix before the run.",
                        "Preflight found {} problems to fix before the run.",
                        len(report["blocking"]),
                    ),
                    len(report["blocking"]),
                ),
            )
            publish_event(execution, "execution.status_changed", {"reason": "preflight"})
            return None
        log_ok(
            execution=execution,
            domain=LogDomain.PREFLIGHT,
            message=gettext_lazy("Preflight passed."),
            details={"warnings": report["warnings"]},
        )
        execution_transition(execution=execution, target=ExecutionStatus.RUNNING, **preflight_fields)
        publish_event(execution, "execution.status_changed", {})
        if execution.until_phase == Phase.PREFLIGHT:
            execution_complete(execution=execution, reason="until_phase")
            return None
        nodes = definition_nodes(execution)
        now = timezone.now()
        trigger = ExecutionStep(
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
        next_key = default_next(nodes, 0)
        reusing = bool(execution.parent_execution_id and execution.retry_from_step)
        if reusing:
            trigger.save(force_insert=True)  # the context is read back from the rows
        next_key, index = _reuse_parent_steps(execution, nodes, next_key, trigger.index)
        advanced = step_advance(
            execution=execution,
            nodes=nodes,
            index=index,
            next_key=next_key,
            current_queue=dispatch.DEFAULT_QUEUE,
            defer=True,
        )
        if advanced is None:
            if not reusing:
                trigger.save(force_insert=True)
            execution.save(update_fields=["phase_metrics", "progress", "updated_at"])
            return None
        # The first steps run in this same transaction when they are inline (no claim, no second commit):
        # a crash rolls the run back to queued, and the reaper's restart_stalled sends its start again.
        # Without reused parent steps, the trigger's output is the only finished step: no need to read it back,
        # and its row is inserted with the chain's.
        return step_chain_here(
            execution=execution,
            step=advanced[2],
            queue=dispatch.DEFAULT_QUEUE,
            context=expression_context(execution, steps=None if reusing else {trigger.node_key: trigger.data_out}),
            finished=None if reusing else [trigger],
        )


def _fail_preflight(execution_id, error: DocgError) -> None:
    with transaction.atomic():
        execution = execution_lock(execution_id)
        if execution.status != ExecutionStatus.QUEUED:
            return
        human = human_message("internal", language=execution.organization.language, node="preflight")
        tech = json.loads(json.dumps({"detail": error.message, **error.details}, default=str))
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
        next_key = chosen or default_next(nodes, node_index(nodes, next_key))
    return next_key, index


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
    next_key = default_next(nodes, node_index(nodes, step.node_key))
    step_advance(execution=execution, nodes=nodes, index=step.index, next_key=next_key)
    execution.save(update_fields=["progress", "updated_at"])


def signature_continue(*, execution: WorkflowExecution, node_key: str = "") -> bool:
    """Every signer signed: the waiting signature step succeeds, the run is `signed` and goes on.

    The caller holds the execution's lock (a provider webhook, in its transaction).
    Returns False when there is no signature step waiting (a replay, or a run that ended).
    """
    waiting = ExecutionStep.objects.select_for_update().filter(execution=execution, status=StepStatus.WAITING)
    if node_key:
        waiting = waiting.filter(node_key=node_key)
    step = waiting.order_by("-index").first()
    if step is None or execution.status != ExecutionStatus.SIGNING:
        return False
    step.status = StepStatus.SUCCESS
    step.data_out = {**(step.data_out or {}), "signed": True}
    step.finished_at = timezone.now()
    step.save(update_fields=["status", "data_out", "finished_at", "updated_at"])
    execution_transition(execution=execution, target=ExecutionStatus.SIGNED)
    publish_event(execution, "execution.status_changed", {"reason": "signed"})
    nodes = definition_nodes(execution)
    phases.complete(execution, Phase.SIGNATURE, timezone.now())
    next_key = default_next(nodes, node_index(nodes, step.node_key))
    step_advance(execution=execution, nodes=nodes, index=step.index, next_key=next_key)
    execution.save(update_fields=["phase_metrics", "progress", "updated_at"])
    return True
