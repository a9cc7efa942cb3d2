"""`Test connection` for the AI app: GET {base_url}/models with the API key, through the SSRF guard.

200 → ok; 401/403 → `ai.unauthorized` (fix the key); 429 → `rate_limit`;
5xx, timeouts and network errors → `ai.unavailable` (try again later); a
base URL that points at a private address → `ai.blocked_address`.

404 is ok with a warning (code `ai.models_not_listed`, details.warning): some
OpenAI-compatible servers (self-hosted gateways, some vendors) do not serve
/models, and failing the test would mark a connection that runs fine as
broken. The message says the key was not verified and to check the base URL
if runs fail with `ai.not_found`.
"""

import uuid

import httpx
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError, translated
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.health import ConnectionTestResult
from docg.connectors.models import DataSourceConnection
from docg.providers.ai.client import AiClient, ai_error, status_error, translate

CHECK_TIMEOUT_SECONDS = 15.0


def _models(client: AiClient) -> httpx.Response:
    url = client._url("models")
    headers = {
        "Authorization": f"Bearer {client.api_key}",
        "Accept": "application/json",
        "X-Correlation-ID": client.correlation_id,
    }
    tech = {"url": url}
    try:
        return guarded_request("GET", url, timeout=CHECK_TIMEOUT_SECONDS, headers=headers)
    except BlockedAddress as exc:
        raise ai_error("ai.blocked_address", str(exc), tech) from exc
    except httpx.HTTPError as exc:
        summary = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ai_error("ai.unavailable", summary, {**tech, "exception": type(exc).__name__}, transient=True) from exc


def ai_check(connection: DataSourceConnection) -> ConnectionTestResult:
    language = connection.organization.language
    base_url = str((connection.config or {}).get("base_url") or "").strip()
    api_key = str((connection.credentials or {}).get("api_key") or "").strip()
    if not base_url or not api_key:
        missing = ", ".join(name for name, value in (("base_url", base_url), ("api_key", api_key)) if not value)
        message = translated(_("The AI connection is not set up: %(missing)s is missing."), language, missing=missing)
        return ConnectionTestResult(False, "ai.misconfigured", message, {"missing": missing})
    client = AiClient(base_url=base_url, api_key=api_key, correlation_id=str(uuid.uuid4()))
    try:
        response = _models(client)
        if response.status_code == 404:
            message = translated(
                _(
                    "docg reached the AI server, but it does not list its models at /models, so the API key "
                    "could not be verified. Many OpenAI-compatible servers work this way; if runs fail with "
                    "'not found', check the base URL."
                ),
                language,
            )
            details = {"warning": True, "status": 404, "url": client._url("models")}
            return ConnectionTestResult(True, "ai.models_not_listed", message, details)
        if response.status_code >= 400:
            raise status_error(response, {"url": client._url("models")})
    except DocgError as exc:
        details = {"transient": exc.transient, "status": exc.details.get("status")}
        return ConnectionTestResult(False, exc.code, translate(exc, language), details)
    try:
        body = response.json()
    except ValueError:
        body = {}
    models = [m.get("id") for m in (body.get("data") or []) if isinstance(m, dict)] if isinstance(body, dict) else []
    message = translated(_("The AI provider accepted the API key."), language)
    return ConnectionTestResult(True, "ok", message, {"models": len(models)})
