"""The e-signature flow ClickSign and ZapSign share, provider-neutral: one module.

The action side: signers checked, the step's SignatureRequests found again on a
retry (the run hears `signature.requested` through executions.signatures). The
webhook side: the body parsed, stale deliveries refused, the delivery applied by
`executions.signatures.signature_progress` (which moves signers and continues
the run: a provider never writes run state) and, once every signer signed, the
signed PDF fetched and stored.

The signed PDF: the webhook that completes an envelope claims the fetch inside
its transaction (`signed_fetch_schedule`, rows locked), so one envelope is
fetched once however many deliveries arrive; the download runs after commit on
the `signatures` queue, never in the webhook's request or transaction.
Transient provider errors (the file not rendered yet, 429, 5xx) are retried
with backoff by Dramatiq. The stored document belongs to the run (`execution`,
the signature step's `node_key`) and every SignatureRequest of the envelope
names it in `provider_data["signed_document_id"]`. No event goes to the run's
live stream: the run may already have ended, and its stream ends with the
terminal event. Each provider keeps only its download and its Dramatiq actor
(<slug>/signed_file.py).
"""

import logging
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.common.untrusted import loads_untrusted
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection
from docg.connectors.runtime import ActionContext, ActionResult
from docg.documents.choices import SignatureStatus
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.documents.storage import document_store
from docg.executions.choices import ExecutionStatus, LogDomain
from docg.executions.logger import log_ok
from docg.executions.signature_state import signature_state_refresh
from docg.executions.signatures import Targets, signature_progress

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE_SECONDS = 72 * 3600
FUTURE_SKEW = timedelta(minutes=5)

FETCH_OPTIONS = {
    "queue_name": "signatures",
    "max_retries": 8,
    "min_backoff": 2_000,
    "max_backoff": 120_000,
    "time_limit": 5 * 60 * 1000,
    # Only a transient provider error is worth another try; anything else is logged and dropped.
    "retry_when": lambda retries, exc: retries < 8 and isinstance(exc, DocgError) and exc.transient,
}


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


# --- The webhook: a signer signed, declined or ran out of time -----------------------


def text_value(value: Any) -> str:
    """A string or number from a provider's JSON, stripped; anything else is ""."""
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def parse(raw: bytes) -> dict[str, Any]:
    """A webhook body as a JSON object, or DocgError 400 `webhook.bad_body`."""
    try:
        data = loads_untrusted(raw or b"{}")
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


def envelope_delivery_apply(
    *,
    connection: DataSourceConnection,
    envelope: QuerySet[SignatureRequest],
    kind: str,
    event: str,
    targets: Targets,
    fetch_actor: Any,
    delivery_key: str = "",
) -> dict[str, Any]:
    """Apply one verified delivery to the envelope's signers and run; queue the signed PDF once all signed."""
    with transaction.atomic():
        progress = signature_progress(
            envelope=envelope, kind=kind, event=event, targets=targets, delivery_key=delivery_key
        )
        if progress is None:
            return {"event": event, "ignored": True, "changed": []}
        if progress.duplicate:
            return {"event": event, "ignored": False, "duplicate": True, "changed": []}
        signed_fetch_schedule(requests=progress.requests, connection=connection, actor=fetch_actor)
    return {
        "event": event,
        "ignored": False,
        "duplicate": False,
        "changed": progress.changed,
        "completed": progress.completed,
    }


# --- The signed PDF: fetched once, after commit, and stored -------------------------


def envelope_requests(*, provider: str, envelope_id: str, connection_id: str) -> list[SignatureRequest]:
    """The envelope's SignatureRequests, oldest first, with their documents and runs."""
    return list(
        SignatureRequest.objects.filter(
            provider=provider, envelope_id=envelope_id, provider_data__connection_id=connection_id
        )
        .select_related("document", "execution")
        .order_by("created_at")
    )


