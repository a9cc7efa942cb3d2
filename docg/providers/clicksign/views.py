from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.api.hooks import post_only
from docg.common.errors import DocgError
from docg.providers.clicksign.webhooks import HMAC_HEADER, authenticate, handle_delivery, parse


@post_only
def clicksign_hook(request, connection_id):
    """POST /hooks/clicksign/{connection_id} with Content-Hmac → 200 {changed, completed} (see webhooks.py)."""
    try:
        if len(request.body) > settings.API_MAX_BODY_BYTES:
            raise DocgError(
                "request_too_large", f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.", status_code=413
            )
        raw = request.body
        connection = authenticate(connection_id=connection_id, raw=raw, signature=request.headers.get(HMAC_HEADER, ""))
        outcome = handle_delivery(connection=connection, raw=raw, data=parse(raw))
    except DocgError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    return JsonResponse(outcome, status=200)
