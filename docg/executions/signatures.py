"""What an e-signature means for a run: signers requested, moved out of `pending`, the run continued.

The provider packages (ClickSign, ZapSign) know their APIs and webhook formats;
what their deliveries do to a run is decided here, in the executions layer: the
run is locked (execution first, then its envelope's rows, the order every run
lock in docg follows), each signer leaves `pending` once with its stream event
and audit row, and once every signer signed the waiting step succeeds through
`engine.signature_continue`. A provider never changes run state itself.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from docg.audit.choices import ActorType, AuditAction
from docg.audit.services import audit_log
from docg.documents.choices import SignatureStatus
from docg.documents.models import SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.engine import signature_continue
from docg.executions.events import publish_event
from docg.executions.models import WorkflowExecution
from docg.executions.signature_state import signature_state_refresh
from docg.executions.state import execution_transition
from docg.workflows.models import WebhookDelivery

# What a delivery's kind of event makes of a pending signer, how it is audited and what the live stream hears.
TARGET_STATUS = {
    "signed": SignatureStatus.SIGNED,
    "declined": SignatureStatus.DECLINED,
    "expired": SignatureStatus.EXPIRED,
}
AUDIT_ACTION = {
    "signed": AuditAction.SIGNATURE_SIGNED,
    "declined": AuditAction.SIGNATURE_DECLINED,
    "expired": AuditAction.SIGNATURE_EXPIRED,
}
STREAM_EVENT = {"signed": "signature.signed", "declined": "signature.declined"}
# A signer who opened the document stays `pending` (they may still sign or decline); the view is
# kept in provider_data["viewed_at"], which signature_state shows as "viewed".
VIEWED = "viewed"

# (request, provider_data to merge into it) for each signer a delivery names.
Targets = Callable[[list[SignatureRequest]], list[tuple[SignatureRequest, dict]]]


@dataclass
class SignatureProgress:
    """What one delivery did to an envelope."""

    # The envelope's rows, locked, oldest first.
    requests: list[SignatureRequest]
    changed: list[str] = field(default_factory=list)
    completed: bool = False
    duplicate: bool = False


def signature_request_record(*, execution: WorkflowExecution, request: SignatureRequest, node_key: str) -> None:
    """Announce one signer's request on the run's live stream and in the audit log."""
    details = {
        "signature_request_id": str(request.pk),
        "provider": request.provider,
        "envelope_id": request.envelope_id,
        "signer_email": request.signer_email,
        "document_id": str(request.document_id or ""),
    }
    publish_event(execution, "signature.requested", details)
    audit_log(
        organization=execution.organization_id,
        action=AuditAction.SIGNATURE_REQUESTED,
        target_type="signature_request",
        target_id=request.pk,
        metadata={**details, "execution_id": str(execution.pk), "node_key": node_key},
        correlation_id=str(execution.correlation_id),
    )
    signature_state_refresh(execution_id=execution.pk)


def signature_progress(
    *, envelope: QuerySet[SignatureRequest], kind: str, event: str, targets: Targets, delivery_key: str = ""
) -> SignatureProgress | None:
    """Apply one verified delivery to an envelope, in the caller's transaction; None when docg has no such envelope.

    `kind` is signed/declined/expired, or viewed (the signer stays pending; the first view is kept),
    anything else moves nobody, `targets` picks
    the signers the delivery names from the locked rows, and `delivery_key`, when
    given, is recorded once as a WebhookDelivery: a second delivery with it is a
    duplicate and changes nothing.
    """
    execution_id = envelope.order_by("created_at").values_list("execution_id", flat=True).first()
    if execution_id is None:
        return None
    execution = WorkflowExecution.objects.select_for_update(of=("self",)).get(pk=execution_id)
    requests = list(envelope.select_for_update().order_by("created_at"))
    if not requests:
        return None
    progress = SignatureProgress(requests=requests)
    if delivery_key:
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    organization_id=execution.organization_id,
                    workflow_id=execution.workflow_id,
                    idempotency_key=delivery_key,
                    execution=execution,
                )
        except IntegrityError:
            progress.duplicate = True
            return progress
    if kind == VIEWED:
        for request, provider_data in targets(requests):
            if request.status == SignatureStatus.PENDING and not (request.provider_data or {}).get("viewed_at"):
                _signer_viewed(request=request, event=event, execution=execution, provider_data=provider_data)
                progress.changed.append(str(request.pk))
        if progress.changed:
            signature_state_refresh(execution_id=execution.pk)
        return progress
    if kind not in TARGET_STATUS:
        return progress
    for request, provider_data in targets(requests):
        if request.status != SignatureStatus.PENDING:
            continue  # a signer leaves `pending` once; a later, contradicting event changes nothing
        _signer_mark(request=request, kind=kind, event=event, execution=execution, provider_data=provider_data)
        progress.changed.append(str(request.pk))
    if progress.changed:
        signature_state_refresh(execution_id=execution.pk)
    if progress.changed and kind == "signed":
        progress.completed = signature_complete(execution=execution, requests=requests)
    return progress


def _signer_event(
    *, request: SignatureRequest, execution: WorkflowExecution, event: str, stream_event: str, action: str
) -> None:
    """The stream event and the audit row for one signer's change."""
    details = {
        "signature_request_id": str(request.pk),
        "provider": request.provider,
        "envelope_id": request.envelope_id,
        "signer_email": request.signer_email,
        "event": event,
    }
    if stream_event:
        publish_event(execution, stream_event, details)
    audit_log(
        organization=execution.organization_id,
        action=action,
        actor_type=ActorType.WEBHOOK,
        target_type="signature_request",
        target_id=request.pk,
        metadata={**details, "execution_id": str(execution.pk)},
        correlation_id=execution.correlation_id,
    )


