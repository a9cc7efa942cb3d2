"""The signed PDF: once every signer signed, fetch it from the provider and store it as a GeneratedDocument.

The webhook that completes an envelope claims the fetch inside its transaction
(`signed_fetch_claim`, rows locked), so one envelope is fetched once however many
deliveries arrive; the download runs after commit on the `signatures` queue,
never in the webhook's request or transaction. Transient provider errors (the
file not rendered yet, 429, 5xx) are retried with backoff by Dramatiq.

The stored document belongs to the run (`execution`, the signature step's
`node_key`) and every SignatureRequest of the envelope names it in
`provider_data["signed_document_id"]`. No event goes to the run's live stream:
the run may already have ended, and its stream ends with the terminal event.

`signed_fetch_claim` and `signed_document_store` are provider-neutral (ClickSign uses them too).
"""

import logging
from typing import Any

import dramatiq
from django.db import transaction

from docg.connectors.choices import ConnectionStatus, Provider
from docg.connectors.errors import ConnectorError
from docg.connectors.models import DataSourceConnection
from docg.documents.choices import SignatureStatus
from docg.documents.models import GeneratedDocument, SignatureRequest
from docg.documents.storage import document_store
from docg.executions.choices import LogDomain
from docg.executions.logger import log_ok

logger = logging.getLogger(__name__)

FETCH_OPTIONS = {
    "queue_name": "signatures",
    "max_retries": 8,
    "min_backoff": 2_000,
    "max_backoff": 120_000,
    "time_limit": 5 * 60 * 1000,
    # Only a transient provider error is worth another try; anything else is logged and dropped.
    "retry_when": lambda retries, exc: retries < 8 and isinstance(exc, ConnectorError) and exc.transient,
}


def envelope_requests(*, provider: str, envelope_id: str, connection_id: str) -> list[SignatureRequest]:
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
    # execution=None: document_store would announce on the run's live stream (see the module docstring).
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
            log_ok(
                execution=execution,
                domain=LogDomain.SIGNATURE,
                message=f"Signed document '{document.name}' stored ({document.size_bytes} bytes).",
                details={"document_id": str(document.pk), **metadata},
            )
    if stored_first:
        logger.info("Signed file of %s envelope %s was stored by another fetch", provider, first.envelope_id)
        return None
    return document


def zapsign_signed_file_fetch(*, envelope_id: str, connection_id: str) -> GeneratedDocument | None:
    """GET /docs/{token}/ → `signed_file`, download it, store it (a no-op once stored)."""
    from docg.connectors.zapsign.client import ZapSignClient, ZapSignSettings

    requests = envelope_requests(provider=Provider.ZAPSIGN, envelope_id=envelope_id, connection_id=connection_id)
    if not requests or any((r.provider_data or {}).get("signed_document_id") for r in requests):
        return None
    connection = active_connection(connection_id, Provider.ZAPSIGN)
    if connection is None:
        logger.warning("ZapSign connection %s is gone; signed file of %s not fetched", connection_id, envelope_id)
        return None
    client = ZapSignClient(
        ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {}),
        headers={"X-Correlation-ID": str(requests[0].execution.correlation_id)},
    )
    detail = client.document_detail(token=envelope_id)
    url = str(detail.get("signed_file") or "")
    if not url:
        raise ConnectorError(
            "zapsign.file_not_ready",
            "ZapSign has not finished the signed file yet.",
            {"token": envelope_id},
            transient=True,
        )
    return signed_document_store(requests=requests, data=client.download(url), provider=Provider.ZAPSIGN)


@dramatiq.actor(actor_name="docg.zapsign.fetch_signed_file", **FETCH_OPTIONS)
def fetch_signed_file(envelope_id: str, connection_id: str) -> None:
    zapsign_signed_file_fetch(envelope_id=envelope_id, connection_id=connection_id)