def signed_fetch_claim(requests: list[SignatureRequest]) -> bool:
    """In the webhook's transaction (rows locked): True once, when every signer has signed."""
    if not requests or any(r.status != SignatureStatus.SIGNED for r in requests):
        return False
    if any((r.provider_data or {}).get("signed_file") for r in requests):
        return False
    for request in requests:
        request.provider_data = {**(request.provider_data or {}), "signed_file": "queued"}
        request.save(update_fields=["provider_data", "updated_at"])
    return True


def active_connection(connection_id: str, provider: str) -> DataSourceConnection | None:
    """The connection if it is still active for `provider`."""
    return DataSourceConnection.objects.filter(
        pk=connection_id, provider=provider, status=ConnectionStatus.ACTIVE
    ).first()


def signed_document_store(*, requests: list[SignatureRequest], data: bytes, provider: str) -> GeneratedDocument | None:
    """Store the signed PDF and point the envelope's rows at it; None if another fetch stored it first."""
    first = requests[0]
    original = first.document
    stem = original.name.rsplit(".", 1)[0] if original else f"{provider}-{first.envelope_id}"
    node_key = str((first.provider_data or {}).get("node_key") or "")
    execution = first.execution
    metadata: dict[str, Any] = {
        "provider": provider,
        "envelope_id": first.envelope_id,
        "signed": True,
        "source_document_id": str(original.pk) if original else "",
        "execution_id": str(execution.pk),
        "correlation_id": str(execution.correlation_id),
    }
    # execution=None: the row is pointed at the run below, by the one fetch that stored it first.
    document = document_store(
        organization=first.organization,
        name=f"{stem}-signed.pdf",
        data=data,
        content_type="application/pdf",
        node_key=node_key,
        metadata=metadata,
    )
    with transaction.atomic():
        rows = list(SignatureRequest.objects.select_for_update().filter(pk__in=[r.pk for r in requests]))
        if any((r.provider_data or {}).get("signed_document_id") for r in rows):
            stored_first = True
        else:
            stored_first = False
            GeneratedDocument.objects.filter(pk=document.pk).update(execution=execution)
            document.execution = execution
            for row in rows:
                row.provider_data = {
                    **(row.provider_data or {}),
                    "signed_file": "stored",
                    "signed_document_id": str(document.pk),
                }
                row.save(update_fields=["provider_data", "updated_at"])
            signature_state_refresh(execution_id=execution.pk)
            log_ok(
                execution=execution,
                domain=LogDomain.SIGNATURE,
                message=format_lazy(
                    gettext_lazy("Signed document '{}' stored ({} bytes)."), document.name, document.size_bytes
                ),
                details={"document_id": str(document.pk), **metadata},
            )
    if stored_first:
        logger.info("Signed file of %s envelope %s was stored by another fetch", provider, first.envelope_id)
        return None
    return document


def signed_fetch_schedule(*, requests: list[SignatureRequest], connection: DataSourceConnection, actor: Any) -> None:
    """In the webhook's transaction: once every signer signed, queue `actor` to fetch the file after commit."""
    if signed_fetch_claim(requests):
        envelope_id, connection_id = requests[0].envelope_id, str(connection.pk)
        transaction.on_commit(lambda: actor.send(envelope_id, connection_id))


def signed_fetch_begin(
    *, provider: str, label: str, envelope_id: str, connection_id: str
) -> tuple[list[SignatureRequest], DataSourceConnection] | None:
    """The envelope's rows and its active connection, or None when there is nothing (more) to fetch."""
    requests = envelope_requests(provider=provider, envelope_id=envelope_id, connection_id=connection_id)
    if not requests or any((r.provider_data or {}).get("signed_document_id") for r in requests):
        return None
    connection = active_connection(connection_id, provider)
    if connection is None:
        logger.warning("%s connection %s is gone; signed file of %s not fetched", label, connection_id, envelope_id)
        return None
    return requests, connection
