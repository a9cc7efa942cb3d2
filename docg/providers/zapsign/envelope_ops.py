"""ZapSign's part in reminders and withdrawals (docg.executions.envelopes decides what they do to a run)."""

from docg.connectors.choices import Provider
from docg.connectors.models import DataSourceConnection
from docg.documents.models import SignatureRequest
from docg.executions.envelopes import envelope_operations_register
from docg.providers.zapsign.client import ZapSignClient, ZapSignSettings


def _client(connection: DataSourceConnection, rows: list[SignatureRequest]) -> ZapSignClient:
    settings = ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {})
    return ZapSignClient(settings, headers={"X-Correlation-ID": str(rows[0].execution.correlation_id)})


def remind(connection: DataSourceConnection, rows: list[SignatureRequest]) -> dict:
    """ZapSign's bulk resend: every pending signer of the document is e-mailed again."""
    answer = _client(connection, rows).resend_notifications(token=rows[0].envelope_id)
    return {"sent_count": answer.get("sent_count"), "failed_signers": answer.get("failed_signers") or []}


def cancel(connection: DataSourceConnection, rows: list[SignatureRequest], reason: str) -> dict:
    """Cancel (refuse) the document at ZapSign: it can no longer be signed."""
    answer = _client(connection, rows).refuse_document(token=rows[0].envelope_id, reason=reason)
    return {"status": str(answer.get("status") or "")}


envelope_operations_register(Provider.ZAPSIGN, remind=remind, cancel=cancel)
