from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.api.hooks import post_only
from docg.common.errors import DocgError
from docg.providers.stripe.webhooks import stripe_webhook_receive


@post_only
def stripe_webhook(request):
    """POST /hooks/stripe/ → 200 {received, duplicate, outcome}; a bad or stale signature is a 400."""
    try:
        if len(request.body) > settings.API_MAX_BODY_BYTES:
            raise DocgError(
                "request_too_large", f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.", status_code=413
            )
        applied, outcome = stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DocgError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    return JsonResponse({"received": True, "duplicate": not applied, "outcome": outcome})
