"""An OpenAI-compatible chat-completions client: JSON-schema answers, timeouts, classified errors.

The base URL comes from the organization's connection, so every request goes
through the SSRF guard. Errors come out as DocgError: a bad key (401/403)
and a wrong URL or model (404) are permanent; 429 is a transient `rate_limit`
(Retry-After kept in the details); 5xx, timeouts and network errors are
transient and retried by the engine.
"""

import json
from dataclasses import dataclass
from typing import Any

import httpx
from django.utils.translation import gettext_lazy as _

from docg.common.errors import DocgError
from docg.common.ssrf import BlockedAddress, guarded_request
from docg.connectors.errors import (  # retry_after_seconds: still importable from here
    MessageCatalog,
    retry_after_seconds,  # noqa: F401
)
from docg.connectors.http import ProviderCodes, network_error
from docg.connectors.http import status_error as http_status_error

DEFAULT_TIMEOUT_SECONDS = 60.0
SCHEMA_NAME = "docg_extract"

# code → (English, Brazilian Portuguese); `{summary}` says what went wrong.
MESSAGES = {
    "ai.unauthorized": _("The AI provider refused the API key (%(summary)s); check the API key of the AI connection."),
    "ai.not_found": _(
        "The AI provider does not know this address or model (%(summary)s); check the base URL and the model."
    ),
    "ai.bad_request": _("The AI provider refused the request: %(summary)s"),
    "ai.quota_exceeded": _(
        "The AI account has no quota left (%(summary)s); check the plan and billing of the AI provider."
    ),
    "rate_limit": _("The AI provider is limiting requests (%(summary)s); docg will try again."),
    "ai.unavailable": _("Could not get an answer from the AI provider (%(summary)s); docg will try again."),
    "ai.blocked_address": _("The AI connection's base URL is not allowed: %(summary)s"),
    "ai.refused": _("The AI model refused to answer: %(summary)s"),
    "ai.invalid_output": _("The AI answer does not match the expected schema: %(summary)s"),
}


_CATALOG = MessageCatalog(MESSAGES)
ai_error = _CATALOG.error
translate = _CATALOG.translate


def _provider_error_in(body: Any) -> dict[str, Any]:
    """OpenAI's `{"error": {"message", "type", "code"}}`, or the start of whatever came back."""
    if isinstance(body, str):
        return {"message": body[:500]}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return {k: error.get(k) for k in ("message", "type", "code", "param") if error.get(k) is not None}
    if isinstance(error, str):
        return {"message": error}
    return {"message": json.dumps(body)[:500]}


@dataclass(frozen=True)
class AiClient:
    base_url: str
    api_key: str
    correlation_id: str = ""

    def _url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def chat_completion(
        self, messages: list[dict], json_schema: dict, model: str, timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> Any:
        """`POST {base_url}/chat/completions` with a strict JSON-schema response format; the parsed answer."""
        url = self._url("chat/completions")
        payload = {
            "model": model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "schema": json_schema, "strict": True},
            },
        }
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Correlation-ID": self.correlation_id,
        }
        tech: dict[str, Any] = {"url": url, "model": model}
        try:
            response = guarded_request("POST", url, timeout=timeout, json=payload, headers=headers)
        except BlockedAddress as exc:
            raise ai_error("ai.blocked_address", str(exc), tech) from exc
        except httpx.HTTPError as exc:
            raise network_error(exc, codes=CODES, error=_error_maker(timeout), tech=tech) from exc
        tech["request_id"] = response.headers.get("x-request-id", "")
        if response.status_code >= 400:
            raise status_error(response, tech)
        return _parse(response, tech)


CODES = ProviderCodes(
    unavailable="ai.unavailable",
    rejected="ai.bad_request",
    unauthorized="ai.unauthorized",
    not_found="ai.not_found",
    conflict="ai.unavailable",
)


def _error_maker(timeout: float = DEFAULT_TIMEOUT_SECONDS):
    def error(code: str, tech: dict, transient: bool) -> DocgError:
        status = tech.get("status_code")
        if status is None:  # no answer
            exception, message = tech.get("exception", ""), tech.get("message", "")
            timed_out = str(exception).endswith("Timeout")
            summary = f"no answer within {timeout:g} s" if timed_out else f"{exception}: {message}".rstrip(": ")
            return ai_error(code, summary, tech, transient=transient)
        provider = _provider_error_in(tech.pop("body"))
        tech = {**tech, "status": status, "provider_error": provider}
        if code == "rate_limit" and "insufficient_quota" in (provider.get("code"), provider.get("type")):
            code, transient = "ai.quota_exceeded", False
            tech = {k: v for k, v in tech.items() if not k.startswith("retry_after")}
        summary = f"HTTP {status}" + (f": {provider['message']}" if provider.get("message") else "")
        return ai_error(code, summary, tech, transient=transient)

    return error


def status_error(response: httpx.Response, tech: dict) -> DocgError:
    """The DocgError for an error answer of an OpenAI-compatible API."""
    return http_status_error(response, codes=CODES, error=_error_maker(), tech=tech)


def _parse(response: httpx.Response, tech: dict) -> Any:
    try:
        body = response.json()
        choice = body["choices"][0]
        message = choice["message"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ai_error(
            "ai.invalid_output",
            "the provider's answer has no choices[0].message",
            {**tech, "body": response.text[:2000]},
        ) from exc
    tech = {**tech, "finish_reason": choice.get("finish_reason"), "usage": body.get("usage")}
    if message.get("refusal"):
        raise ai_error("ai.refused", str(message["refusal"]), tech)
    content = message.get("content")
    try:
        return json.loads(content)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = " (the answer was cut off)" if choice.get("finish_reason") == "length" else ""
        raise ai_error(
            "ai.invalid_output", f"the answer is not JSON{reason}: {exc}", {**tech, "content": str(content)[:2000]}
        ) from exc
