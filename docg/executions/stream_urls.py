"""Routes of the live event stream (async views; not DRF)."""

from django.urls import path

from docg.executions import sse
from docg.executions.api_stream_token import StreamTokenViewSet

urlpatterns = [
    path(
        "executions/<uuid:pk>/stream-token",
        StreamTokenViewSet.as_view({"post": "issue"}),
        name="execution-stream-token",
    ),
    path("sse/executions/<uuid:pk>/stream", sse.execution_stream, name="sse-execution-stream"),
    path("sse/stream", sse.organization_stream, name="sse-organization-stream"),
    path("sse/health", sse.health, name="sse-health"),
]
