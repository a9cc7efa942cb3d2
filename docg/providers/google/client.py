"""Google APIs client (Drive, Docs, Slides, Gmail, Forms): one method per endpoint, classified errors.

API roots are operator settings (settings.CONNECTOR_API_ROOTS), not user input,
so calls go out with httpx directly. Every request carries the OAuth bearer
token, X-Correlation-ID and a timeout. Google answers errors as
`{"error": {"code", "message", "status", "errors": [{"reason", ...}], "details": [...]}}`:

- 401 → `oauth_expired` (permanent: reconnect the Google connection);
- 403 with a rate-limit reason (rateLimitExceeded, userRateLimitExceeded) → `rate_limit` (transient);
- other 403 (insufficientPermissions, insufficientFilePermissions, scope) → `drive.insufficient_permissions`;
- 404 → `google.not_found`, naming what was looked for;
- 429 → `rate_limit` (transient, Retry-After kept); 5xx, timeouts, network errors → `google.unavailable`.
"""

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

from docg.common.errors import DocgError
from docg.connectors.http import ProviderCodes, network_error, response_body
from docg.connectors.http import status_error as http_status_error
from docg.providers.google.messages import google_error

DEFAULT_TIMEOUT_SECONDS = 30.0
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
# An appProperties key on every file docg makes, valued "<execution>:<node>": a retried step finds its file.
STEP_PROPERTY = "docgStep"
# What preflight asks Drive about a template or folder: cheap, and enough to know if the step can work.
DRIVE_ACCESS_FIELDS = "id,name,mimeType,trashed,capabilities(canCopy,canDownload,canEdit,canAddChildren)"


def api_root(name: str) -> str:
    return settings.CONNECTOR_API_ROOTS[name].rstrip("/")


