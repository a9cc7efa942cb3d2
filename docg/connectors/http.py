"""One mapping from httpx failures to DocgError, shared by every provider client.

What is transient is decided here once: no answer (timeouts, refused or dropped connections),
429 (with the provider's Retry-After, which the engine waits for), 408 and 5xx. 401 is the
provider's `unauthorized` code (`oauth_expired` for OAuth providers: reconnect), 403 its
`forbidden`, 404 its `not_found`, any other 4xx its permanent `rejected`. A provider keeps its
own codes and its own words: it names the codes in a `ProviderCodes` and builds the error (its
message catalog) from the code and the technical details this module gathers.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from docg.common.errors import DocgError
from docg.connectors.errors import retry_after_details

# (code, technical details, transient) → the provider's DocgError, worded by its catalog.
ErrorMaker = Callable[[str, dict[str, Any], bool], DocgError]


@dataclass(frozen=True)
class ProviderCodes:
    """A provider's error code for each kind of failure; an empty code falls back as documented."""

    unavailable: str  # no answer, 408, 5xx
    rejected: str  # any other 4xx
    timeout: str = ""  # no answer in time; else `unavailable`
    unauthorized: str = ""  # 401; else `rejected`
    forbidden: str = ""  # 403; else `unauthorized`, else `rejected`
    not_found: str = ""  # 404; else `rejected`
    conflict: str = ""  # 409, transient (another write in flight); else `rejected`, permanent
    rate_limit: str = "rate_limit"  # 429

    def for_status(self, status: int) -> tuple[str, bool]:
        """(code, transient) for an HTTP error status."""
        if status == 429:
            return self.rate_limit, True
        if status == 408 or status >= 500:
            return self.unavailable, True
        if status == 409 and self.conflict:
            return self.conflict, True
        if status == 401:
            return self.unauthorized or self.rejected, False
        if status == 403:
            return self.forbidden or self.unauthorized or self.rejected, False
        if status == 404:
            return self.not_found or self.rejected, False
        return self.rejected, False


def response_body(response: httpx.Response) -> Any:
    """The answer's JSON, else the start of its text (error bodies are not always JSON)."""
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def status_error(
    response: httpx.Response, *, codes: ProviderCodes, error: ErrorMaker, tech: dict[str, Any]
) -> DocgError:
    """The DocgError for an error answer (status ≥ 400): `tech` gains status_code, body and Retry-After."""
    code, transient = codes.for_status(response.status_code)
    tech = {**tech, "status_code": response.status_code, "body": response_body(response)}
    tech.update(retry_after_details(response.headers))
    return error(code, tech, transient)


def network_error(exc: httpx.HTTPError, *, codes: ProviderCodes, error: ErrorMaker, tech: dict[str, Any]) -> DocgError:
    """The DocgError for a request that got no answer: always transient."""
    tech = {**tech, "exception": type(exc).__name__, "message": str(exc)[:500]}
    timed_out = isinstance(exc, httpx.TimeoutException)
    return error((codes.timeout or codes.unavailable) if timed_out else codes.unavailable, tech, True)
