"""ClickSign's part in reminders and withdrawals (docg.executions.envelopes decides what they do to a run)."""

from docg.common.errors import DocgError
from docg.connectors.choices import Provider
from docg.connectors.models import DataSourceConnection
from docg.documents.models import SignatureRequest
from docg.executions.envelopes import envelope_operations_register
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings, translate


def _client(connection: DataSourceConnection, rows: list[SignatureRequest]) -> ClickSignClient:
    settings = ClickSignSettings.from_connection(connection.credentials or {})
    return ClickSignClient(settings, headers={"X-Correlation-ID": str(rows[0].execution.correlation_id)})


def _language(connection: DataSourceConnection) -> str:
    return str(getattr(connection.organization, "language", "") or "en")


def remind(connection: DataSourceConnection, rows: list[SignatureRequest]) -> dict:
    """One notification per pending signer (ClickSign's per-signer endpoint: only they are e-mailed)."""
    try:
        client = _client(connection, rows)
        notified = []
        for row in rows:
            if row.external_id:
                client.notify_signer(envelope_id=row.envelope_id, signer_id=row.external_id)
                notified.append(row.external_id)
    except DocgError as exc:
        exc.human = translate(exc, _language(connection))
        raise
    return {"notified": notified}


def cancel(connection: DataSourceConnection, rows: list[SignatureRequest], reason: str) -> dict:
    """Cancel the envelope at ClickSign."""
    try:
        answer = _client(connection, rows).cancel_envelope(envelope_id=rows[0].envelope_id)
    except DocgError as exc:
        exc.human = translate(exc, _language(connection))
        raise
    data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
    attributes = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
    return {"status": str(attributes.get("status") or "")}


envelope_operations_register(Provider.CLICKSIGN, remind=remind, cancel=cancel)
