"""Running steps: claim, perform, record, advance.

Two paths, one set of rules:
- inline actions (no outside effects: flow control, variables, datastore) run
  claim → action → record in ONE transaction, and consecutive inline steps on
  the same queue continue in that same transaction, sharing one expression
  context, one batched log insert and one pipelined event write. A crash
  rolls the chain back to its pending first step, which the reaper resends.
- actions that do provider I/O are claimed in a short transaction (a lease and
  a token, renewed by the lease keeper while the action runs), performed
  outside any transaction, and recorded in a second one that checks the token.
A step that succeeded is never run again: a redelivered message finds it done.
"""

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from docg.audit.services import audit_batch
from docg.common.errors import DocgError
from docg.connectors.models import DataSourceConnection
from docg.connectors.runtime import ActionContext, ActionResult
from docg.executions import heartbeat, phases
from docg.executions.choices import ExecutionStatus, LogDomain, StepStatus
from docg.executions.context import definition_nodes, expression_context
from docg.executions.db_retry import on_fresh_connection
from docg.executions.document_log import document_announce
from docg.executions.errors import as_step_error
from docg.executions.events import event_batch, publish_event
from docg.executions.leases import keeper, lease_until
from docg.executions.locks import step_lock
from docg.executions.logger import log_batch, log_ok
from docg.executions.models import ExecutionStep, WorkflowExecution
from docg.executions.outcomes import approval_request, execution_complete, step_advance, step_fail
from docg.executions.reaper import pending_resend
from docg.executions.state import RUNNABLE, TERMINAL, can_transition, execution_transition
from docg.executions.step_memory import step_memory_of, step_memory_save
from docg.workflows.expressions import ExpressionError, render_value
from docg.workflows.graph import default_next, node_index, node_operation, schema_errors

logger = logging.getLogger(__name__)

# Inline steps run back to back in one transaction up to this many, then commit and go on.
MAX_INLINE_CHAIN = 50
# A running step whose worker died is taken over at most this many times, then it fails.
MAX_TAKEOVERS = 3


def step_run(
    *, step_id: Any, queue: str, token: uuid.UUID | None = None, again: bool = False
) -> tuple[str, str] | None:
    """Run one step (and the inline steps after it); return the next (step id, queue) to run right here.

    `token`: the claim's lease token, chosen by the caller so that a retry after a lost connection
    (`again`) recognises the claim its first try committed without hearing back: the step is `running`
    under this token, held by nobody, and would otherwise wait for its lease.
    """
    token = token or uuid.uuid4()
    with transaction.atomic(), audit_batch(), event_batch(), log_batch():
        claimed = _claim(step_id, token=token)
        if claimed is None:
            if again:
                # The first try may have committed a chain of inline steps whose last one it was to run here.
                pending_resend(step_id=step_id)
            return None
        step, execution, node, operation = claimed
        if operation is not None and operation.inline:
            return _run_inline_chain(step, execution, node, operation, queue)
        _mark_running(step, execution, node, operation, token=token, lease=lease_until())
    return _run_outside_transaction(step, execution, node, operation, token, queue)


def step_chain_here(
    *, execution, step: ExecutionStep, queue: str, context: dict | None = None, finished: list | None = None
) -> tuple[str, str] | None:
    """Run a step the caller's transaction just scheduled (unsaved, from step_advance with `defer`) and the
    inline steps after it, in that transaction; return the next (step id, queue) to run right here.

    The caller holds the execution's lock. A step whose action is not inline is only inserted (pending),
    for the caller to run in a claim of its own. `context`: the expression context, when the caller
    already knows it (the run's first step), instead of reading the finished steps back. `finished`: the
    caller's own new step rows (unsaved), inserted with the chain's.
    """
    nodes = definition_nodes(execution)
    node = nodes[node_index(nodes, step.node_key)]
    operation = node_operation(node)
    if operation is None or not operation.inline:
        _chain_end(execution, [*(finished or []), step])
        return str(step.pk), queue
    return _run_inline_chain(step, execution, node, operation, queue, context=context, finished=finished)


