from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.api.hooks import post_only
from docg.common.errors import DocgError
from docg.providers.zapsign.webhooks import SECRET_HEADER, authenticate, handle_delivery, parse


@post_only
def zapsign_hook(request, connection_id, token):
    """POST /hooks/zapsign/{connection_id}/{token} with X-Docg-Webhook-Secret → 200 {changed, completed}."""
    try:
        connection = authenticate(
            connection_id=connection_id, token=token, header_secret=request.headers.get(SECRET_HEADER, "")
        )
        if len(request.body) > settings.API_MAX_BODY_BYTES:
            raise DocgError(
                "request_too_large", f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.", status_code=413
            )
        outcome = handle_delivery(connection=connection, data=parse(request.body))
    except DocgError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    return JsonResponse(outcome, status=200)
