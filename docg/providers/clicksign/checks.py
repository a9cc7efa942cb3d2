"""`Test connection` for ClickSign: one cheap authenticated call (GET /api/v3/envelopes)."""

from docg.common.errors import DocgError
from docg.connectors.health import ConnectionTestResult, register_checker
from docg.connectors.models import DataSourceConnection
from docg.providers.clicksign.client import ClickSignClient, ClickSignSettings


def clicksign_check(connection: DataSourceConnection) -> ConnectionTestResult:
    try:
        ClickSignClient(ClickSignSettings.from_connection(connection.credentials or {})).list_envelopes()
    except DocgError as exc:
        details = {"transient": exc.transient, "status_code": exc.details.get("status_code")}
        return ConnectionTestResult(False, exc.code, exc.human, details)
    return ConnectionTestResult(True, "ok", "ClickSign accepted the access token.")


register_checker("clicksign", clicksign_check)
