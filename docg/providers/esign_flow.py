"""What the e-signature connectors (ClickSign, ZapSign) share, provider-neutral.

The action side: signers checked, the step's SignatureRequests found again on a
retry, `signature.requested` announced. The webhook side: the body parsed, stale
deliveries refused, a signer moved out of `pending` with its event and audit
row, and the run continued once every signer signed. The signed PDF's fetch and
storage are in signed_files.py.
"""

import json
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from docg.audit.choices import ActorType, AuditAction
from docg.audit.services import audit_log
from docg.common.errors import DocgError
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.choices import SignatureStatus
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.executions.choices import ExecutionStatus
from docg.executions.events import publish_event
from docg.executions.models import WorkflowExecution
from docg.executions.state import execution_transition

DEFAULT_MAX_AGE_SECONDS = 72 * 3600
FUTURE_SKEW = timedelta(minutes=5)

# What a webhook's kind of event makes of a pending signer, how it is audited and what the live stream hears.
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


# --- The action: send a document to be signed ----------------------------------------


def clean_signers(ctx: ActionContext, params: dict) -> list[dict]:
    """The step's signers with tidy names and plausible e-mails; else a permanent error."""
    signers = []
    for signer in params.get("signers") or []:
        name = " ".join(str(signer.get("name") or "").split())
        email = str(signer.get("email") or "").strip()
        if not name or "@" not in email:
            raise DocgError(
                "signature.invalid_signer",
                ctx.say(_("Invalid signer: %(signer)s."), signer=repr(signer)),
                {"signer": signer},
            )
        signers.append({"name": name, "email": email})
    if not signers:
        raise DocgError("signature.invalid_signer", ctx.say(_("No signer.")), {})
    return signers


def signature_dry_run(*, signers: list[dict], document: GeneratedDocument) -> ActionResult:
    """A dry run: nothing goes to the provider and the run goes on as "running"."""
    planned = [{**s, "status": "dry_run"} for s in signers]
    output = {"envelope_id": "", "signers": planned, "document_id": str(document.pk), "dry_run": True}
    return ActionResult(output=output, status=ExecutionStatus.RUNNING)


def step_signature_requests(*, ctx: ActionContext, provider: str, node_key: str) -> list[SignatureRequest]:
    """The SignatureRequests an earlier attempt of this step wrote (a retry must not send a second envelope)."""
    return list(
        SignatureRequest.objects.filter(
            execution=ctx.execution, provider=provider, provider_data__node_key=node_key
        ).order_by("created_at")
    )


def signature_requested_record(
    *, ctx: ActionContext, request: SignatureRequest, document: GeneratedDocument, node_key: str
) -> None:
    """Announce one signer's request on the run's live stream and in the audit log."""
    details = {
        "signature_request_id": str(request.pk),
        "provider": request.provider,
        "envelope_id": request.envelope_id,
        "signer_email": request.signer_email,
        "document_id": str(document.pk),
    }
    publish_event(ctx.execution, "signature.requested", details)
    audit_log(
        organization=ctx.organization,
        action=AuditAction.SIGNATURE_REQUESTED,
        target_type="signature_request",
        target_id=request.pk,
        metadata={**details, "execution_id": str(ctx.execution.pk), "node_key": node_key},
        correlation_id=ctx.correlation_id,
    )


# --- The webhook: a signer signed, declined or ran out of time -----------------------


def text_value(value: Any) -> str:
    """A string or number from a provider's JSON, stripped; anything else is ""."""
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def parse(raw: bytes) -> dict[str, Any]:
    """A webhook body as a JSON object, or DocgError 400 `webhook.bad_body`."""
    try:
        data = json.loads(raw or b"{}", parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DocgError("webhook.bad_body", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DocgError("webhook.bad_body", "The body must be a JSON object.")
    return data


def refuse_stale(occurred_at: Any) -> None:
    """DocgError 400 `webhook.stale` for a timestamp outside the accepted window; nothing for none."""
    text = occurred_at.strip() if isinstance(occurred_at, str) else ""
    if not text:
        return
    try:
        when = parse_datetime(text)
    except ValueError:
        when = None
    if when is None:
        raise DocgError("webhook.bad_body", f"The delivery's timestamp {text[:40]!r} is not a date-time.")
    if timezone.is_naive(when):
        when = when.replace(tzinfo=UTC)
    now = timezone.now()
    max_age = timedelta(seconds=getattr(settings, "SIGNATURE_WEBHOOK_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS))
    if when < now - max_age or when > now + FUTURE_SKEW:
        raise DocgError(
            "webhook.stale",
            "The delivery is too old (or dated in the future) to be applied.",
            details={"occurred_at": text, "max_age_seconds": int(max_age.total_seconds())},
        )


def signature_request_mark(
    *,
    request: SignatureRequest,
    kind: str,
    event: str,
    execution: WorkflowExecution,
    organization_id: Any,
    provider_data: dict | None = None,
) -> None:
    """Move a pending signer to signed/declined/expired (`kind`), with its stream event and audit row.

    The caller holds the row locks, in the webhook's transaction.
    """
    request.status = TARGET_STATUS[kind]
    if kind == "signed":
        request.signed_at = timezone.now()
    request.provider_data = {**(request.provider_data or {}), **(provider_data or {}), f"{kind}_event": event}
    request.save(update_fields=["status", "signed_at", "provider_data", "updated_at"])
    details = {
        "signature_request_id": str(request.pk),
        "provider": request.provider,
        "envelope_id": request.envelope_id,
        "signer_email": request.signer_email,
        "event": event,
    }
    if kind in STREAM_EVENT:
        publish_event(execution, STREAM_EVENT[kind], details)
    audit_log(
        organization=organization_id,
        action=AUDIT_ACTION[kind],
        actor_type=ActorType.WEBHOOK,
        target_type="signature_request",
        target_id=request.pk,
        metadata={**details, "execution_id": str(execution.pk)},
        correlation_id=execution.correlation_id,
    )


def signature_envelope_complete(
    *, execution: WorkflowExecution, requests: list[SignatureRequest], node_key: str = ""
) -> bool:
    """When every signer has signed: announce it and let the waiting run go on as `signed`; else False."""
    if not requests or any(r.status != SignatureStatus.SIGNED for r in requests):
        return False
    first = requests[0]
    publish_event(
        execution,
        "signature.completed",
        {"provider": first.provider, "envelope_id": first.envelope_id, "signers": len(requests)},
    )
    # The run waited in `signing` on its signature step: it is `signed` now and goes on.
    from docg.executions.engine import signature_continue

    continued = signature_continue(execution=execution, node_key=node_key)
    if not continued and execution.status == ExecutionStatus.SIGNING:
        execution_transition(execution=execution, target=ExecutionStatus.SIGNED)
    return True
