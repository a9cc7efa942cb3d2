"""ClickSign's signed PDF: GET the envelope's document for `links.files.signed`, download, store.

Queued once per envelope by the webhook that finds every signer signed (see
docg/connectors/zapsign/signed_file.py for the claim and the storing, shared by
both providers). ClickSign renders the signed file a few seconds after closing
the envelope; until then `file_not_ready` is transient and Dramatiq retries.
"""

import logging

import dramatiq

from docg.connectors.choices import Provider
from docg.connectors.clicksign.client import ClickSignClient, ClickSignSettings
from docg.connectors.zapsign.signed_file import (
    FETCH_OPTIONS,
    active_connection,
    envelope_requests,
    signed_document_store,
)
from docg.documents.models import GeneratedDocument

logger = logging.getLogger(__name__)


def clicksign_signed_file_fetch(*, envelope_id: str, connection_id: str) -> GeneratedDocument | None:
    """Fetch and store the envelope's signed PDF (a no-op once stored)."""
    requests = envelope_requests(provider=Provider.CLICKSIGN, envelope_id=envelope_id, connection_id=connection_id)
    if not requests or any((r.provider_data or {}).get("signed_document_id") for r in requests):
        return None
    connection = active_connection(connection_id, Provider.CLICKSIGN)
    if connection is None:
        logger.warning("ClickSign connection %s is gone; signed file of %s not fetched", connection_id, envelope_id)
        return None
    client = ClickSignClient(
        ClickSignSettings.from_connection(connection.credentials or {}),
        headers={"X-Correlation-ID": str(requests[0].execution.correlation_id)},
    )
    document_key = str((requests[0].provider_data or {}).get("document_key") or "")
    url = client.signed_file_url(envelope_id=envelope_id, document_id=document_key)
    return signed_document_store(requests=requests, data=client.download(url), provider=Provider.CLICKSIGN)


@dramatiq.actor(actor_name="docg.clicksign.fetch_signed_file", **FETCH_OPTIONS)
def fetch_signed_file(envelope_id: str, connection_id: str) -> None:
    clicksign_signed_file_fetch(envelope_id=envelope_id, connection_id=connection_id)
