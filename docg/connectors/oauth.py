"""Access tokens of OAuth 2.0 connections (HubSpot, Google, Microsoft).

Connectors call `fresh_access_token(connection=...)` right before a provider call.
A token that expires within OAUTH_REFRESH_MARGIN_SECONDS is refreshed through
the provider's token endpoint with the refresh token; the new tokens are saved
encrypted on the connection. A refused refresh (`invalid_grant`: the user
revoked access, the refresh token expired) marks the connection expired and
raises `oauth_expired`, which preflight and the runs show as "reconnect".

Credentials of an OAuth connection: {access_token, refresh_token, token_type,
expires_at (epoch seconds; 0 when the provider did not say)}.
"""

import time
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction

from docg.common.errors import DocgError
from docg.connectors import services
from docg.connectors.choices import ConnectionStatus
from docg.connectors.models import DataSourceConnection

OAUTH_PROVIDERS = ("hubspot", "google", "microsoft")
# Token-endpoint answers that mean the refresh token is dead (HubSpot answers BAD_REFRESH_TOKEN).
_DEAD_GRANT = {"invalid_grant", "bad_refresh_token", "unauthorized_client"}


def _expired(connection: DataSourceConnection, detail: str) -> DocgError:
    return DocgError(
        "oauth_expired",
        f"The {connection.provider} connection '{connection.name}' has expired: reconnect it.",
        {"connection_id": str(connection.pk), "provider": connection.provider, "detail": detail},
    )


def _usable(credentials: dict[str, Any], margin: float) -> str:
    token = str(credentials.get("access_token") or "")
    expires_at = float(credentials.get("expires_at") or 0)
    if token and (not expires_at or expires_at - time.time() > margin):
        return token
    return ""


def token_endpoint(connection: DataSourceConnection) -> tuple[str, str, str]:
    """(token URL, client id, client secret) of the connection's provider."""
    roots = settings.CONNECTOR_API_ROOTS
    if connection.provider == "hubspot":
        url = f"{roots['hubspot']}/oauth/v1/token"
        return url, settings.SOCIAL_AUTH_HUBSPOT_KEY, settings.SOCIAL_AUTH_HUBSPOT_SECRET
    if connection.provider == "google":
        return f"{roots['google_oauth']}/token", settings.SOCIAL_AUTH_GOOGLE_KEY, settings.SOCIAL_AUTH_GOOGLE_SECRET
    if connection.provider == "microsoft":
        tenant = (connection.config or {}).get("tenant") or settings.SOCIAL_AUTH_MICROSOFT_TENANT
        url = f"{roots['microsoft_login']}/{tenant}/oauth2/v2.0/token"
        return url, settings.SOCIAL_AUTH_MICROSOFT_KEY, settings.SOCIAL_AUTH_MICROSOFT_SECRET
    raise DocgError(
        "connection.not_oauth",
        f"The {connection.provider} connection '{connection.name}' has no OAuth tokens to refresh.",
        {"provider": connection.provider},
    )


def token_credentials(answer: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Credentials from a token endpoint's answer; a refresh that returns no new refresh token keeps the old one."""
    previous = previous or {}
    expires_in = answer.get("expires_in")
    try:
        expires_at = time.time() + float(expires_in) if expires_in not in (None, "") else 0
    except (TypeError, ValueError):
        expires_at = 0
    return {
        "access_token": str(answer.get("access_token") or ""),
        "refresh_token": str(answer.get("refresh_token") or previous.get("refresh_token") or ""),
        "token_type": str(answer.get("token_type") or previous.get("token_type") or "bearer"),
        "expires_at": expires_at,
    }


def _refresh_call(connection: DataSourceConnection, refresh_token: str, correlation_id: str) -> dict[str, Any]:
    url, client_id, client_secret = token_endpoint(connection)
    payload = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    headers = {"Accept": "application/json"}
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    tech: dict[str, Any] = {"url": url, "provider": connection.provider}
    try:
        response = httpx.post(url, data=payload, headers=headers, timeout=settings.OAUTH_HTTP_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise DocgError(
            "oauth.refresh_unavailable",
            f"Could not reach {connection.provider} to renew the connection; docg will try again.",
            {**tech, "exception": type(exc).__name__},
            transient=True,
        ) from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and body.get("access_token"):
        return body
    error = str(body.get("error") or body.get("status") or "").lower()
    tech = {**tech, "status_code": response.status_code, "error": error}
    if response.status_code == 429 or response.status_code >= 500:
        raise DocgError(
            "oauth.refresh_unavailable",
            f"{connection.provider} could not renew the connection right now; docg will try again.",
            tech,
            transient=True,
        )
    if error in _DEAD_GRANT or response.status_code in (400, 401):
        raise _expired(connection, error or f"HTTP {response.status_code}")
    raise DocgError("oauth.refresh_failed", f"{connection.provider} refused to renew the connection.", tech)


def fresh_access_token(*, connection: DataSourceConnection, force: bool = False, correlation_id: str = "") -> str:
    """A usable access token for `connection`, refreshed when it expires within a minute; else `oauth_expired`.

    `force` refreshes even a token that looks valid (the provider answered 401 to it).
    """
    margin = settings.OAUTH_REFRESH_MARGIN_SECONDS
    token = "" if force else _usable(connection.credentials or {}, margin)
    if token:
        return token
    if connection.status != ConnectionStatus.ACTIVE:
        raise _expired(connection, f"status {connection.status}")
    stale = str((connection.credentials or {}).get("access_token") or "")
    failure: DocgError | None = None
    # The token POST runs while the row is locked, on purpose: a second worker that needs the
    # token waits here and then finds the new one instead of refreshing too (a refresh may
    # rotate the refresh token and invalidate the first worker's). The call is bounded by
    # OAUTH_HTTP_TIMEOUT_SECONDS and locks only this one row.
    with transaction.atomic():
        locked = DataSourceConnection.objects.select_for_update().get(pk=connection.pk)
        credentials = locked.credentials or {}
        current = _usable(credentials, margin)
        if locked.status != ConnectionStatus.ACTIVE:
            failure = _expired(locked, f"status {locked.status}")
        elif current and (not force or current != stale):
            token = current  # another worker refreshed it while we waited for the lock
        elif not credentials.get("refresh_token"):
            services.connection_mark_expired(
                connection=locked, reason="The access token expired and there is no refresh token."
            )
            failure = _expired(locked, "no refresh token")
        else:
            try:
                answer = _refresh_call(locked, str(credentials["refresh_token"]), correlation_id)
            except DocgError as exc:
                if exc.code == "oauth_expired":
                    services.connection_mark_expired(connection=locked, reason=exc.human)
                failure = exc
            else:
                new = token_credentials(answer, credentials)
                services.connection_set_tokens(connection=locked, credentials=new)
                token = new["access_token"]
        connection.credentials = locked.credentials
        connection.status = locked.status
        connection.last_error = locked.last_error
    # Raised after the block so the expired status is committed, not rolled back with the exception.
    if failure is not None:
        raise failure
    return token
