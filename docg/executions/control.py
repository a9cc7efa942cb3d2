"""Control of a run (PRODUCT.md section 8): cancel, pause, resume, retry, and approval decisions.

Each call writes its audit row and its event in the same transaction as the
change; an illegal call (resume a completed run) is a 409.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from docg.audit.choices import AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.executions import dispatch
from docg.executions.choices import ApprovalStatus, ExecutionStatus, LogDomain, StepStatus
from docg.executions.context import definition_nodes
from docg.executions.engine import approval_continue, execution_start, trigger_data_check
from docg.executions.envelopes import envelopes_withdraw_later
from docg.executions.events import publish_event
from docg.executions.locks import approval_lock, execution_lock
from docg.executions.logger import log_ok
from docg.executions.models import ExecutionStep, WorkflowApproval, WorkflowExecution
from docg.executions.state import TERMINAL, can_transition, execution_transition
from docg.orgs.choices import Role
from docg.orgs.models import Membership


def _conflict(execution: WorkflowExecution, verb: str) -> DocgError:
    return DocgError(
        "execution.illegal_transition",
        f"This run is {execution.status}: it cannot be {verb}.",
        status_code=409,
        details={"status": execution.status},
    )


def _audit(execution, action: str, by, **metadata) -> None:
    audit_log(
        organization=execution.organization_id,
        action=action,
        target_type="execution",
        target_id=execution.pk,
        metadata=metadata,
        correlation_id=execution.correlation_id,
        **user_actor(by),
    )


@transaction.atomic
def execution_cancel(*, execution: WorkflowExecution, by, reason: str = "") -> WorkflowExecution:
    """Stop the run: later steps never start; a step in flight has its result discarded."""
    execution = execution_lock(execution.pk)
    if not can_transition(execution.status, ExecutionStatus.CANCELED):
        raise _conflict(execution, "canceled")
    execution_transition(execution=execution, target=ExecutionStatus.CANCELED)
    now = timezone.now()
    ExecutionStep.objects.filter(execution=execution, status__in=[StepStatus.PENDING, StepStatus.WAITING]).update(
        status=StepStatus.SKIPPED, finished_at=now, error_tech={"skipped": "The run was canceled."}, updated_at=now
    )
    WorkflowApproval.objects.filter(execution=execution, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.REJECTED, comment="The run was canceled.", decided_at=now, updated_at=now
    )
    log_ok(
        execution=execution, domain=LogDomain.STEP, message=gettext_lazy("Run canceled."), details={"reason": reason}
    )
    _audit(execution, AuditAction.EXECUTION_CANCELED, by, reason=reason)
    publish_event(execution, "execution.canceled", {"reason": reason})
    # An envelope still out for signature is withdrawn at its provider once the cancel commits.
    envelopes_withdraw_later(execution=execution)
    return execution


@transaction.atomic
def execution_pause(*, execution: WorkflowExecution, by) -> WorkflowExecution:
    """Hold the run after its current step; `resume` continues it."""
    execution = execution_lock(execution.pk)
    if execution.status == ExecutionStatus.PAUSED or not can_transition(execution.status, ExecutionStatus.PAUSED):
        raise _conflict(execution, "paused")
    execution_transition(execution=execution, target=ExecutionStatus.PAUSED)
    _audit(execution, AuditAction.EXECUTION_PAUSED, by)
    publish_event(execution, "execution.status_changed", {"reason": "paused"})
    return execution


@transaction.atomic
def execution_resume(
    *, execution: WorkflowExecution, by, approved: bool = True, changes: dict[str, Any] | None = None
) -> WorkflowExecution:
    """Continue a paused run, or re-run preflight on a run under review with `changes` merged into its data."""
    execution = execution_lock(execution.pk)
    if execution.status == ExecutionStatus.NEEDS_REVIEW:
        if not approved:
            return _reject(execution, by)
        merged = _merge(execution.trigger_data, changes or {})
        trigger_data_check(merged)
        execution_transition(
            execution=execution,
            target=ExecutionStatus.QUEUED,
            trigger_data=merged,
            last_error_code="",
            last_error_human="",
        )
        _audit(execution, AuditAction.EXECUTION_RESUMED, by, changed=sorted(changes or {}))
        publish_event(execution, "execution.status_changed", {"reason": "resumed"})
        dispatch.execution_enqueue(execution_id=execution.pk)
        return execution
    if execution.status != ExecutionStatus.PAUSED:
        raise _conflict(execution, "resumed")
    pending_approval = WorkflowApproval.objects.filter(execution=execution, status=ApprovalStatus.PENDING).first()
    if pending_approval is not None:
        approval_decide(approval=pending_approval, by=by, approved=approved, comment="")
        execution.refresh_from_db()
        return execution
    if not approved:
        return _reject(execution, by)
    if not ExecutionStep.objects.filter(execution=execution).exists():
        # Paused while still queued: its start message found it paused and did nothing.
        execution_transition(execution=execution, target=ExecutionStatus.QUEUED)
        _audit(execution, AuditAction.EXECUTION_RESUMED, by)
        publish_event(execution, "execution.status_changed", {"reason": "resumed"})
        dispatch.execution_enqueue(execution_id=execution.pk)
        return execution
    execution_transition(execution=execution, target=ExecutionStatus.RUNNING)
    _audit(execution, AuditAction.EXECUTION_RESUMED, by)
    publish_event(execution, "execution.status_changed", {"reason": "resumed"})
    nodes = definition_nodes(execution)
    queues = {n["key"]: dispatch.node_queue(n) for n in nodes}
    now = timezone.now()
    for step in ExecutionStep.objects.filter(execution=execution, status__in=[StepStatus.PENDING, StepStatus.RUNNING]):
        # A pending step's lease is its due time (after a delay or a retry backoff) plus one lease:
        # resuming early must not cut the wait short.
        due = now
        if step.status == StepStatus.PENDING and step.lease_expires_at:
            due = step.lease_expires_at - timedelta(seconds=settings.STEP_LEASE_SECONDS)
        delay_ms = max(0, int((due - now).total_seconds() * 1000))
        queue = queues.get(step.node_key, dispatch.DEFAULT_QUEUE)
        dispatch.step_enqueue(step_id=step.pk, queue=queue, delay_ms=delay_ms)
    return execution


def _merge(data: dict, changes: dict) -> dict:
    """Deep-merge `changes` into `data`: supplying customer.email keeps customer.name."""
    merged = dict(data)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _reject(execution, by) -> WorkflowExecution:
    execution_transition(execution=execution, target=ExecutionStatus.CANCELED)
    _audit(execution, AuditAction.EXECUTION_CANCELED, by, reason="rejected")
    publish_event(execution, "execution.canceled", {"reason": "rejected"})
    return execution


def execution_retry(
    *, execution: WorkflowExecution, by, trigger_data: dict | None = None, from_step: str = ""
) -> WorkflowExecution:
    """A new run of the same version, linked to this one; with `from_step`, earlier outputs are reused."""
    if execution.status not in TERMINAL:
        raise _conflict(execution, "retried before it ends")
    if from_step:
        keys = [n["key"] for n in definition_nodes(execution)]
        if from_step not in keys[1:]:
            raise DocgError("retry.unknown_step", f"This workflow has no step {from_step!r} to retry from.")
    return execution_start(
        workflow=execution.workflow,
        trigger_data=execution.trigger_data if trigger_data is None else trigger_data,
        by=by,
        dry_run=execution.dry_run,
        until_phase=execution.until_phase,
        parent=execution,
        from_step=from_step,
    )


def _check_approver(approval: WorkflowApproval, by) -> None:
    """Only a listed approver decides; with no list, an owner or admin. The system (no user) may always."""
    if not getattr(by, "is_authenticated", False):
        return
    listed = [email.strip().lower() for email in approval.approvers or [] if isinstance(email, str)]
    if listed:
        if (by.email or "").strip().lower() in listed:
            return
        message = gettext("Only the approvers named on this step may decide it: %(emails)s.") % {
            "emails": ", ".join(listed)
        }
    else:
        role = (
            Membership.objects.filter(organization_id=approval.organization_id, user=by)
            .values_list("role", flat=True)
            .first()
        )
        if role in (Role.OWNER, Role.ADMIN):
            return
        message = gettext("This step names no approvers, so only an owner or admin of the organization may decide it.")
    raise DocgError("approval.not_an_approver", message, status_code=403)


@transaction.atomic
def approval_decide(*, approval: WorkflowApproval, by, approved: bool, comment: str = "") -> WorkflowApproval:
    """Record a person's decision; approval resumes the run, rejection cancels it."""
    # Execution first, then approval (docg.executions.locks), as cancel and the step claims lock.
    execution, approval = approval_lock(approval_id=approval.pk)
    if approval.status != ApprovalStatus.PENDING:
        raise DocgError("approval.already_decided", f"This approval was already {approval.status}.", status_code=409)
    _check_approver(approval, by)
    approval.status = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
    approval.decided_by = by if getattr(by, "is_authenticated", False) else None
    approval.decided_at = timezone.now()
    approval.comment = comment
    approval.save()
    publish_event(
        execution, "approval.decided", {"approval_id": str(approval.pk), "approved": approved, "comment": comment}
    )
    if approved:
        _audit(execution, AuditAction.EXECUTION_RESUMED, by, approval_id=str(approval.pk))
        approval_continue(execution=execution, approval=approval)
    else:
        ExecutionStep.objects.filter(pk=approval.step_id).update(
            status=StepStatus.FAILURE, error_code="approval.rejected", finished_at=timezone.now()
        )
        _reject(execution, by)
    return approval
