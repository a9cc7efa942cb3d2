"""Envelopes at the provider: remind the pending signers, withdraw the envelope of a canceled run.

The provider packages (ClickSign, ZapSign) know the calls; they register them
here at import (`envelope_operations_register`), because the executions layer
must not import them. What the calls mean for the run is decided here: the
provider answers, then the rows are changed under the run's lock (execution
first, then its envelope's rows), each with its log line, audit row and the
refreshed `signature_state`. No network call runs inside a transaction.

Withdrawal: cancelling a run whose envelope is still out leaves signers able to
sign a contract the business withdrew. `execution_cancel` calls
`envelopes_withdraw_later` in its transaction; once that commits, the
`withdraw_envelopes` actor asks each provider to cancel. A refusal is recorded
on the rows (`provider_data["withdrawal"]`, shown in `signature_state`), logged
at error level and audited; a transient refusal is also retried.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from docg.audit.choices import ActorType, AuditAction
from docg.audit.services import audit_log, user_actor
from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.documents.choices import SignatureStatus
from docg.documents.models import SignatureRequest
from docg.executions.choices import ExecutionStatus, LogDomain
from docg.executions.locks import execution_lock
from docg.executions.logger import log_error, log_ok
from docg.executions.models import WorkflowExecution
from docg.executions.signature_state import signature_state_refresh

# (connection, the envelope's pending rows) -> the provider's answer, or DocgError.
Remind = Callable[[DataSourceConnection, list[SignatureRequest]], dict]
# (connection, the envelope's pending rows, reason) -> the provider's answer, or DocgError.
Cancel = Callable[[DataSourceConnection, list[SignatureRequest], str], dict]


@dataclass(frozen=True)
class EnvelopeOperations:
    remind: Remind
    cancel: Cancel


_operations: dict[str, EnvelopeOperations] = {}

WITHDRAW_RETRIES = 5


def envelope_operations_register(provider: str, *, remind: Remind, cancel: Cancel) -> None:
    """Called by a provider package at import: how to remind and withdraw its envelopes."""
    _operations[provider] = EnvelopeOperations(remind=remind, cancel=cancel)


def envelope_operations(provider: str) -> EnvelopeOperations | None:
    return _operations.get(provider)


def _pending(queryset) -> list[SignatureRequest]:
    return list(queryset.filter(status=SignatureStatus.PENDING).exclude(envelope_id="").order_by("created_at", "id"))


def _connection(request: SignatureRequest) -> DataSourceConnection | None:
    connection_id = str((request.provider_data or {}).get("connection_id") or "")
    if not connection_id:
        return None
    return DataSourceConnection.objects.filter(
        pk=connection_id,
        organization_id=request.organization_id,
        provider=request.provider,
        status=ConnectionStatus.ACTIVE,
    ).first()


def _mark(rows: list[SignatureRequest], **values: Any) -> None:
    for row in rows:
        row.provider_data = {**(row.provider_data or {}), **values}
        row.save(update_fields=["status", "provider_data", "updated_at"])


def _details(rows: list[SignatureRequest]) -> dict[str, Any]:
    first = rows[0]
    return {"provider": first.provider, "envelope_id": first.envelope_id, "signers": [r.signer_email for r in rows]}


# --- Remind ----------------------------------------------------------------------------


def envelope_remind(*, request: SignatureRequest, by: Any) -> dict[str, Any]:
    """Ask the provider to e-mail the envelope's pending signers again, and record when (DocgError if it refuses)."""
    envelope = SignatureRequest.objects.filter(
        organization_id=request.organization_id, provider=request.provider, envelope_id=request.envelope_id
    )
    rows = _pending(envelope)
    if not request.envelope_id or not rows:
        raise DocgError("signature.not_pending", gettext("Nobody is waiting to sign this envelope."), status_code=409)
    operations = envelope_operations(request.provider)
    if operations is None:
        raise DocgError(
            "signature.remind_unsupported",
            gettext("Reminders are not available for %(provider)s.") % {"provider": request.provider},
            status_code=400,
        )
    connection = _connection(rows[0])
    if connection is None:
        raise DocgError(
            "connection.inactive",
            gettext("The connection that sent this envelope is no longer active: reconnect it to send a reminder."),
            status_code=409,
        )
    try:
        answer = operations.remind(connection, rows)
    except DocgError as exc:
        raise DocgError(
            "signature.remind_failed",
            exc.human,
            {"code": exc.code},
            status_code=429 if exc.code.endswith("rate_limited") or exc.code == "rate_limit" else 502,
        ) from exc
    now = timezone.now().isoformat()
    with transaction.atomic():
        execution = execution_lock(rows[0].execution_id)
        locked = _pending(SignatureRequest.objects.select_for_update().filter(pk__in=[r.pk for r in rows]))
        _mark(locked, reminded_at=now)
        details = _details(rows)
        log_ok(
            execution=execution,
            domain=LogDomain.SIGNATURE,
            details={**details, "answer": answer},
            message=gettext("Reminder sent to %(count)d signer(s).") % {"count": len(locked)},
        )
        for row in locked:
            audit_log(
                organization=execution.organization_id,
                action=AuditAction.SIGNATURE_REMINDED,
                target_type="signature_request",
                target_id=row.pk,
                metadata={**details, "signer_email": row.signer_email, "execution_id": str(execution.pk)},
                correlation_id=execution.correlation_id,
                **user_actor(by),
            )
        signature_state_refresh(execution_id=execution.pk)
    return {
        "envelope_id": request.envelope_id,
        "provider": request.provider,
        "reminded": [str(r.pk) for r in locked],
        "reminded_at": now,
    }


