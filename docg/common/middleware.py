from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import JsonResponse

from docg.common.api.errors import error_body
from docg.common.body_limit import body_limit_for


class ApiBodyLimitMiddleware:
    """Refuse oversized bodies from their Content-Length under WSGI (under ASGI, BodyLimitMiddleware did already).

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
        limit = body_limit_for(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                error_body("request_too_large", f"The request body is larger than {limit} bytes."), status=413
            )
        return None
