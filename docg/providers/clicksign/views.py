from django.http import JsonResponse

from docg.common.api.hooks import post_only
from docg.providers.clicksign.webhooks import HMAC_HEADER, authenticate, handle_delivery, parse


@post_only
def clicksign_hook(request, connection_id):
    """POST /hooks/clicksign/{connection_id} with Content-Hmac → 200 {changed, completed} (see webhooks.py)."""
    raw = request.body
    connection = authenticate(connection_id=connection_id, raw=raw, signature=request.headers.get(HMAC_HEADER, ""))
    outcome = handle_delivery(connection=connection, raw=raw, data=parse(raw))
    return JsonResponse(outcome, status=200)
