"""ClickSign's signed PDF: GET the envelope's document for `links.files.signed`, download, store.

Queued once per envelope by the webhook that finds every signer signed; the
claim and the storing are provider-neutral (docg/providers/esign_flow.py).
ClickSign renders the signed file a few seconds after closing the envelope;
until then `file_not_ready` is transient and Dramatiq retries.
"""

import dramatiq

from docg.connectors.choices import Provider
from docg.documents.models import GeneratedDocument
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings
from docg.providers.esign_flow import FETCH_OPTIONS, signed_document_store, signed_fetch_begin


def clicksign_signed_file_fetch(*, envelope_id: str, connection_id: str) -> GeneratedDocument | None:
    """Fetch and store the envelope's signed PDF (a no-op once stored)."""
    begun = signed_fetch_begin(
        provider=Provider.CLICKSIGN, label="ClickSign", envelope_id=envelope_id, connection_id=connection_id
    )
    if begun is None:
        return None
    requests, connection = begun
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
