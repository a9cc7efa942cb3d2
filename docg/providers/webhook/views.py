from django.http import JsonResponse

from docg.common.api.hooks import post_only
from docg.providers.webhook.webhooks import webhook_receive


@post_only
def catch_hook(request, workflow_id, secret):
    """POST /hooks/{workflow_id}/{secret} → 202 {execution_id, status} (200 for a repeated delivery)."""
    execution, created = webhook_receive(
        workflow_id=workflow_id,
        secret=secret,
        raw=request.body,
        content_type=request.content_type or "",
        headers={k.lower(): v for k, v in request.headers.items()},
    )
    return JsonResponse(
        {"execution_id": str(execution.pk), "status": execution.status, "duplicate": not created},
        status=202 if created else 200,
    )
