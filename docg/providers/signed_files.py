"""The signed PDF: once every signer signed, fetch it from the provider and store it as a GeneratedDocument.

The webhook that completes an envelope claims the fetch inside its transaction
(`signed_fetch_schedule`, rows locked), so one envelope is fetched once however many
deliveries arrive; the download runs after commit on the `signatures` queue,
never in the webhook's request or transaction. Transient provider errors (the
file not rendered yet, 429, 5xx) are retried with backoff by Dramatiq.

The stored document belongs to the run (`execution`, the signature step's
`node_key`) and every SignatureRequest of the envelope names it in
`provider_data["signed_document_id"]`. No event goes to the run's live stream:
the run may already have ended, and its stream ends with the terminal event.
Each provider keeps only its download and its Dramatiq actor (<slug>/signed_file.py).
"""

import logging
from typing import Any

from django.db import transaction

from docg.common.errors import DocgError
from docg.connectors.choices import ConnectionStatus
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
    "retry_when": lambda retries, exc: retries < 8 and isinstance(exc, DocgError) and exc.transient,
}


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
