"""`Test connection` for ZapSign: one cheap authenticated call (GET /docs/)."""

from docg.common.errors import DocgError
from docg.connectors.health import ConnectionTestResult, register_checker
from docg.connectors.models import DataSourceConnection
from docg.providers.zapsign.client import ZapSignClient, ZapSignSettings


def zapsign_check(connection: DataSourceConnection) -> ConnectionTestResult:
    try:
        settings = ZapSignSettings.from_connection(connection.credentials or {}, connection.config or {})
        ZapSignClient(settings).list_documents()
    except DocgError as exc:
        details = {"transient": exc.transient, "status_code": exc.details.get("status_code")}
        return ConnectionTestResult(False, exc.code, exc.human, details)
    return ConnectionTestResult(True, "ok", "ZapSign accepted the API token.")


register_checker("zapsign", zapsign_check)
