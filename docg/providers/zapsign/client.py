"""ZapSign API client: one method per endpoint, classified errors.

`POST {base_url}/docs/` creates a document to sign from a base64 PDF. The
base URL comes from the connection's config (a sandbox or a proxy), so calls
go through the SSRF guard.
"""

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.http import ProviderCodes, network_error, status_error

DEFAULT_BASE_URL = "https://api.zapsign.com.br/api/v1"
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ZapSignSettings:
    api_token: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_connection(cls, credentials: dict[str, Any], config: dict[str, Any]) -> "ZapSignSettings":
        token = str((credentials or {}).get("api_token") or "").strip()
        if not token:
            raise DocgError(
                "zapsign.misconfigured", "The ZapSign connection has no API token.", {"missing": "api_token"}
            )
        base_url = str((config or {}).get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        return cls(api_token=token, base_url=base_url)


CODES = ProviderCodes(
    unavailable="zapsign.unavailable",
    rejected="zapsign.rejected",
    timeout="zapsign.timeout",
    unauthorized="zapsign.unauthorized",
    rate_limit="zapsign.rate_limited",
)


def _error(code: str, tech: dict, transient: bool) -> DocgError:
    status = tech.get("status_code")
    message = {
        "zapsign.unauthorized": f"ZapSign refused the connection's API token ({status}).",
        "zapsign.rate_limited": "ZapSign is rate limiting docg; docg will try again.",
        "zapsign.timeout": "ZapSign did not answer in time; docg will try again.",
        "zapsign.rejected": f"ZapSign refused the request ({status}).",
    }.get(code)
    if message is None:  # unavailable
        message = (
            f"ZapSign is unavailable ({status}); docg will try again."
            if status
            else f"Could not reach ZapSign ({tech.get('exception', '')})."
        )
    return DocgError(code, message, tech, transient=transient)


def _error_for(response: httpx.Response, tech: dict) -> DocgError:
    return status_error(response, codes=CODES, error=_error, tech=tech)


class ZapSignClient:
    def __init__(self, settings: ZapSignSettings, *, headers: dict[str, str] | None = None):
        self.settings = settings
        self.extra_headers = headers or {}

    def _post(self, path: str, payload: dict) -> dict:
        return self._send("POST", path, payload)

    def _send(self, method: str, path: str, payload: dict | None = None) -> dict:
        url = f"{self.settings.base_url}{path}"
        tech = {"method": method, "url": url}
        headers = {
            **self.extra_headers,
            "Authorization": f"Bearer {self.settings.api_token}",
            "Accept": "application/json",
            # ZapSign refuses some calls (cancel) without a User-Agent of the caller's own.
            "User-Agent": "docg",
        }
        response = self._call(method, url, tech, headers=headers, **({"json": payload} if payload is not None else {}))
        if response.status_code >= 400:
            raise _error_for(response, tech)
        try:
            data = response.json()
        except ValueError as exc:
            raise DocgError(
                "zapsign.bad_response", "ZapSign answered with something that is not JSON.", tech, transient=True
            ) from exc
        if not isinstance(data, dict | list):
            raise DocgError("zapsign.bad_response", "ZapSign answered with an unexpected body.", tech, transient=True)
        return data if isinstance(data, dict) else {"results": data}

    def _call(self, method: str, url: str, tech: dict, **kwargs) -> httpx.Response:
        try:
            return guarded_request(method, url, timeout=self.settings.timeout, **kwargs)
        except BlockedAddress as exc:
            raise DocgError("zapsign.blocked_address", f"The ZapSign base URL is not allowed: {exc}", tech) from exc
        except httpx.HTTPError as exc:
            raise network_error(exc, codes=CODES, error=_error, tech=tech) from exc

    def create_document(self, *, name: str, pdf: bytes, signers: list[dict], external_id: str) -> dict:
        """POST /docs/ — the document with its signers; returns ZapSign's answer (doc token, signer tokens)."""
        payload = {
            "name": name,
            "base64_pdf": base64.b64encode(pdf).decode("ascii"),
            "external_id": external_id,
            "signers": [{"name": s["name"], "email": s["email"]} for s in signers],
        }
        return self._post("/docs/", payload)

    def document_detail(self, *, token: str) -> dict:
        """GET /docs/{token}/ — the document with its status and (once signed) its `signed_file` link."""
        return self._send("GET", f"/docs/{token}/")

    def resend_notifications(self, *, token: str) -> dict:
        """POST /docs/{token}/resend-notifications-bulk/ — e-mails every pending signer again (no body)."""
        return self._send("POST", f"/docs/{token}/resend-notifications-bulk/")

    def refuse_document(self, *, token: str, reason: str) -> dict:
        """POST /refuse/ — cancels an in-progress document: it is marked refused and can no longer be signed."""
        return self._post("/refuse/", {"doc_token": token, "rejected_reason": reason})

    def list_documents(self) -> dict:
        """GET /docs/ — the cheapest authenticated call (the connection check)."""
        return self._send("GET", "/docs/")

    def download(self, url: str) -> bytes:
        """The bytes behind a `signed_file` link (temporary, on ZapSign's storage)."""
        tech = {"method": "GET", "url": url.split("?", 1)[0]}
        response = self._call("GET", url, tech)
        if response.status_code >= 400:
            # An expired link (403) is cured by asking for the document again: transient.
            raise DocgError(
                "zapsign.unavailable",
                f"ZapSign's file link answered {response.status_code}; docg will try again.",
                {**tech, "status_code": response.status_code},
                transient=True,
            )
        return response.content
