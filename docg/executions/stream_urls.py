"""Routes of the live event stream.

The two stream routes are answered by `sse.SSEApplication` in front of Django
(config/asgi.py); their patterns here give them a name for reverse() and the
route walkers. A request that reaches Django on them was not served through
config.asgi (WSGI, Django's test client) and gets a 404 in the API's error shape.
"""

from django.urls import path

from docg.common.api.errors import error_body
from docg.executions import sse
from docg.executions.api_stream_token import StreamTokenViewSet


def _served_by_asgi(request, pk=None):
    from django.http import JsonResponse

    return JsonResponse(error_body("not_found", "Live streams are served by the ASGI application."), status=404)


urlpatterns = [
    path(
        "executions/<uuid:pk>/stream-token",
        StreamTokenViewSet.as_view({"post": "issue"}),
        name="execution-stream-token",
    ),
    path("sse/executions/<uuid:pk>/stream", _served_by_asgi, name="sse-execution-stream"),
    path("sse/stream", _served_by_asgi, name="sse-organization-stream"),
    path("sse/health", sse.health, name="sse-health"),
]
