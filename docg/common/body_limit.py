"""Request bodies are refused past their route's limit as they arrive, for every route.

Django's ASGI handler reads the whole body before any middleware or view runs,
so a Django middleware only sees what is already in memory (or spooled). This
ASGI middleware sits in front of it: a declared Content-Length over the limit is
answered 413 without reading a byte, and an undeclared (chunked) body is
counted while it streams and cut off at the limit. Under a server with flow
control (uvicorn), unread bytes then stay in the kernel's socket buffer.
"""

import json

from django.conf import settings

from docg.common.api.errors import error_body

# Dashboard and admin forms may carry a template file; nothing else is larger than API JSON.
_UPLOAD_PREFIXES = ("/api/v1/templates",)
_API_PREFIXES = ("/api/", "/hooks/")


def body_limit_for(path: str) -> int:
    """The largest request body, in bytes, that `path` accepts."""
    upload = settings.TEMPLATE_MAX_UPLOAD_BYTES + 64 * 1024
    if path.startswith(_UPLOAD_PREFIXES):
        return upload
    if path.startswith(_API_PREFIXES):
        return settings.API_MAX_BODY_BYTES
    return upload


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            return await _refuse(send, limit, malformed=declared < 0)

        received = 0
        refused = False
        started = False

        async def limited_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _refuse(send, limit)
                    # The application sees a client that left: Django stops reading and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


async def _refuse(send, limit: int, *, malformed: bool = False) -> None:
    if malformed:
        status, body = 400, error_body("request_malformed", "The Content-Length header is not a number.")
    else:
        status, body = 413, error_body("request_too_large", f"The request body is larger than {limit} bytes.")
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
