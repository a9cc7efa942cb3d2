"""ClickSign API v3 (envelopes) client: one method per endpoint, classified, bilingual errors.

The API root is operator configuration (`settings.CONNECTOR_API_ROOTS["clicksign"]`,
e.g. https://app.clicksign.com or https://sandbox.clicksign.com), so calls to it use
httpx directly. Bodies are JSON:API (`application/vnd.api+json`); the access token
goes bare in `Authorization`. Download links in ClickSign's answers point at its
file storage and go through the SSRF guard.
"""

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.errors import MessageCatalog
from docg.connectors.http import ProviderCodes, network_error, status_error

API_PREFIX = "/api/v3"
JSON_API = "application/vnd.api+json"
TIMEOUT_SECONDS = 30.0
MAX_FILE_BYTES = 50 * 1024 * 1024

MESSAGES = {
    "clicksign.misconfigured": _("The ClickSign connection is incomplete: %(summary)s."),
    "clicksign.unauthorized": _(
        "ClickSign refused the connection's access token (%(summary)s); reconnect ClickSign with a valid token."
    ),
    "clicksign.not_found": _("ClickSign does not know this envelope or document (%(summary)s)."),
    "clicksign.rejected": _("ClickSign refused the request (%(summary)s)."),
    "clicksign.rate_limited": _("ClickSign is limiting requests (%(summary)s); docg will try again."),
    "clicksign.unavailable": _("ClickSign is unavailable (%(summary)s); docg will try again."),
    "clicksign.timeout": _("ClickSign did not answer in time (%(summary)s); docg will try again."),
    "clicksign.bad_response": _("ClickSign answered with something unexpected (%(summary)s)."),
    "clicksign.blocked_address": _("The ClickSign download link is not allowed: %(summary)s"),
    "clicksign.file_not_ready": _("ClickSign has not finished the signed file yet (%(summary)s); docg will try again."),
}

_CATALOG = MessageCatalog(MESSAGES)
clicksign_error = _CATALOG.error
translate = _CATALOG.translate


@dataclass(frozen=True)
class ClickSignSettings:
    access_token: str
    api_root: str = ""
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_connection(cls, credentials: dict[str, Any]) -> "ClickSignSettings":
        token = str((credentials or {}).get("access_token") or "").strip()
        if not token:
            raise clicksign_error("clicksign.misconfigured", "no access token", {"missing": "access_token"})
        return cls(access_token=token, api_root=settings.CONNECTOR_API_ROOTS["clicksign"].rstrip("/"))


