from django.conf import settings
from django.http import JsonResponse

from docg.common.api.hooks import post_only
from docg.providers.hubspot import webhooks


@post_only
def hubspot_webhook(request):
    """POST /hooks/hubspot/ (the app's webhook target URL) → 200 {queued, duplicates, ignored}."""
    # The URL HubSpot signed is the public one configured in the app, whatever Host a proxy forwards.
    uri = settings.HUBSPOT_WEBHOOK_BASE_URL + request.get_full_path()
    headers = {k.lower(): v for k, v in request.headers.items()}
    webhooks.verify(method=request.method, uri=uri, body=request.body, headers=headers)
    summary = webhooks.receive(webhooks.parse_events(request.body))
    return JsonResponse(summary, status=200)
