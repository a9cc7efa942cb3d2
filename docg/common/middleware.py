from django.conf import settings

from docg.common.api.errors import error_body


class ApiBodyLimitMiddleware:
    """Refuse oversized API bodies up front, before anything reads them into memory."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            limit = self._limit_for(request.path)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                from django.http import JsonResponse

                return JsonResponse(
                    error_body("request_too_large", f"The request body is larger than {limit} bytes."),
                    status=413,
                )
        return self.get_response(request)

    @staticmethod
    def _limit_for(path: str) -> int:
        # Template uploads carry documents; everything else is small JSON.
        if path.startswith("/api/v1/templates"):
            return settings.TEMPLATE_MAX_UPLOAD_BYTES + 64 * 1024
        return settings.API_MAX_BODY_BYTES
