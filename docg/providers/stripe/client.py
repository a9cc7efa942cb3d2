"""Stripe API client: one method per endpoint, errors classified as transient or permanent.

Built on stripe-python's StripeClient pointed at `settings.CONNECTOR_API_ROOTS["stripe"]`
(an operator-configured root, so no SSRF guard). The library's own retries are off:
docg's engine retries transient errors itself, with the step's Idempotency-Key, so a
retried call never creates a second object at Stripe.
"""

from typing import Any

import stripe
from django.conf import settings

from docg.common.errors import DocgError
from docg.connectors.errors import retry_after_details

# The API version the payloads below were written against (stripe-python 16's default).
API_VERSION = stripe.api_version


def _error_for(exc: stripe.StripeError, tech: dict) -> DocgError:
    status = exc.http_status
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    tech = {
        **tech,
        "status_code": status,
        "exception": type(exc).__name__,
        "stripe_code": error.get("code") or exc.code,
        "stripe_type": error.get("type"),
        "request_id": exc.request_id,
        "stripe_message": error.get("message") or exc.user_message,
    }
    message = str(error.get("message") or "")
    if isinstance(exc, stripe.AuthenticationError) or status == 401:
        return DocgError("stripe.unauthorized", "Stripe refused the API key (401): check the connection.", tech)
    if isinstance(exc, stripe.PermissionError) or status == 403:
        return DocgError("stripe.forbidden", "The Stripe API key may not do this (403).", tech)
    if isinstance(exc, stripe.CardError) or status == 402:
        return DocgError("stripe.card_error", f"Stripe declined the request: {message or 'card error'}.", tech)
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        tech.update(retry_after_details(exc.headers))
        return DocgError(
            "stripe.rate_limited", "Stripe is rate limiting docg; docg will try again.", tech, transient=True
        )
    if isinstance(exc, stripe.APIConnectionError):
        return DocgError("stripe.unavailable", "Could not reach Stripe; docg will try again.", tech, transient=True)
    if isinstance(exc, stripe.IdempotencyError):
        return DocgError(
            "stripe.idempotency_conflict",
            "Stripe saw this request before with different parameters; the step's input changed between attempts.",
            tech,
        )
    if status is None or status >= 500:
        return DocgError(
            "stripe.unavailable", f"Stripe is unavailable ({status}); docg will try again.", tech, transient=True
        )
    return DocgError("stripe.rejected", f"Stripe refused the request ({status}): {message}".rstrip(": "), tech)


class StripeApi:
    """The few Stripe endpoints docg calls, with one API key (the platform's or an organization's)."""

    def __init__(self, api_key: str, *, headers: dict[str, str] | None = None, timeout: float | None = None):
        if not api_key:
            raise DocgError("stripe.misconfigured", "No Stripe API key is configured.", {"missing": "api_key"})
        self.headers = {k: v for k, v in (headers or {}).items() if k.lower() != "idempotency-key"}
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": settings.CONNECTOR_API_ROOTS["stripe"]},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout or settings.STRIPE_TIMEOUT_SECONDS),
        )

    def _call(self, path: str, create: Any, params: dict, idempotency_key: str = "") -> dict:
        options: dict[str, Any] = {"headers": self.headers}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        tech = {"method": "POST", "path": path}
        try:
            answer = create(params=params, options=options)
        except stripe.StripeError as exc:
            raise _error_for(exc, tech) from exc
        return answer.to_dict()

    def create_customer(self, *, name: str, email: str = "", metadata: dict, idempotency_key: str = "") -> dict:
        """POST /v1/customers."""
        params: dict[str, Any] = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        return self._call("/v1/customers", self.client.v1.customers.create, params, idempotency_key)

    def create_checkout_session(self, params: dict, *, idempotency_key: str = "") -> dict:
        """POST /v1/checkout/sessions."""
        return self._call("/v1/checkout/sessions", self.client.v1.checkout.sessions.create, params, idempotency_key)

    def create_portal_session(self, *, customer: str, return_url: str) -> dict:
        """POST /v1/billing_portal/sessions."""
        params = {"customer": customer, "return_url": return_url}
        return self._call("/v1/billing_portal/sessions", self.client.v1.billing_portal.sessions.create, params)

    def create_price(self, *, product_name: str, unit_amount: int, currency: str, idempotency_key: str) -> dict:
        """POST /v1/prices, with the product made inline."""
        params = {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": product_name}}
        return self._call("/v1/prices", self.client.v1.prices.create, params, idempotency_key)

    def create_payment_link(self, *, price: str, quantity: int, metadata: dict, idempotency_key: str) -> dict:
        """POST /v1/payment_links."""
        params = {"line_items": [{"price": price, "quantity": quantity}], "metadata": metadata}
        return self._call("/v1/payment_links", self.client.v1.payment_links.create, params, idempotency_key)
