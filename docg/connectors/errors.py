"""Connector error catalogs (gettext), and the provider's Retry-After read once for every client."""

import datetime
import email.utils
import math
import time
from collections.abc import Mapping
from typing import Any

from docg.common.errors import DocgError, translated


class MessageCatalog:
    """A connector's error messages (gettext msgids with a `%(summary)s` placeholder), keyed by code.

    Errors are raised in English with a language-neutral `summary` kept in the details;
    the action translates them for the organization (clients have no organization to ask).
    """

    def __init__(self, messages: dict[str, Any]):
        self.messages = messages

    def error(self, code: str, summary: str, tech: dict | None = None, *, transient: bool = False) -> DocgError:
        message = translated(self.messages[code], "en", summary=summary)
        return DocgError(code, message, {**(tech or {}), "summary": summary}, transient=transient)

    def translate(self, error: DocgError, language: str) -> str:
        template = self.messages.get(error.code)
        if template is None or "summary" not in error.details:
            return error.human
        return translated(template, language, summary=error.details["summary"])


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now: either a number of seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000" parses as naive; HTTP dates are always GMT
            when = when.replace(tzinfo=datetime.UTC)
        seconds = float(math.ceil(when.timestamp() - time.time()))  # whole seconds, never earlier than asked
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def retry_after_details(headers: Mapping[str, str] | None) -> dict[str, Any]:
    """details_tech entries for a response's Retry-After: the raw header and `retry_after_seconds`.

    The engine reads `retry_after_seconds` to wait at least that long before the next attempt.
    """
    raw = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after") or ""
    if not raw:
        return {}
    return {"retry_after": raw, "retry_after_seconds": retry_after_seconds(raw)}
