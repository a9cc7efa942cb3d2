"""HubSpot API client: one method per endpoint, classified errors.

Calls go to `settings.CONNECTOR_API_ROOTS["hubspot"]` (operator-configured, so
plain httpx) with the connection's OAuth token (refreshed when about to
expire) and the run's X-Correlation-ID. Errors: 401 → the token is refreshed
once and the call retried, then `oauth_expired` (the connection becomes
expired); 403 → `hubspot.insufficient_permissions` (a scope is missing:
permanent, "fix permissions"); 404 → `hubspot.not_found`; 429 → `rate_limit`
(transient, Retry-After kept); 5xx, timeouts and network errors → transient.
"""

from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors import services
from docg.connectors.errors import MessageCatalog, retry_after_details
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token

TIMEOUT_SECONDS = 20.0
BATCH_SIZE = 100  # HubSpot's batch read limit per request

MESSAGES = MessageCatalog(
    {
        "oauth_expired": _("HubSpot no longer accepts the connection (%(summary)s): reconnect HubSpot."),
        "hubspot.insufficient_permissions": _(
            "The HubSpot connection lacks a permission docg needs (%(summary)s): reconnect and allow every scope."
        ),
        "hubspot.not_found": _("HubSpot does not have this record (%(summary)s)."),
        "rate_limit": _("HubSpot is limiting requests (%(summary)s); docg will try again."),
        "hubspot.unavailable": _("HubSpot is unavailable (%(summary)s); docg will try again."),
        "hubspot.rejected": _("HubSpot refused the request (%(summary)s)."),
    }
)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def error_for(response: httpx.Response, tech: dict) -> DocgError:
    status = response.status_code
    body = _body(response)
    tech = {**tech, "status_code": status, "body": body}
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status == 401:
        return MESSAGES.error("oauth_expired", "401", tech)
    if status == 403:
        return MESSAGES.error("hubspot.insufficient_permissions", message or "403", tech)
    if status == 404:
        return MESSAGES.error("hubspot.not_found", tech.get("url", ""), tech)
    if status == 429:
        tech.update(retry_after_details(response.headers))
        return MESSAGES.error("rate_limit", "429", tech, transient=True)
    if status >= 500:
        return MESSAGES.error("hubspot.unavailable", str(status), tech, transient=True)
    return MESSAGES.error("hubspot.rejected", message or str(status), tech)


class HubSpotClient:
    def __init__(self, connection: DataSourceConnection, *, correlation_id: str = ""):
        self.connection = connection
        self.correlation_id = correlation_id

    @property
    def root(self) -> str:
        return settings.CONNECTOR_API_ROOTS["hubspot"]

    def _send(self, method: str, url: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self.correlation_id:
            headers["X-Correlation-ID"] = self.correlation_id
        tech = {"method": method, "url": url}
        try:
            return httpx.request(method, url, headers=headers, timeout=TIMEOUT_SECONDS, **kwargs)
        except httpx.TimeoutException as exc:
            raise MESSAGES.error(
                "hubspot.unavailable", "timeout", {**tech, "exception": type(exc).__name__}, transient=True
            ) from exc
        except httpx.HTTPError as exc:
            raise MESSAGES.error(
                "hubspot.unavailable", type(exc).__name__, {**tech, "exception": str(exc)}, transient=True
            ) from exc

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = f"{self.root}{path}"
        token = fresh_access_token(connection=self.connection, correlation_id=self.correlation_id)
        response = self._send(method, url, token, **kwargs)
        if response.status_code == 401:
            # The token may have been revoked early or our clock is off: one forced refresh, then give up.
            token = fresh_access_token(connection=self.connection, force=True, correlation_id=self.correlation_id)
            response = self._send(method, url, token, **kwargs)
        if response.status_code >= 400:
            error = error_for(response, {"method": method, "url": url})
            if response.status_code == 401:
                services.connection_mark_expired(connection=self.connection, reason=error.human)
            raise error
        data = _body(response)
        if not isinstance(data, dict):
            raise MESSAGES.error("hubspot.unavailable", "unexpected body", {"url": url}, transient=True)
        return data

    # --- endpoints ------------------------------------------------------------------

    def account_details(self) -> dict[str, Any]:
        """GET /account-info/v3/details: portalId, time zone, currency."""
        return self._call("GET", "/account-info/v3/details")

    def get_deal(self, deal_id: str, *, properties: list[str]) -> dict[str, Any]:
        """GET /crm/v3/objects/deals/{dealId}?properties=…"""
        return self._call("GET", f"/crm/v3/objects/deals/{deal_id}", params={"properties": ",".join(properties)})

    def associated_ids(self, from_type: str, object_id: str, to_type: str) -> list[str]:
        """GET /crm/v4/objects/{fromType}/{id}/associations/{toType}, every page: the associated record ids."""
        ids: list[str] = []
        params: dict[str, Any] = {"limit": 500}
        while True:
            page = self._call("GET", f"/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}", params=params)
            ids += [str(r["toObjectId"]) for r in page.get("results") or [] if r.get("toObjectId") is not None]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return list(dict.fromkeys(ids))
            params = {"limit": 500, "after": after}

    def batch_read(self, object_type: str, ids: list[str], *, properties: list[str]) -> list[dict[str, Any]]:
        """POST /crm/v3/objects/{objectType}/batch/read, 100 ids a request."""
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), BATCH_SIZE):
            payload = {"properties": properties, "inputs": [{"id": i} for i in ids[start : start + BATCH_SIZE]]}
            records += (
                self._call("POST", f"/crm/v3/objects/{object_type}/batch/read", json=payload).get("results") or []
            )
        return records
