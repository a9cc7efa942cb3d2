"""HubSpot API client: one method per endpoint, classified errors.

Calls go to `settings.CONNECTOR_API_ROOTS["hubspot"]` (operator-configured, so
plain httpx) with the connection's OAuth token (refreshed when about to
expire) and the run's X-Correlation-ID. Errors: 401 → the token is refreshed
once and the call retried, then `oauth_expired` (the connection becomes
expired); 403 → `hubspot.insufficient_permissions` (a scope is missing:
permanent, "fix permissions"); 404 → `hubspot.not_found`; 429 → `rate_limit`
(transient, Retry-After kept); 5xx, timeouts and network errors → transient.
"""

import json
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.connectors import services
from docg.connectors.errors import MessageCatalog
from docg.connectors.http import ProviderCodes, network_error, response_body, status_error
from docg.connectors.models import DataSourceConnection
from docg.connectors.oauth import fresh_access_token

TIMEOUT_SECONDS = 20.0
BATCH_SIZE = 100  # HubSpot's batch read limit per request
# HubSpot-defined association type of a note to a deal (CRM v4 associations).
NOTE_TO_DEAL = 214

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


CODES = ProviderCodes(
    unavailable="hubspot.unavailable",
    rejected="hubspot.rejected",
    unauthorized="oauth_expired",
    forbidden="hubspot.insufficient_permissions",
    not_found="hubspot.not_found",
)


def _error(code: str, tech: dict, transient: bool) -> DocgError:
    """HubSpot's words for a failure: its own message when it gave one, else the status."""
    body = tech.get("body")
    message = body.get("message", "") if isinstance(body, dict) else ""
    status = tech.get("status_code")
    exception = str(tech.get("exception", ""))
    summary = {
        "oauth_expired": "401",
        "hubspot.insufficient_permissions": message or "403",
        "hubspot.not_found": tech.get("url", ""),
        "rate_limit": "429",
        "hubspot.rejected": message or str(status),
    }.get(code) or (str(status) if status else "timeout" if exception.endswith("Timeout") else exception)
    return MESSAGES.error(code, summary, tech, transient=transient)


def error_for(response: httpx.Response, tech: dict) -> DocgError:
    return status_error(response, codes=CODES, error=_error, tech=tech)


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
        except httpx.HTTPError as exc:
            raise network_error(exc, codes=CODES, error=_error, tech=tech) from exc

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
        data = response_body(response)
        if not isinstance(data, dict):
            raise MESSAGES.error("hubspot.unavailable", "unexpected body", {"url": url}, transient=True)
        return data

    # --- endpoints ------------------------------------------------------------------

    def get_deal(self, deal_id: str, *, properties: list[str]) -> dict[str, Any]:
        """GET /crm/v3/objects/deals/{dealId}?properties=…"""
        return self._call("GET", f"/crm/v3/objects/deals/{deal_id}", params={"properties": ",".join(properties)})

    def get_object(self, object_type: str, object_id: str, *, properties: list[str]) -> dict[str, Any]:
        """GET /crm/v3/objects/{objectType}/{objectId}?properties=… (a contact or company)."""
        return self._call(
            "GET", f"/crm/v3/objects/{object_type}/{object_id}", params={"properties": ",".join(properties)}
        )

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

    def update_object(self, object_type: str, object_id: str, *, properties: dict[str, Any]) -> dict[str, Any]:
        """PATCH /crm/v3/objects/{objectType}/{objectId} {"properties": {...}} — the record as it now is."""
        return self._call("PATCH", f"/crm/v3/objects/{object_type}/{object_id}", json={"properties": properties})

    def upload_file(self, *, name: str, data: bytes, content_type: str, folder_path: str) -> dict[str, Any]:
        """POST /files/v3/files (multipart: file, folderPath, options) — a private file; its id."""
        options = json.dumps({"access": "PRIVATE", "overwrite": False})
        return self._call(
            "POST",
            "/files/v3/files",
            files={"file": (name, data, content_type)},
            data={"folderPath": folder_path, "fileName": name, "options": options},
        )

    def create_note(self, *, body: str, timestamp: str, deal_id: str, attachment_ids: list[str]) -> dict[str, Any]:
        """POST /crm/v3/objects/notes — a note on the deal (association type 214: note → deal), files attached."""
        properties = {"hs_note_body": body, "hs_timestamp": timestamp}
        if attachment_ids:
            properties["hs_attachment_ids"] = ";".join(attachment_ids)
        association = {
            "to": {"id": deal_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_DEAL}],
        }
        return self._call(
            "POST", "/crm/v3/objects/notes", json={"properties": properties, "associations": [association]}
        )
