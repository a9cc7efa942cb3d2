from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.api.hooks import post_only
from docg.common.errors import DocgError
from docg.providers.hubspot import webhooks


@post_only
def hubspot_webhook(request):
    """POST /hooks/hubspot/ (the app's webhook target URL) → 200 {queued, duplicates, ignored}."""
    try:
        if len(request.body) > settings.API_MAX_BODY_BYTES:
            raise DocgError(
                "request_too_large", f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.", status_code=413
            )
        # The URL HubSpot signed is the public one configured in the app, whatever Host a proxy forwards.
        uri = settings.HUBSPOT_WEBHOOK_BASE_URL + request.get_full_path()
        headers = {k.lower(): v for k, v in request.headers.items()}
        webhooks.verify(method=request.method, uri=uri, body=request.body, headers=headers)
        summary = webhooks.receive(webhooks.parse_events(request.body))
    except DocgError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    return JsonResponse(summary, status=200)
