"""Microsoft Graph client: one method per endpoint, a timeout on every call, classified errors.

Endpoints (Graph v1.0, under settings.CONNECTOR_API_ROOTS["microsoft_graph"]):
- `PUT /me/drive/root:/{path}:/content` (or `/drives/{drive-id}/root:/…` for a
  SharePoint library): simple upload, at most 250 MB; `@microsoft.graph.conflictBehavior=replace`
  so a retried upload overwrites its own earlier copy instead of failing.
- `GET /me/drive/items/{id}/content?format=pdf`: Graph converts and answers
  302 with a short-lived, pre-authenticated download URL. The redirect is
  followed by hand so the bearer token never reaches the download host, and
  through the SSRF guard because the address is the provider's, not the operator's.
- `POST /me/sendMail` → 202 with no body.

The API root is operator-configured, so those calls use httpx directly.
Errors: 401 → `oauth_expired` (reconnect); 403 → `microsoft.insufficient_permissions`;
404 → `microsoft.not_found`; 400/413/… → `microsoft.rejected` (all permanent);
409 → `microsoft.conflict`, 429 → `rate_limit`, 5xx, timeouts and network
errors → transient (Retry-After kept in the details).
"""

from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.http import ProviderCodes, network_error, status_error
from docg.providers.microsoft.messages import microsoft_error

TIMEOUT_SECONDS = 30.0
# Conversions of long documents take a while on Graph's side.
CONVERT_TIMEOUT_SECONDS = 90.0
MAX_UPLOAD_BYTES = 250 * 1024 * 1024


def graph_root() -> str:
    return settings.CONNECTOR_API_ROOTS["microsoft_graph"].rstrip("/") + "/v1.0"


def _graph_error(body: Any) -> tuple[str, str]:
    """(Graph's error code, its message) from a documented error body, else ("", a snippet)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", str(body)[:300]


CODES = ProviderCodes(
    unavailable="microsoft.unavailable",
    rejected="microsoft.rejected",
    timeout="microsoft.timeout",
    unauthorized="oauth_expired",
    forbidden="microsoft.insufficient_permissions",
    not_found="microsoft.not_found",
    # With conflictBehavior=replace a conflict is another write in flight (e.g. an earlier attempt).
    conflict="microsoft.conflict",
)


def _error_maker(what: str):
    """Graph's words for a failure; `what` names the request for the human message."""

    def error(code: str, tech: dict, transient: bool) -> DocgError:
        status = tech.get("status_code")
        if status is None:  # no answer
            summary = what if code == CODES.timeout else f"{what}: {tech.get('exception', '')}"
            return microsoft_error(code, summary, tech, transient=transient)
        graph_code, graph_message = _graph_error(tech["body"])
        tech = {**tech, "graph_code": graph_code}
        summary = f"{what}: {status} {graph_code} {graph_message}".strip()
        return microsoft_error(code, summary, tech, transient=transient)

    return error


def error_for(response: httpx.Response, tech: dict, *, what: str) -> DocgError:
    """A DocgError for an error answer; `what` names the request for the human message."""
    return status_error(response, codes=CODES, error=_error_maker(what), tech=tech)


def _network_error(exc: httpx.HTTPError, tech: dict, what: str) -> DocgError:
    return network_error(exc, codes=CODES, error=_error_maker(what), tech=tech)


def _drive(drive_id: str | None) -> str:
    return f"/drives/{quote(drive_id, safe='')}" if drive_id else "/me/drive"