# --- Withdraw (the run was canceled) ---------------------------------------------------


def envelopes_withdraw_later(*, execution: WorkflowExecution) -> None:
    """In the cancel's transaction: once it commits, withdraw the run's envelopes still out for signature."""
    if _pending(SignatureRequest.objects.filter(execution=execution)):
        execution_id = str(execution.pk)
        transaction.on_commit(lambda: withdraw_envelopes.send(execution_id))


def _envelopes(execution: WorkflowExecution) -> dict[tuple[str, str], list[SignatureRequest]]:
    envelopes: dict[tuple[str, str], list[SignatureRequest]] = {}
    for row in _pending(SignatureRequest.objects.filter(execution=execution)):
        envelopes.setdefault((row.provider, row.envelope_id), []).append(row)
    return envelopes


def _withdrawn(execution_id: Any, rows: list[SignatureRequest], answer: dict) -> None:
    now = timezone.now()
    with transaction.atomic():
        execution = execution_lock(execution_id)
        locked = _pending(SignatureRequest.objects.select_for_update().filter(pk__in=[r.pk for r in rows]))
        for row in locked:
            row.status = SignatureStatus.CANCELED
        _mark(locked, canceled_at=now.isoformat(), withdrawal={"status": "withdrawn", "at": now.isoformat()})
        details = {**_details(rows), "answer": answer}
        log_ok(
            execution=execution,
            domain=LogDomain.SIGNATURE,
            message=gettext("Envelope withdrawn at %(provider)s: nobody can sign it any more.")
            % {"provider": rows[0].provider},
            details=details,
        )
        for row in locked:
            audit_log(
                organization=execution.organization_id,
                action=AuditAction.SIGNATURE_CANCELED,
                actor_type=ActorType.SYSTEM,
                target_type="signature_request",
                target_id=row.pk,
                metadata={**_details(rows), "signer_email": row.signer_email, "execution_id": str(execution.pk)},
                correlation_id=execution.correlation_id,
            )
        signature_state_refresh(execution_id=execution.pk)


def _withdrawal_failed(execution_id: Any, rows: list[SignatureRequest], code: str, message: str) -> None:
    now = timezone.now().isoformat()
    failure = {"status": "failed", "code": code, "message": message, "at": now}
    with transaction.atomic():
        execution = execution_lock(execution_id)
        locked = _pending(SignatureRequest.objects.select_for_update().filter(pk__in=[r.pk for r in rows]))
        _mark(locked, withdrawal=failure)
        details = {**_details(rows), "code": code}
        log_error(
            execution=execution,
            domain=LogDomain.SIGNATURE,
            message=gettext("%(provider)s refused to withdraw the envelope: its signers may still sign it. %(message)s")
            % {"provider": rows[0].provider, "message": message},
            details=details,
        )
        for row in locked:
            audit_log(
                organization=execution.organization_id,
                action=AuditAction.SIGNATURE_WITHDRAW_FAILED,
                target_type="signature_request",
                target_id=row.pk,
                metadata={**details, "message": message, "execution_id": str(execution.pk)},
                correlation_id=execution.correlation_id,
            )
        signature_state_refresh(execution_id=execution.pk)


def execution_envelopes_withdraw(*, execution_id: Any) -> list[dict[str, Any]]:
    """Withdraw a canceled run's pending envelopes at their providers; each outcome is recorded on the run.

    Raises the DocgError of a transient refusal after recording it, so the actor tries again.
    """
    execution = WorkflowExecution.objects.filter(pk=execution_id).first()
    if execution is None or execution.status != ExecutionStatus.CANCELED:
        return []
    outcomes: list[dict[str, Any]] = []
    retry: DocgError | None = None
    for (provider, envelope_id), rows in _envelopes(execution).items():
        operations = envelope_operations(provider)
        connection = _connection(rows[0])
        if operations is None or connection is None:
            message = gettext("The connection that sent this envelope is no longer active; cancel it at the provider.")
            _withdrawal_failed(execution.pk, rows, "connection.inactive", message)
            outcomes.append({"envelope_id": envelope_id, "status": "failed", "code": "connection.inactive"})
            continue
        try:
            answer = operations.cancel(connection, rows, gettext("The run was canceled."))
        except DocgError as exc:
            _withdrawal_failed(execution.pk, rows, exc.code, exc.human)
            outcomes.append({"envelope_id": envelope_id, "status": "failed", "code": exc.code})
            retry = retry or (exc if exc.transient else None)
            continue
        _withdrawn(execution.pk, rows, answer)
        outcomes.append({"envelope_id": envelope_id, "status": "withdrawn"})
    if retry is not None:
        raise retry
    return outcomes


@dramatiq.actor(
    actor_name="docg.executions.withdraw_envelopes",
    queue_name="signatures",
    max_retries=WITHDRAW_RETRIES,
    min_backoff=2_000,
    max_backoff=60_000,
    retry_when=lambda retries, exc: retries < WITHDRAW_RETRIES and isinstance(exc, DocgError) and exc.transient,
)
def withdraw_envelopes(execution_id: str) -> None:
    execution_envelopes_withdraw(execution_id=execution_id)