def _signer_viewed(*, request: SignatureRequest, event: str, execution: WorkflowExecution, provider_data: dict) -> None:
    # Only the first view counts: later ones would only repeat the same fact on the stream and in the audit.
    request.provider_data = {
        **(request.provider_data or {}),
        **provider_data,
        "viewed_event": event,
        "viewed_at": timezone.now().isoformat(),
    }
    request.save(update_fields=["provider_data", "updated_at"])
    _signer_event(
        request=request,
        execution=execution,
        event=event,
        stream_event="signature.viewed",
        action=AuditAction.SIGNATURE_VIEWED,
    )


def _signer_mark(
    *, request: SignatureRequest, kind: str, event: str, execution: WorkflowExecution, provider_data: dict
) -> None:
    now = timezone.now()
    request.status = TARGET_STATUS[kind]
    if kind == "signed":
        request.signed_at = now
    request.provider_data = {
        **(request.provider_data or {}),
        **provider_data,
        f"{kind}_event": event,
        f"{kind}_at": now.isoformat(),
    }
    request.save(update_fields=["status", "signed_at", "provider_data", "updated_at"])
    _signer_event(
        request=request,
        execution=execution,
        event=event,
        stream_event=STREAM_EVENT.get(kind, ""),
        action=AUDIT_ACTION[kind],
    )


def signature_complete(*, execution: WorkflowExecution, requests: list[SignatureRequest]) -> bool:
    """When every signer has signed: announce it and let the waiting run go on as `signed`; else False.

    The caller holds the execution's lock.
    """
    if not requests or any(r.status != SignatureStatus.SIGNED for r in requests):
        return False
    first = requests[0]
    publish_event(
        execution,
        "signature.completed",
        {"provider": first.provider, "envelope_id": first.envelope_id, "signers": len(requests)},
    )
    # The run waited in `signing` on the step that sent the envelope: it is `signed` now and goes on.
    node_key = str((first.provider_data or {}).get("node_key") or "")
    continued = signature_continue(execution=execution, node_key=node_key)
    if not continued and execution.status == ExecutionStatus.SIGNING:
        execution_transition(execution=execution, target=ExecutionStatus.SIGNED)
    return True
