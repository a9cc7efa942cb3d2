"""`Test connection` for ClickSign: one cheap authenticated call (GET /api/v3/envelopes)."""

from docg.connectors.errors import ConnectorError
from docg.connectors.health import ConnectionTestResult, register_checker
from docg.connectors.models import DataSourceConnection
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings


def clicksign_check(connection: DataSourceConnection) -> ConnectionTestResult:
    try:
        ClickSignClient(ClickSignSettings.from_connection(connection.credentials or {})).list_envelopes()
    except ConnectorError as exc:
        details = {"transient": exc.transient, "status_code": exc.details_tech.get("status_code")}
        return ConnectionTestResult(False, exc.code, exc.message_human, details)
    return ConnectionTestResult(True, "ok", "ClickSign accepted the access token.")


register_checker("clicksign", clicksign_check)
