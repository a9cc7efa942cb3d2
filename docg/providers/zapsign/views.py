from django.http import JsonResponse

from docg.common.api.hooks import post_only
from docg.providers.zapsign.webhooks import SECRET_HEADER, authenticate, handle_delivery, parse


@post_only
def zapsign_hook(request, connection_id, token):
    """POST /hooks/zapsign/{connection_id}/{token} with X-Docg-Webhook-Secret → 200 {changed, completed}."""
    connection = authenticate(
        connection_id=connection_id, token=token, header_secret=request.headers.get(SECRET_HEADER, "")
    )
    outcome = handle_delivery(connection=connection, data=parse(request.body))
    return JsonResponse(outcome, status=200)
