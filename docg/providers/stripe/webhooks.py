"""Stripe's webhook: the `Stripe-Signature` check, then the event handed to billing.

Authenticated before anything is stored: `t=<unix time>,v1=<hex HMAC-SHA256 of
"t.<raw body>">` with the endpoint's signing secret, and a timestamp no older
than 300 s. stripe-python's verify_header skips the timestamp check unless it
is given a tolerance, so the tolerance is always passed explicitly.
"""

import stripe
from django.conf import settings

from docg.common.errors import DocgError
from docg.common.untrusted import loads_untrusted
from docg.providers.stripe.billing import billing_apply_event


def stripe_event_verify(*, payload: bytes, signature: str) -> dict:
    """The event in `payload` if `signature` proves Stripe sent it recently; else a 400 (503 unconfigured)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise DocgError("stripe.not_configured", "Stripe webhooks are not configured on this server.", status_code=503)
    if not signature.isascii():
        # stripe-python compares str digests with hmac.compare_digest, which raises on non-ASCII.
        raise DocgError("stripe.bad_signature", "The Stripe-Signature header does not match this body.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise DocgError(
            "stripe.bad_signature",
            "The Stripe-Signature header does not match this body, or the delivery is too old.",
            details={"reason": str(exc).split(" (")[0]},
        ) from exc
    except UnicodeDecodeError as exc:
        raise DocgError("stripe.bad_body", "The body is not UTF-8.") from exc
    try:
        event = loads_untrusted(payload)
    except (ValueError, RecursionError) as exc:
        raise DocgError("stripe.bad_body", "The body is not valid JSON.") from exc
    if not isinstance(event, dict):
        raise DocgError("stripe.bad_body", "The body must be a JSON object.")
    return event


def stripe_webhook_receive(*, payload: bytes, signature: str) -> tuple[bool, str]:
    """Verify a delivery and apply its event once; returns (applied, outcome)."""
    event = stripe_event_verify(payload=payload, signature=signature)
    return billing_apply_event(event=event)