def _reasons(body: Any) -> set[str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    found = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")}
    found |= {str(d.get("reason")) for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")}
    return found


def _message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("status") or "")
    return str(body)[:200] if body else ""


CODES = ProviderCodes(
    unavailable="google.unavailable",
    rejected="google.rejected",
    unauthorized="oauth_expired",
    forbidden="drive.insufficient_permissions",
    not_found="google.not_found",
)


def _error_maker(what: str, timeout: float = DEFAULT_TIMEOUT_SECONDS):
    """Google's words for a failure; `what` names the file or resource for people."""

    def error(code: str, tech: dict, transient: bool) -> DocgError:
        status = tech.get("status_code")
        if status is None:  # no answer
            exception = str(tech.get("exception", ""))
            timed_out = exception.endswith("Timeout")
            summary = f"{what}: no answer within {timeout:g} s" if timed_out else f"{what}: {exception}"
            return google_error(code, summary, tech, transient=transient)
        body = tech["body"]
        reasons = _reasons(body)
        tech = {**tech, "reasons": sorted(reasons)}
        if status == 403 and reasons & RATE_LIMIT_REASONS:
            code, transient = "rate_limit", True
        if code in ("drive.insufficient_permissions", "google.not_found"):
            return google_error(code, what, tech, transient=transient)
        message = _message(body)
        summary = f"{what}: HTTP {status}" + (f" {message}" if message else "")
        return google_error(code, summary, tech, transient=transient)

    return error


def status_error(response: httpx.Response, *, what: str, tech: dict) -> DocgError:
    """The DocgError for a Google error answer; `what` names the file or resource for people."""
    return http_status_error(response, codes=CODES, error=_error_maker(what), tech=tech)


@dataclass
class GoogleClient:
    access_token: str
    correlation_id: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "X-Correlation-ID": self.correlation_id,
            "Accept": "application/json",
            **(extra or {}),
        }

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        tech = {"method": method, "url": url}
        kwargs["headers"] = self._headers(kwargs.get("headers"))
        try:
            response = httpx.request(method, url, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise network_error(exc, codes=CODES, error=_error_maker(what, self.timeout), tech=tech) from exc
        if response.status_code >= 400:
            raise status_error(response, what=what, tech=tech)
        return response

    def _json(self, method: str, url: str, *, what: str, **kwargs: Any) -> dict:
        response = self._send(method, url, what=what, **kwargs)
        body = response_body(response)
        if not isinstance(body, dict):
            raise google_error(
                "google.unavailable", f"{what}: the answer is not a JSON object", {"url": url}, transient=True
            )
        return body

    # --- Drive -------------------------------------------------------------------

    def drive_copy(self, *, file_id: str, name: str, folder_id: str, step: str) -> dict:
        """POST /drive/v3/files/{fileId}/copy — a copy of the template in the folder, tagged with the step."""
        url = f"{api_root('google_drive')}/drive/v3/files/{quote(file_id, safe='')}/copy"
        body = {"name": name, "parents": [folder_id], "appProperties": {STEP_PROPERTY: step}}
        params = {"supportsAllDrives": "true", "fields": "id,name,mimeType,parents,webViewLink"}
        return self._json("POST", url, what=f"the template file {file_id}", params=params, json=body)

    def drive_file_capabilities(self, *, file_id: str, what: str) -> dict:
        """GET /drive/v3/files/{fileId}?fields=...capabilities — whether the file exists and what we may do with it."""
        url = f"{api_root('google_drive')}/drive/v3/files/{quote(file_id, safe='')}"
        params = {"supportsAllDrives": "true", "fields": DRIVE_ACCESS_FIELDS}
        return self._json("GET", url, what=what, params=params)

    def drive_find_step_file(self, *, step: str) -> dict | None:
        """GET /drive/v3/files?q=appProperties has {...} — the file an earlier attempt of the step made."""
        url = f"{api_root('google_drive')}/drive/v3/files"
        query = f"appProperties has {{ key='{STEP_PROPERTY}' and value='{_quoted(step)}' }} and trashed = false"
        params = {
            "q": query,
            "fields": "files(id,name,mimeType,parents,webViewLink)",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
            "pageSize": "10",
        }
        files = self._json("GET", url, what="docg's earlier copy", params=params).get("files") or []
        return files[0] if files and isinstance(files[0], dict) else None

    def drive_export(self, *, file_id: str, mime_type: str = "application/pdf") -> bytes:
        """GET /drive/v3/files/{fileId}/export?mimeType=... — the file converted (PDF), as bytes."""
        url = f"{api_root('google_drive')}/drive/v3/files/{quote(file_id, safe='')}/export"
        response = self._send(
            "GET", url, what=f"the file {file_id}", params={"mimeType": mime_type}, headers={"Accept": mime_type}
        )
        return response.content

    def drive_upload(self, *, name: str, data: bytes, mime_type: str, folder_id: str, step: str) -> dict:
        """POST /upload/drive/v3/files?uploadType=multipart — metadata part (JSON) then the media part."""
        url = f"{api_root('google_drive')}/upload/drive/v3/files"
        metadata = {"name": name, "parents": [folder_id], "mimeType": mime_type, "appProperties": {STEP_PROPERTY: step}}
        boundary = f"docg-{uuid.uuid4().hex}"
        body = b"".join(
            [
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
                json.dumps(metadata).encode(),
                f"\r\n--{boundary}\r\nContent-Type: {mime_type}\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        params = {"uploadType": "multipart", "supportsAllDrives": "true", "fields": "id,name,mimeType,webViewLink"}
        headers = {"Content-Type": f"multipart/related; boundary={boundary}"}
        return self._json("POST", url, what=f"the folder {folder_id}", params=params, content=body, headers=headers)

    # --- Docs / Slides ----------------------------------------------------------------

    def docs_batch_update(self, *, document_id: str, requests: list[dict]) -> dict:
        """POST /v1/documents/{documentId}:batchUpdate."""
        url = f"{api_root('google_docs')}/v1/documents/{quote(document_id, safe='')}:batchUpdate"
        return self._json("POST", url, what=f"the document {document_id}", json={"requests": requests})

    def slides_batch_update(self, *, presentation_id: str, requests: list[dict]) -> dict:
        """POST /v1/presentations/{presentationId}:batchUpdate."""
        url = f"{api_root('google_slides')}/v1/presentations/{quote(presentation_id, safe='')}:batchUpdate"
        return self._json("POST", url, what=f"the presentation {presentation_id}", json={"requests": requests})

    # --- Gmail -------------------------------------------------------------------

    def gmail_send_as(self) -> list[str]:
        """GET /gmail/v1/users/me/settings/sendAs — the account's address and the aliases Gmail verified."""
        url = f"{api_root('gmail')}/gmail/v1/users/me/settings/sendAs"
        answer = self._json("GET", url, what="the Gmail account's send-as addresses")
        return [
            str(alias.get("sendAsEmail") or "")
            for alias in answer.get("sendAs") or []
            if alias.get("isPrimary") or alias.get("verificationStatus", "accepted") == "accepted"
        ]

    def gmail_send(self, *, raw: str) -> dict:
        """POST /gmail/v1/users/me/messages/send with {"raw": base64url RFC 2822 message}."""
        url = f"{api_root('gmail')}/gmail/v1/users/me/messages/send"
        return self._json("POST", url, what="the e-mail", json={"raw": raw})

    # --- Forms -------------------------------------------------------------------

    def forms_list_responses(self, *, form_id: str, since: str = "", page_token: str = "") -> dict:
        """GET /v1/forms/{formId}/responses?filter=timestamp >= N — one page of responses."""
        url = f"{api_root('google_forms')}/v1/forms/{quote(form_id, safe='')}/responses"
        params = {}
        if since:
            # ">=" and not ">": responses sharing the watermark's timestamp are not lost (dedupe drops repeats).
            params["filter"] = f"timestamp >= {since}"
        if page_token:
            params["pageToken"] = page_token
        return self._json("GET", url, what=f"the form {form_id}", params=params)


def _quoted(value: str) -> str:
    # Drive query strings escape ' and \ with a backslash.
    return value.replace("\\", "\\\\").replace("'", "\\'")
