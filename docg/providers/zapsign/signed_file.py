"""ZapSign's signed PDF: GET /docs/{token}/ for `signed_file`, download, store.

Queued once per envelope by the webhook that finds every signer signed; the
claim and the storing are provider-neutral (docg/providers/esign_flow.py).
Until ZapSign has rendered the file, `zapsign.file_not_ready` is transient and
Dramatiq retries.
"""

import dramatiq

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.documents.models import GeneratedDocument
from docg.providers.esign_flow import FETCH_OPTIONS, signed_document_store, signed_fetch_begin


def zapsign_signed_file_fetch(*, envelope_id: str, connection_id: str) -> GeneratedDocument | None:
    """GET /docs/{token}/ → `signed_file`, download it, store it (a no-op once stored)."""
    from docg.providers.zapsign.client import ZapSignClient, ZapSignSettings

    begun = signed_fetch_begin(
        provider=Provider.ZAPSIGN, label="ZapSign", envelope_id=envelope_id, connection_id=connection_id
    )
    if begun is None:
        return None
    requests, connection = begun
    client = ZapSignClient(
        ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {}),
        headers={"X-Correlation-ID": str(requests[0].execution.correlation_id)},
    )
    detail = client.document_detail(token=envelope_id)
    url = str(detail.get("signed_file") or "")
    if not url:
        raise DocgError(
            "zapsign.file_not_ready",
            "ZapSign has not finished the signed file yet.",
            {"token": envelope_id},
            transient=True,
        )
    return signed_document_store(requests=requests, data=client.download(url), provider=Provider.ZAPSIGN)


@dramatiq.actor(actor_name="docg.zapsign.fetch_signed_file", **FETCH_OPTIONS)
def fetch_signed_file(envelope_id: str, connection_id: str) -> None:
    zapsign_signed_file_fetch(envelope_id=envelope_id, connection_id=connection_id)
