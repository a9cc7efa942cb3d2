"""Access tokens of OAuth 2.0 connections (HubSpot, Google, Microsoft).

Connectors call `fresh_access_token(connection=...)` right before a provider call.
(The refresh flow is filled in by the OAuth work of the connectors issue.)
"""

import time

from docg.connectors.errors import ConnectorError
from docg.connectors.models import DataSourceConnection


def fresh_access_token(*, connection: DataSourceConnection) -> str:
    """A usable access token for `connection`; `oauth_expired` when there is none."""
    credentials = connection.credentials or {}
    token = str(credentials.get("access_token") or "")
    expires_at = float(credentials.get("expires_at") or 0)
    if not token or (expires_at and expires_at <= time.time()):
        raise ConnectorError(
            "oauth_expired",
            f"The {connection.provider} connection '{connection.name}' has expired: reconnect it.",
            {"connection_id": str(connection.pk), "provider": connection.provider},
        )
    return token
