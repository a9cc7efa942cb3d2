from django.http import JsonResponse

from docg.common.api.hooks import post_only
from docg.providers.stripe.webhooks import stripe_webhook_receive


@post_only
def stripe_webhook(request):
    """POST /hooks/stripe/ → 200 {received, duplicate, outcome}; a bad or stale signature is a 400."""
    applied, outcome = stripe_webhook_receive(
        payload=request.body, signature=request.headers.get("Stripe-Signature", "")
    )
    return JsonResponse({"received": True, "duplicate": not applied, "outcome": outcome})