def _claim(step_id, *, token: uuid.UUID):
    # Execution first, then step (docg.executions.locks), so a claim and a cancel can never deadlock.
    locked = step_lock(step_id=step_id)
    if locked is None:
        return None
    execution, step = locked
    if step.status not in (StepStatus.PENDING, StepStatus.RUNNING):
        return None  # Already finished: a redelivered message does nothing.
    now = timezone.now()
    ours = step.status == StepStatus.RUNNING and step.lease_token == token
    if ours:
        logger.warning("Step %s was claimed by a try whose commit's answer was lost; going on with it", step.pk)
    if not ours and step.status == StepStatus.RUNNING and step.lease_expires_at and step.lease_expires_at > now:
        return None  # Another worker holds the lease.
    if not ours and step.status == StepStatus.RUNNING and execution.status not in TERMINAL:
        # Taking over from a worker that stopped renewing its lease (killed, out of memory,
        # over its time limit). A step that keeps killing its workers must not loop for ever.
        takeovers = (step.error_tech or {}).get("takeovers", 0) + 1
        step.error_tech = {**(step.error_tech or {}), "takeovers": takeovers}
        if takeovers > MAX_TAKEOVERS:
            nodes = definition_nodes(execution)
            node = nodes[node_index(nodes, step.node_key)]
            error = DocgError("step.abandoned", str(takeovers - 1), dict(step.error_tech), human="")
            step_fail(execution=execution, step=step, node=node, error=error)
            return None
    if execution.status in TERMINAL:
        _skip(step, "The run had ended before this step started.")
        return None
    if execution.status not in RUNNABLE:
        return None  # Paused or under review: the step waits; resume sends it again.
    nodes = definition_nodes(execution)
    node = nodes[node_index(nodes, step.node_key)]
    return step, execution, node, node_operation(node)


def _mark_running(step, execution, node, operation, *, token=None, lease=None) -> None:
    now = timezone.now()
    step.status = StepStatus.RUNNING
    step.started_at = step.started_at or now
    step.lease_token = token
    step.lease_expires_at = lease
    if token is not None:
        step.worker_id = heartbeat.worker_id()  # a dead worker's steps are taken over before their leases pass
        step.save(
            update_fields=["status", "started_at", "lease_token", "lease_expires_at", "worker_id", "error_tech",
                           "updated_at"]
        )  # fmt: skip
    execution.current_step = {
        "index": step.index,
        "label": node.get("label") or node["key"],
        "node_key": node["key"],
        "node_type": f"{node['app']}.{node['operation']}",
    }
    if operation is not None and operation.phase:
        phases.start(execution, operation.phase, now)
    if operation is not None and operation.status_running:
        _move_to(execution, operation.status_running)
    if token is not None:
        execution.save(update_fields=["current_step", "phase_metrics", "updated_at"])
    publish_event(
        execution, "step.started", {"step_id": str(step.pk), "node_key": step.node_key, "attempt": step.attempt}
    )


def _move_to(execution, status: str) -> None:
    """An action's status (sending, ready, sent…) applies only to an active run that may take it:
    a paused run stays paused, and an unusual order of actions never blocks the step."""
    if execution.status in RUNNABLE and execution.status != status and can_transition(execution.status, status):
        execution_transition(execution=execution, target=status)


def _perform(execution, step, node, operation, context) -> tuple[Any, ActionResult | None, DocgError | None]:
    params: Any = node.get("parameters") or {}
    try:
        if operation is None or operation.handler is None:
            raise DocgError("action.unknown", f"{node['app']}.{node['operation']}", human="")
        rendered = render_value(params, context)
        _require_json(rendered, "expression.failed", "The parameters")
        params = rendered
        problems = schema_errors(operation.parameters, params)
        if problems:
            raise DocgError("parameters.invalid", "; ".join(problems), {"errors": problems}, human="")
        result = operation.handler(_action_context(execution, step, node, context), params)
        _require_json(result.output, "internal", "The action's results")
        return params, result, None
    except ExpressionError as exc:
        error = DocgError(
            "expression.failed", str(exc), {"expression": exc.expression, "missing": exc.missing}, human=""
        )
    except Exception as exc:  # An action's failure is recorded on the step, whatever it is.
        error = as_step_error(exc)
    return params, None, error


