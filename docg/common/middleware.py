from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import JsonResponse

from docg.common.api.errors import error_body


class ApiBodyLimitMiddleware:
    """Refuse oversized API bodies up front, before anything reads them into memory.

    Sync and async capable, so async views (SSE) keep running on the event loop
    instead of being pushed into a thread by an adapter.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        return self._refusal(request) or await self.get_response(request)

    def _refusal(self, request) -> JsonResponse | None:
        if not request.path.startswith(("/api/", "/hooks/")):
            return None
        limit = self._limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                error_body("request_too_large", f"The request body is larger than {limit} bytes."), status=413
            )
        return None

    @staticmethod
    def _limit_for(path: str) -> int:
        # Template uploads carry documents; everything else is small JSON.
        if path.startswith("/api/v1/templates"):
            return settings.TEMPLATE_MAX_UPLOAD_BYTES + 64 * 1024
        return settings.API_MAX_BODY_BYTES
