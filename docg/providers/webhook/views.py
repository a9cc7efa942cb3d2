from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.api.hooks import post_only
from docg.common.errors import DocgError
from docg.providers.webhook.webhooks import webhook_receive


@post_only
def catch_hook(request, workflow_id, secret):
    """POST /hooks/{workflow_id}/{secret} → 202 {execution_id, status} (200 for a repeated delivery)."""
    try:
        if len(request.body) > settings.API_MAX_BODY_BYTES:
            raise DocgError(
                "request_too_large", f"The body is larger than {settings.API_MAX_BODY_BYTES} bytes.", status_code=413
            )
        execution, created = webhook_receive(
            workflow_id=workflow_id,
            secret=secret,
            raw=request.body,
            content_type=request.content_type or "",
            headers={k.lower(): v for k, v in request.headers.items()},
        )
    except DocgError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    return JsonResponse(
        {"execution_id": str(execution.pk), "status": execution.status, "duplicate": not created},
        status=202 if created else 200,
    )
