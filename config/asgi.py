"""ASGI entry point: HTTP (including the async SSE views), static files and websockets.

Every HTTP middleware is async-capable, so streaming views stay on the event
loop; static files are served at the ASGI layer for the same reason.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from config.websockets import websocket_urlpatterns  # noqa: E402
from docg.common.body_limit import BodyLimitMiddleware  # noqa: E402
from docg.common.websocket_origin import allowed_origins_only  # noqa: E402
from docg.executions.sse_asgi import SSEApplication  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Live streams are served beside Django (no thread or connection per open stream).
        # Oversized bodies are refused as they arrive, before Django reads them into memory.
        "http": BodyLimitMiddleware(SSEApplication(ASGIStaticFilesHandler(django_asgi_app))),
        "websocket": allowed_origins_only(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
