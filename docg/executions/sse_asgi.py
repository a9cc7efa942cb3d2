"""The SSE routes served straight from ASGI, next to Django rather than through it.

Django's async views still run their middleware through sync_to_async, which
keeps one thread per request alive for as long as the response streams: one
idle thread per open stream. This app serves the same two stream URLs with the
same auth and event source as the Django views (docg.executions.sse), holding
no thread and no database connection while a stream is open. Everything else
goes to Django.
"""

import asyncio
import json
import re
import uuid
from urllib.parse import parse_qs

from django.conf import settings
from django.http import parse_cookie

from docg.common.api.errors import error_body
from docg.common.errors import DocgError
from docg.executions import sse
from docg.executions.stream_auth import caller_from_credentials

EXECUTION_STREAM = re.compile(r"^/api/v1/sse/executions/(?P<pk>[0-9a-fA-F-]{36})/stream/?$")
ORGANIZATION_STREAM = re.compile(r"^/api/v1/sse/stream/?$")


class SSEApplication:
    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.fallback(scope, receive, send)
        path = scope["path"]
        execution_match = EXECUTION_STREAM.match(path)
        if execution_match is None and not ORGANIZATION_STREAM.match(path):
            return await self.fallback(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        last = headers.get("last-event-id") or (query.get("last_event_id") or [""])[0]
        try:
            organization_header = headers.get("x-organization-id", "")
            if not execution_match:
                organization_header = sse.organization_choice(
                    organization_header, (query.get("organization") or [""])[0]
                )
            caller = await sse.in_thread(
                lambda: caller_from_credentials(
                    token=(query.get("token") or [""])[0],
                    authorization=headers.get("authorization", ""),
                    session_key=parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME, ""),
                    organization_header=organization_header,
                )
            )
            if execution_match:
                pk = str(uuid.UUID(execution_match["pk"]))  # ValueError (a 404 below) for 36 dashes
                if caller.execution_id is not None and caller.execution_id != pk.lower():
                    raise DocgError(
                        "stream_token_invalid", "This stream token is for another execution.", status_code=401
                    )
                execution = await sse.find_execution(pk, caller.organization_id)
                body = sse.execution_sse(execution, last)
            else:
                if caller.execution_id is not None:
                    raise DocgError(
                        "stream_token_invalid", "This stream token is for one execution only.", status_code=401
                    )
                body = sse.organization_sse(caller.organization_id, last)
        except DocgError as exc:
            return await _json(send, exc.status_code, error_body(exc.code, exc.message, exc.details))
        except ValueError:
            return await _json(send, 404, error_body("not_found", "Not found."))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        await _stream(body, receive, send)


async def _json(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _stream(body, receive, send) -> None:
    """Send chunks until the generator ends or the client goes away (then stop the generator)."""

    async def pump():
        async for chunk in body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def disconnected():
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping = asyncio.ensure_future(pump())
    watching = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
        await asyncio.gather(pumping, watching, return_exceptions=True)
        await body.aclose()