def _errors_summary(body: Any) -> str:
    """JSON:API `{"errors": [{"detail"|"title"}]}` as one line."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        parts = [str(e.get("detail") or e.get("title") or "") for e in errors if isinstance(e, dict)]
        text = "; ".join(p for p in parts if p)
        if text:
            return text[:300]
    return ""


CODES = ProviderCodes(
    unavailable="clicksign.unavailable",
    rejected="clicksign.rejected",
    timeout="clicksign.timeout",
    unauthorized="clicksign.unauthorized",
    not_found="clicksign.not_found",
    rate_limit="clicksign.rate_limited",
)


def _error(code: str, tech: dict, transient: bool) -> DocgError:
    status = tech.get("status_code")
    if status is None:  # no answer: name the exception
        return clicksign_error(code, str(tech.get("exception", "")), tech, transient=transient)
    detail = _errors_summary(tech.get("body"))
    return clicksign_error(code, f"HTTP {status}" + (f": {detail}" if detail else ""), tech, transient=transient)


def error_for(response: httpx.Response, tech: dict) -> DocgError:
    return status_error(response, codes=CODES, error=_error, tech=tech)


def _resource(type_: str, attributes: dict, relationships: dict | None = None, id_: str = "") -> dict:
    data: dict[str, Any] = {"type": type_, "attributes": attributes}
    if id_:
        data["id"] = id_
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


def _link(type_: str, id_: str) -> dict:
    return {"data": {"type": type_, "id": id_}}


@dataclass
class ClickSignClient:
    settings: ClickSignSettings
    headers: dict[str, str] = field(default_factory=dict)

    def _request(self, method: str, path: str, payload: dict | None = None) -> dict:
        url = f"{self.settings.api_root}{API_PREFIX}{path}"
        tech = {"method": method, "url": url}
        headers = {
            **self.headers,
            "Authorization": self.settings.access_token,
            "Accept": JSON_API,
        }
        if payload is not None:
            headers["Content-Type"] = JSON_API
        try:
            response = httpx.request(
                method,
                url,
                content=None if payload is None else json.dumps(payload).encode(),
                headers=headers,
                timeout=self.settings.timeout,
            )
        except httpx.HTTPError as exc:
            raise network_error(exc, codes=CODES, error=_error, tech=tech) from exc
        if response.status_code >= 400:
            raise error_for(response, tech)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError as exc:
            raise clicksign_error("clicksign.bad_response", "not JSON", tech, transient=True) from exc
        if not isinstance(data, dict):
            raise clicksign_error("clicksign.bad_response", "not a JSON object", tech, transient=True)
        return data

    @staticmethod
    def _id(answer: dict, what: str) -> str:
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        value = str(data.get("id") or "")
        if not value:
            raise clicksign_error("clicksign.bad_response", f"no {what} id", {"answer_keys": sorted(answer)})
        return value

    def create_envelope(self, *, name: str, locale: str, deadline_at: str = "") -> str:
        """POST /envelopes — a draft envelope that closes itself after the last signature; returns its id."""
        attributes: dict[str, Any] = {"name": name, "locale": locale, "auto_close": True, "block_after_refusal": True}
        if deadline_at:
            attributes["deadline_at"] = deadline_at
        return self._id(self._request("POST", "/envelopes", _resource("envelopes", attributes)), "envelope")

    def create_document(self, *, envelope_id: str, filename: str, pdf: bytes) -> str:
        """POST /envelopes/{id}/documents — the PDF as a data URI; returns the document id."""
        content = "data:application/pdf;base64," + base64.b64encode(pdf).decode("ascii")
        payload = _resource("documents", {"filename": filename, "content_base64": content})
        return self._id(self._request("POST", f"/envelopes/{envelope_id}/documents", payload), "document")

    def create_signer(self, *, envelope_id: str, name: str, email: str) -> str:
        """POST /envelopes/{id}/signers; returns the signer id."""
        payload = _resource("signers", {"name": name, "email": email})
        return self._id(self._request("POST", f"/envelopes/{envelope_id}/signers", payload), "signer")

    def create_requirement(self, *, envelope_id: str, document_id: str, signer_id: str, attributes: dict) -> str:
        """POST /envelopes/{id}/requirements — ties a signer to the document (qualification or authentication)."""
        relationships = {"document": _link("documents", document_id), "signer": _link("signers", signer_id)}
        payload = _resource("requirements", attributes, relationships)
        return self._id(self._request("POST", f"/envelopes/{envelope_id}/requirements", payload), "requirement")

    def activate_envelope(self, *, envelope_id: str) -> dict:
        """PATCH /envelopes/{id} status "running": the envelope starts its signing cycle."""
        payload = _resource("envelopes", {"status": "running"}, id_=envelope_id)
        return self._request("PATCH", f"/envelopes/{envelope_id}", payload)

    def notify_envelope(self, *, envelope_id: str, message: str = "") -> dict:
        """POST /envelopes/{id}/notifications — e-mails the signers of the active group."""
        attributes = {"message": message} if message else {}
        return self._request("POST", f"/envelopes/{envelope_id}/notifications", _resource("notifications", attributes))

    def notify_signer(self, *, envelope_id: str, signer_id: str, message: str = "") -> dict:
        """POST /envelopes/{id}/signers/{signer}/notifications — e-mails one signer again (at most once a minute)."""
        attributes = {"message": message} if message else {}
        return self._request(
            "POST",
            f"/envelopes/{envelope_id}/signers/{signer_id}/notifications",
            _resource("notifications", attributes),
        )

    def cancel_envelope(self, *, envelope_id: str) -> dict:
        """PATCH /envelopes/{id} status "canceled": nobody can sign the envelope any more."""
        payload = _resource("envelopes", {"status": "canceled"}, id_=envelope_id)
        return self._request("PATCH", f"/envelopes/{envelope_id}", payload)

    def list_envelopes(self) -> dict:
        """GET /envelopes — the cheapest authenticated call (the connection check)."""
        return self._request("GET", "/envelopes")

    def signed_file_url(self, *, envelope_id: str, document_id: str) -> str:
        """GET /envelopes/{id}/documents/{doc} → links.files.signed (ready a few seconds after closing)."""
        answer = self._request("GET", f"/envelopes/{envelope_id}/documents/{document_id}")
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        links = data.get("links") if isinstance(data.get("links"), dict) else {}
        files = links.get("files") if isinstance(links.get("files"), dict) else {}
        url = str(files.get("signed") or "")
        if not url:
            raise clicksign_error(
                "clicksign.file_not_ready", "no signed link yet", {"document_id": document_id}, transient=True
            )
        return url

    def download(self, url: str) -> bytes:
        """The bytes behind a ClickSign download link (short-lived, on ClickSign's storage)."""
        tech = {"method": "GET", "url": url.split("?", 1)[0]}
        try:
            # Only the correlation id goes to the storage link: never the API token.
            correlation = {k: v for k, v in self.headers.items() if k.lower() == "x-correlation-id"}
            response = guarded_request("GET", url, timeout=self.settings.timeout, headers=correlation)
        except BlockedAddress as exc:
            raise clicksign_error("clicksign.blocked_address", str(exc), tech) from exc
        except httpx.TimeoutException as exc:
            raise clicksign_error("clicksign.timeout", type(exc).__name__, tech, transient=True) from exc
        except httpx.HTTPError as exc:
            raise clicksign_error("clicksign.unavailable", type(exc).__name__, tech, transient=True) from exc
        if response.status_code >= 400:
            # An expired link (403) is cured by asking for a fresh one: transient.
            raise clicksign_error("clicksign.unavailable", f"HTTP {response.status_code}", tech, transient=True)
        if len(response.content) > MAX_FILE_BYTES:
            raise clicksign_error("clicksign.bad_response", "signed file too large", tech)
        return response.content