class GraphClient:
    def __init__(self, access_token: str, *, headers: dict[str, str] | None = None, timeout: float = TIMEOUT_SECONDS):
        self.access_token = access_token
        self.extra_headers = headers or {}
        self.timeout = timeout
        self.root = graph_root()

    def _request(self, method: str, path: str, *, what: str, timeout: float | None = None, **kwargs) -> httpx.Response:
        url = f"{self.root}{path}"
        tech = {"method": method, "url": url}
        headers = {**self.extra_headers, **kwargs.pop("headers", {}), "Authorization": f"Bearer {self.access_token}"}
        try:
            with httpx.Client(timeout=timeout or self.timeout, follow_redirects=False) as client:
                response = client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise _network_error(exc, tech, what) from exc
        if response.status_code >= 400:
            raise error_for(response, tech, what=what)
        return response

    def _json(self, response: httpx.Response, what: str) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise microsoft_error(
                "microsoft.bad_response",
                f"{what}: not a JSON object",
                {"status_code": response.status_code, "body": response.text[:500]},
                transient=True,
            )
        return data

    def drive_get(self, *, drive_id: str | None = None) -> dict:
        """GET {drive}?$select=id,driveType — the OneDrive or SharePoint library exists and may be read."""
        response = self._request("GET", _drive(drive_id), what="the drive", params={"$select": "id,driveType"})
        return self._json(response, "the drive")

    def drive_item(self, *, path: str, drive_id: str | None = None) -> dict:
        """GET {drive}/root:/{path}?$select=id,name,folder — the folder files are uploaded to."""
        encoded = quote(path.strip("/"), safe="/")
        what = f"the folder '{path}'"
        response = self._request(
            "GET", f"{_drive(drive_id)}/root:/{encoded}", what=what, params={"$select": "id,name,folder"}
        )
        return self._json(response, what)

    def upload_file(self, *, path: str, content: bytes, content_type: str, drive_id: str | None = None) -> dict:
        """PUT {drive}/root:/{path}:/content — the new (or replaced) driveItem: id, name, webUrl, size."""
        if len(content) > MAX_UPLOAD_BYTES:
            raise microsoft_error(
                "microsoft.rejected", f"the file is larger than {MAX_UPLOAD_BYTES} bytes", {"size": len(content)}
            )
        encoded = quote(path.strip("/"), safe="/")
        response = self._request(
            "PUT",
            f"{_drive(drive_id)}/root:/{encoded}:/content",
            what=f"upload of '{path}'",
            params={"@microsoft.graph.conflictBehavior": "replace"},
            headers={"Content-Type": content_type},
            content=content,
        )
        item = self._json(response, "upload")
        if not item.get("id"):
            raise microsoft_error(
                "microsoft.bad_response", "upload: no item id", {"answer_keys": sorted(item)}, transient=True
            )
        return item

    def download_converted(self, *, item_id: str, format: str = "pdf", drive_id: str | None = None) -> bytes:
        """GET {drive}/items/{id}/content?format=… — follows Graph's 302 to the converted file's bytes."""
        what = f"conversion to {format}"
        response = self._request(
            "GET",
            f"{_drive(drive_id)}/items/{quote(item_id, safe='')}/content",
            what=what,
            timeout=CONVERT_TIMEOUT_SECONDS,
            params={"format": format},
        )
        if not response.is_redirect:
            return response.content  # a proxy (or a future Graph) may stream the bytes directly
        location = response.headers.get("Location", "")
        # The query string of a pre-authenticated URL is a credential: keep it out of error details.
        tech = {"method": "GET", "url": location.split("?", 1)[0][:300], "redirected_from": str(response.request.url)}
        try:
            # Pre-authenticated URL: no Authorization header, only our correlation id.
            download = guarded_request("GET", location, timeout=CONVERT_TIMEOUT_SECONDS, headers=self.extra_headers)
        except BlockedAddress as exc:
            raise microsoft_error("microsoft.bad_response", f"{what}: download address refused ({exc})", tech) from exc
        except httpx.HTTPError as exc:
            raise _network_error(exc, tech, what) from exc
        if download.status_code >= 400:
            raise error_for(download, tech, what=f"{what} (download)")
        return download.content

    def send_mail(self, *, message: dict, save_to_sent_items: bool = True) -> None:
        """POST /me/sendMail — 202 Accepted, no body: Graph queued the message."""
        self._request(
            "POST",
            "/me/sendMail",
            what="sendMail",
            json={"message": message, "saveToSentItems": save_to_sent_items},
        )