def _run_inline_chain(step, execution, node, operation, queue, *, context=None, finished=None):
    """Inline steps back to back in the caller's transaction; stops at anything that needs a hop.

    The chain's new step rows are inserted together at its end (`finished`: rows the caller wants
    inserted with them), in the same transaction, so a crash still loses all of it or nothing.
    """
    context = context if context is not None else expression_context(execution)
    finished = [] if finished is None else finished
    for _ in range(MAX_INLINE_CHAIN):
        _mark_running(step, execution, node, operation)
        if operation.writes:
            params, result, error = _perform_in_savepoint(execution, step, node, operation, context)
        else:
            params, result, error = _perform(execution, step, node, operation, context)
        outcome = _record(
            execution, step, node, operation, params, result, error, queue, defer_next=True, finished=finished
        )
        if outcome is None:
            _chain_end(execution, finished)
            return None
        context["steps"][node["key"]] = result.output
        step = outcome[2]
        nodes = definition_nodes(execution)
        node = nodes[node_index(nodes, step.node_key)]
        operation = node_operation(node)
        if operation is None or not operation.inline:
            _chain_end(execution, [*finished, step])  # with the pending row the I/O step will claim
            return outcome[:2]  # commit now; the I/O step claims in its own transaction
    _chain_end(execution, [*finished, step])
    return str(step.pk), queue


def _chain_end(execution, new_steps: list) -> None:
    ExecutionStep.objects.bulk_create(new_steps)
    if execution.status != ExecutionStatus.COMPLETED:  # execution_complete wrote the run's fields already
        _save_execution(execution)


def _perform_in_savepoint(execution, step, node, operation, context):
    # The action's own database writes are undone if it fails; its failure is still recorded.
    sid = transaction.savepoint()
    try:
        params, result, error = _perform(execution, step, node, operation, context)
    except BaseException:
        transaction.savepoint_rollback(sid)
        raise
    if error is None:
        transaction.savepoint_commit(sid)
    else:
        transaction.savepoint_rollback(sid)
    return params, result, error


def _save_execution(execution) -> None:
    execution.save(update_fields=["current_step", "phase_metrics", "progress", "updated_at"])


def _run_outside_transaction(step, execution, node, operation, token, queue):
    keeper.hold(step.pk, token)
    try:
        # Claimed: a blip from here on must not leave the step to its lease.
        context = on_fresh_connection(lambda: expression_context(execution), what=f"reading step {step.pk}'s inputs")
        params, result, error = _perform(execution, step, node, operation, context)
        # The provider call happened: a database blip now must not make a takeover repeat it.
        # The lease is still renewed meanwhile (the keeper has its own connection).
        return on_fresh_connection(
            lambda: _record_result(step, node, operation, token, params, result, error, queue),
            what=f"recording step {step.pk}",
            again=lambda: _record_result(step, node, operation, token, params, result, error, queue, again=True),
        )
    finally:
        keeper.release(step.pk)


def _record_result(step, node, operation, token, params, result, error, queue, *, again=False):
    """The transaction that records an I/O step's result, if the step is still this claim's."""
    with transaction.atomic(), audit_batch(), event_batch(), log_batch():
        locked = step_lock(step_id=step.pk)
        if locked is None:
            return None  # The run was deleted meanwhile.
        execution, claimed = locked
        if claimed.status != StepStatus.RUNNING or claimed.lease_token != token:
            if again:  # recorded by a first try whose answer was lost, with the next step it was to run here
                pending_resend(step_id=step.pk)
            return None  # Presumed dead and taken over (or recorded by a first try): that result counts.
        outcome = _record(execution, claimed, node, operation, params, result, error, queue)
        _save_execution(execution)
    return outcome[:2] if outcome else None


