"""Checking a connection's credential against its provider (`POST /connections/{id}/test`).

Each connector app may declare a checker for its connections (`App.checker`); the
OAuth providers, whose connections several apps share, register theirs here. The OAuth providers' checkers live here:
one cheap authenticated GET each — HubSpot GET /account-info/v3/details, Google
GET /oauth2/v3/userinfo, Microsoft GET /v1.0/me. A 401 means the credential is
dead (`oauth_expired`, the connection becomes expired); 403 a missing scope.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from django.conf import settings

from docg.common.errors import DocgError
from docg.connectors import services
from docg.connectors.models import DataSourceConnection
from docg.connectors.registry import get_app


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    code: str = "ok"
    message: str = ""
    details: dict = field(default_factory=dict)


_CHECKERS: dict[str, Callable[[DataSourceConnection], ConnectionTestResult]] = {}


def register_checker(provider: str, checker: Callable[[DataSourceConnection], ConnectionTestResult]) -> None:
    _CHECKERS[provider] = checker


def connection_test(*, connection: DataSourceConnection, by=None) -> ConnectionTestResult:
    """Ask the provider whether the connection's credential still works, and remember the answer."""
    # Saved before the check existed (or through the admin): refused as bad input, nothing is called.
    problems = services.connection_address_problems(config=connection.config, credentials=connection.credentials)
    if problems:
        raise DocgError(
            "connection.invalid_host",
            "This connection names a server that cannot exist: correct it and test again.",
            details=problems,
        )
    app = get_app(connection.provider)
    checker = _CHECKERS.get(connection.provider) or (app.checker if app is not None else None)
    if checker is None:
        return ConnectionTestResult(
            False, "test.unsupported", f"docg cannot test {connection.provider} connections yet."
        )
    try:
        result = checker(connection)
    except DocgError as exc:
        result = ConnectionTestResult(False, exc.code, exc.human, {"transient": exc.transient})
    services.connection_record_check(connection=connection, ok=result.ok, code=result.code, message=result.message)
    return result


# --- OAuth providers ---------------------------------------------------------------------


def _oauth_get(connection: DataSourceConnection, url: str, label: str) -> tuple[ConnectionTestResult, dict]:
    from docg.connectors.oauth import fresh_access_token

    correlation_id = str(uuid.uuid4())
    token = fresh_access_token(connection=connection, correlation_id=correlation_id)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "X-Correlation-ID": correlation_id}
    try:
        response = httpx.get(url, headers=headers, timeout=settings.OAUTH_HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return ConnectionTestResult(False, "test.unreachable", f"Could not reach {label} ({type(exc).__name__})."), {}
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if status == 200:
        return ConnectionTestResult(True, "ok", f"{label} accepted the connection."), body
    if status == 401:
        return ConnectionTestResult(
            False, "oauth_expired", f"{label} no longer accepts this connection: reconnect it.", {"status": status}
        ), body
    if status == 403:
        return ConnectionTestResult(
            False,
            f"{connection.provider}.insufficient_permissions",
            f"{label} accepted the connection but it lacks a permission docg needs: reconnect and allow every scope.",
            {"status": status},
        ), body
    if status == 429:
        return ConnectionTestResult(False, "rate_limit", f"{label} is limiting requests; test again later."), body
    return ConnectionTestResult(False, "test.failed", f"{label} answered with an error ({status})."), body


def check_hubspot(connection: DataSourceConnection) -> ConnectionTestResult:
    root = settings.CONNECTOR_API_ROOTS["hubspot"]
    result, body = _oauth_get(connection, f"{root}/account-info/v3/details", "HubSpot")
    if result.ok:
        return ConnectionTestResult(True, "ok", result.message, {"portal_id": str(body.get("portalId") or "")})
    return result


def check_google(connection: DataSourceConnection) -> ConnectionTestResult:
    result, body = _oauth_get(
        connection, f"{settings.CONNECTOR_API_ROOTS['google_drive']}/oauth2/v3/userinfo", "Google"
    )
    if result.ok:
        return ConnectionTestResult(True, "ok", result.message, {"account": body.get("email") or ""})
    return result


def check_microsoft(connection: DataSourceConnection) -> ConnectionTestResult:
    result, body = _oauth_get(connection, f"{settings.CONNECTOR_API_ROOTS['microsoft_graph']}/v1.0/me", "Microsoft")
    if result.ok:
        account = body.get("mail") or body.get("userPrincipalName") or ""
        return ConnectionTestResult(True, "ok", result.message, {"account": account})
    return result


register_checker("hubspot", check_hubspot)
register_checker("google", check_google)
register_checker("microsoft", check_microsoft)
