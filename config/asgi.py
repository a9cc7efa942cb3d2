"""ASGI entry point: HTTP, the live SSE streams, static files and websockets.

The SSE stream routes are answered by docg.executions.sse.SSEApplication before
Django (no thread or database connection per open stream; see that module);
static files (ServeStatic, config/static.py) are served at the ASGI layer so they never take a Django thread either.
Every other request runs Django's synchronous handler on a fixed pool of threads, one thread hop per request
(docg.common.sync_http), instead of Django's ASGI handler's thread per request and hop per middleware.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)

from docg.common.sync_http import SyncASGIHandler  # noqa: E402

django_http = SyncASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.static import StaticFilesASGI  # noqa: E402
from config.websockets import websocket_urlpatterns  # noqa: E402
from docg.common.body_limit import BodyLimitMiddleware  # noqa: E402
from docg.common.websocket_origin import allowed_origins_only  # noqa: E402
from docg.executions.sse import SSEApplication  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Live streams are served beside Django (no thread or connection per open stream).
        # Oversized bodies are refused as they arrive, before Django reads them into memory. The streams
        # (GET only, their bodies never read) sit outside it: no wrapper on each event sent to each client.
        "http": SSEApplication(BodyLimitMiddleware(StaticFilesASGI(django_http))),
        "websocket": allowed_origins_only(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
