"""Every connector client reports a 429's Retry-After under one key the engine reads: `retry_after_seconds`."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import stripe

from docg.connectors.errors import retry_after_details, retry_after_seconds
from docg.providers.ai import client as ai
from docg.providers.clicksign import client as clicksign
from docg.providers.google import client as google
from docg.providers.hubspot import client as hubspot
from docg.providers.microsoft import client as microsoft
from docg.providers.stripe import client as stripe_client
from docg.providers.zapsign import client as zapsign


def _429(retry_after: str) -> httpx.Response:
    request = httpx.Request("GET", "https://provider.example/v1/thing")
    body = {"error": {"code": 429, "message": "Too many requests", "status": "RESOURCE_EXHAUSTED"}}
    return httpx.Response(429, json=body, headers={"Retry-After": retry_after}, request=request)


CLASSIFIERS = {
    "ai": lambda r: ai.status_error(r, {}),
    "clicksign": lambda r: clicksign.error_for(r, {}),
    "google": lambda r: google.status_error(r, what="Drive copy", tech={}),
    "hubspot": lambda r: hubspot.error_for(r, {}),
    "microsoft": lambda r: microsoft.error_for(r, {}, what="Graph upload"),
    "zapsign": lambda r: zapsign._error_for(r, {}),
    "stripe": lambda r: stripe_client._error_for(
        stripe.RateLimitError("Too many requests", http_status=429, json_body={}, headers=dict(r.headers)), {}
    ),
}


@pytest.mark.parametrize("provider", sorted(CLASSIFIERS))
def test_a_429_keeps_retry_after_in_seconds_and_is_transient(provider):
    error = CLASSIFIERS[provider](_429("30"))
    assert error.transient
    assert (error.details["retry_after"], error.details["retry_after_seconds"]) == ("30", 30.0)


def test_retry_after_reads_seconds_and_http_dates():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 115 < retry_after_seconds(soon) <= 121
    assert retry_after_seconds(" 7 ") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: retry now
    assert retry_after_seconds("-5") == 0.0
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert retry_after_seconds(unreadable) is None


def test_retry_after_details_is_empty_without_the_header():
    assert retry_after_details(httpx.Headers({})) == {}
    assert retry_after_details(None) == {}
    assert retry_after_details({"retry-after": "3"}) == {"retry_after": "3", "retry_after_seconds": 3.0}