def _require_json(value: Any, code: str, what: str) -> None:
    # A value JSONB cannot store ({{ range(3) }}, a method) would make recording the step
    # fail after the action ran, and the lease sweep would run it again and again.
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise DocgError(code, f"{what} include a value that is not JSON data ({exc}).", human="")


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
        on_document=lambda document: document_announce(execution=execution, document=document),
        memory_load=lambda: step_memory_of(execution_id=execution.pk, node_key=step.node_key),
        memory_save=lambda memory: step_memory_save(execution=execution, node_key=step.node_key, memory=memory),
    )


def _skip(step: ExecutionStep, why: str) -> None:
    step.status = StepStatus.SKIPPED
    step.finished_at = timezone.now()
    step.error_tech = {"skipped": why}
    step.lease_token = None
    step.save(update_fields=["status", "finished_at", "error_tech", "lease_token", "updated_at"])


def _record(execution, step, node, operation, params, result, error, queue, *, defer_next=False, finished=None):
    """Record a step's result (caller holds the locks); return (next id, queue, next step) or None.

    A successful step not inserted yet goes to `finished` when given (the inline chain inserts them together).
    """
    now = timezone.now()
    step.finished_at = now
    step.duration_ms = int((now - step.started_at).total_seconds() * 1000)
    step.data_in = params if isinstance(params, dict) else {"parameters": params}
    step.lease_expires_at = None
    step.lease_token = None
    _keep_delivery_state(execution, result, error)
    if execution.status in TERMINAL:
        _skip(step, f"The run was {execution.status} while this step ran; its result was discarded.")
        return None
    if error is not None:
        step_fail(execution=execution, step=step, node=node, error=error)
        return None
    step.status = StepStatus.WAITING if result.wait else StepStatus.SUCCESS
    step.data_out = result.output
    if finished is not None and step._state.adding:
        finished.append(step)
    else:
        step.save()
    if operation is not None and operation.phase:
        phases.complete(execution, operation.phase, now)
    if result.status:
        _move_to(execution, result.status)
    publish_event(
        execution,
        "step.completed",
        {"step_id": str(step.pk), "node_key": step.node_key, "duration_ms": step.duration_ms,
         **({"document_id": result.output["document_id"]} if "document_id" in result.output else {}),
         # What the run waits for now, so a live page says "waiting for approval" or "waiting until 14:05"
         # rather than "finished".
         **({"waiting": result.wait} if result.wait else {}),
         **({"resume_at": (now + timedelta(seconds=result.delay_seconds)).isoformat()}
            if result.delay_seconds else {})},
    )  # fmt: skip
    log_ok(
        execution=execution,
        step=step,
        domain=LogDomain.STEP,
        message=format_lazy(gettext_lazy("Step '{}' finished."), node.get("label") or node["key"]),
        details={"output": result.output},
    )
    if result.wait == "approval":
        approval_request(execution=execution, step=step, result=result)
        return None
    if result.wait == "signature":
        return None  # the provider's webhook calls engine.signature_continue when everyone signed
    if result.stop:
        execution_complete(execution=execution, reason="filter")
        return None
    if operation is not None and operation.phase and operation.phase == execution.until_phase:
        execution_complete(execution=execution, reason="until_phase")
        return None
    nodes = definition_nodes(execution)
    next_key = result.next if result.next is not None else default_next(nodes, node_index(nodes, node["key"]))
    return step_advance(
        execution=execution,
        nodes=nodes,
        index=step.index,
        next_key=next_key,
        delay_seconds=result.delay_seconds,
        current_queue=queue,
        defer=defer_next,
    )


def _keep_delivery_state(execution, result, error) -> None:
    # An e-mail action's record of what left docg (sent, dry run, a failed attempt) is kept even when the
    # run ended while it ran: the message went out all the same. Not a status: no state machine.
    state = result.delivery_state if result is not None else (error.details.get("delivery_state") if error else None)
    if state is not None:
        WorkflowExecution.objects.filter(pk=execution.pk).update(delivery_state=state)
        execution.delivery_state = state
