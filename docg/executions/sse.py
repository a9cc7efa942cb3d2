"""Server-Sent Events for one execution (and for an organization's list views): the one implementation.

A stream replays strictly after Last-Event-ID, then follows the process's shared
stream reader (hub.py), sends a heartbeat comment every SSE_HEARTBEAT_SECONDS and
closes after the terminal event. When the given id predates what the stream
still holds (trimmed, expired, or from before a Redis data loss) it first sends
`stream.reset` with the run state read from PostgreSQL.

The two stream routes are served by `SSEApplication`, a small ASGI app in front of
Django (config/asgi.py), not by a Django view. Under ASGI, Django runs each
MiddlewareMixin middleware through sync_to_async inside a per-request
ThreadSensitiveContext, which keeps one thread alive for as long as the response
streams: one idle thread per open stream. Measured under uvicorn with 500 clients,
the Django view cost 83 KiB and 8.5 ms of CPU per connection against 33 KiB and
5.1 ms here. Who may read a stream is decided by docg.orgs.tenancy, as for the API.
The Django URL patterns of these routes exist for reverse() only (stream_urls.py).
"""

import asyncio
import json
import re
import uuid
from collections import OrderedDict
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from django.conf import settings
from django.http import JsonResponse, parse_cookie

from docg.common.api.errors import error_body
from docg.common.errors import DocgError
from docg.executions.hub import HEARTBEAT, RESET, get_hub
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL
from docg.executions.streams import (
    execution_key,
    get_streams,
    id_tuple,
    organization_key,
    parse_public_id,
    public_id,
)
from docg.orgs import tenancy

TERMINAL_EVENTS = frozenset({"execution.completed", "execution.failed", "execution.canceled"})
STATE_FIELDS = (
    "status", "progress", "current_step", "last_error_code", "last_error_human", "recommended_actions",
    "phase_metrics", "preflight_summary", "delivery_state", "signature_state", "started_at", "completed_at",
)  # fmt: skip


def run_state(execution: WorkflowExecution) -> dict[str, Any]:
    state = {name: getattr(execution, name) for name in STATE_FIELDS}
    return json.loads(json.dumps({"execution_id": str(execution.pk), **state}, default=str))


class Entry(NamedTuple):
    """A stream entry as the event source hands it on: which stream, which epoch, which id."""

    key: str
    epoch: str
    entry_id: str
    event: dict


# Keyed by (stream, epoch, entry id), never by the id alone: Redis numbers entries per
# stream, so two runs' streams written in the same millisecond hold the same id, and a
# cache keyed by it served one run's (one organization's) event to another run's clients.
_FRAMES: "OrderedDict[tuple[str, str, str], bytes]" = OrderedDict()
_FRAMES_MAX = 4096


def event_frame(key: str, epoch: str, entry_id: str, event: dict) -> bytes:
    """The SSE frame of one entry of stream `key`, encoded once and shared by that stream's clients."""
    cache_key = (key, epoch, entry_id)
    cached = _FRAMES.get(cache_key)
    if cached is None:
        event_id = public_id(epoch, entry_id)
        cached = frame(event["event_type"], {**event, "event_id": event_id}, event_id)
        _FRAMES[cache_key] = cached
        if len(_FRAMES) > _FRAMES_MAX:
            _FRAMES.popitem(last=False)
    return cached


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in json.dumps(data, default=str).splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def needs_reset(last: str, epoch: str, key: str) -> bool:
    """True when events after `last` may be gone: another epoch, an expired stream or trimmed entries."""
    parsed = parse_public_id(last)
    if parsed is None or parsed[0] != epoch:
        return True
    bounds = get_streams().bounds(key)
    if not bounds.exists:
        return True
    # XDEL moves max-deleted-entry-id; trimming (MAXLEN) only moves the first entry,
    # so an id older than the first one retained may have missed trimmed events.
    after = id_tuple(parsed[1])
    return id_tuple(bounds.max_deleted_id) > after or id_tuple(bounds.first_id or "0-0") > after


async def in_thread(function, *args):
    """Run blocking ORM work on the shared pool, then release the connection.

    Streams live for minutes: holding a database connection (or a per-request
    thread, as sync_to_async would) for each open stream does not scale.
    """

    def call():
        from django.db import connections

        try:
            return function(*args)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


async def find_execution(pk, organization_id) -> WorkflowExecution:
    """The execution if it belongs to the organization; otherwise a 404, before any stream opens."""
    execution = await in_thread(
        lambda: WorkflowExecution.objects.filter(pk=pk, organization_id=organization_id).first()
    )
    if execution is None:
        raise DocgError("not_found", "Not found.", status_code=404)
    return execution


def _read_state(execution_id) -> WorkflowExecution:
    from django.db import connections

    try:
        return WorkflowExecution.objects.get(pk=execution_id)
    finally:
        connections.close_all()


async def _current_state(execution_id) -> tuple[dict, bool]:
    # Shared by the clients of one run asking at once (a burst of reconnections reads it once).
    execution = await get_hub().shared(("state", str(execution_id)), _read_state, execution_id)
    return run_state(execution), execution.status in TERMINAL


async def execution_event_source(execution: WorkflowExecution, last: str):
    """(name, data, id, entry) for one execution: replay after `last`, then live; "heartbeat" ticks.

    Stream entries come as `entry` (an Entry) with data None, so the SSE stream can
    reuse one encoded frame for every client of that stream; resets carry `data`.

    Shared by the SSE view and the websocket consumer, so both follow the same replay and reset rules.
    """
    key = execution_key(execution.pk)
    streams = get_streams()
    hub = get_hub()
    subscription = await hub.subscribe(key)
    try:
        epoch = await hub.shared("epoch", streams.epoch)
        yield "ready", None, None, None  # subscribed: nothing published from now on can be missed
        sent = "0-0"
        if last and await asyncio.to_thread(needs_reset, last, epoch, key):
            state, finished = await _current_state(execution.pk)
            bounds = await asyncio.to_thread(streams.bounds, key)
            sent = bounds.last_id or "0-0"
            yield "stream.reset", state, public_id(epoch, sent), None
            if finished:
                return
        else:
            after = parse_public_id(last)[1] if last else "0-0"
            for entry_id, event in await hub.read(key, after):
                sent = entry_id
                yield event["event_type"], None, public_id(epoch, entry_id), Entry(key, epoch, entry_id, event)
                if event["event_type"] in TERMINAL_EVENTS:
                    return
            if sent == "0-0":
                # Nothing more will come for a run that has already ended (e.g. its stream expired).
                state, finished = await _current_state(execution.pk)
                if finished:
                    yield "stream.reset", state, public_id(epoch, "0-0"), None
                    return
        async for entry_id, event in _live(subscription, sent):
            if entry_id is None:
                yield "heartbeat", None, None, None
            elif entry_id == RESET:
                epoch = await hub.shared("epoch", streams.epoch)
                state, finished = await _current_state(execution.pk)
                yield "stream.reset", state, public_id(epoch, "0-0"), None
                if finished:
                    return
            else:
                yield event["event_type"], None, public_id(epoch, entry_id), Entry(key, epoch, entry_id, event)
                if event["event_type"] in TERMINAL_EVENTS:
                    return
    finally:
        subscription.close()


async def execution_sse(execution: WorkflowExecution, last: str):
    async for name, data, event_id, entry in execution_event_source(execution, last):
        if name == "ready":
            yield f"retry: {settings.SSE_RETRY_MS}\n\n".encode()
        elif name == "heartbeat":
            yield b": heartbeat\n\n"
        else:
            yield event_frame(*entry) if entry else frame(name, data, event_id)


async def _live(subscription, sent: str):
    """Entries after `sent` as they arrive; (None, None) for each heartbeat; ends if the client fell behind."""
    sent_tuple = id_tuple(sent)
    while True:
        item = await subscription.get()
        if item is None:
            return  # Overflowed: the client reconnects and replays from its last id.
        entry_id, event = item
        if entry_id == HEARTBEAT:
            yield None, None
            continue
        if entry_id != RESET:
            entry_tuple = id_tuple(entry_id)
            if entry_tuple <= sent_tuple:
                continue
            sent_tuple = entry_tuple
        yield entry_id, event


async def organization_sse(organization_id, last: str):
    key = organization_key(organization_id)
    streams = get_streams()
    hub = get_hub()
    subscription = await hub.subscribe(key)
    try:
        epoch = await hub.shared("epoch", streams.epoch)
        yield f"retry: {settings.SSE_RETRY_MS}\n\n".encode()
        sent = "0-0"
        if last and await asyncio.to_thread(needs_reset, last, epoch, key):
            yield frame("stream.reset", {"organization_id": str(organization_id)}, None)
        elif last:
            for entry_id, event in await hub.read(key, parse_public_id(last)[1]):
                sent = entry_id
                yield event_frame(key, epoch, entry_id, event)
        async for entry_id, event in _live(subscription, sent):
            if entry_id is None:
                yield b": heartbeat\n\n"
            elif entry_id == RESET:
                epoch = await hub.shared("epoch", streams.epoch)
                yield frame("stream.reset", {"organization_id": str(organization_id)}, None)
            else:
                yield event_frame(key, epoch, entry_id, event)
    finally:
        subscription.close()


async def health(request):
    """GET /api/v1/sse/health → {status, redis, mode}"""
    streams = get_streams()
    if streams.mode in ("memory", "sqlite"):
        return JsonResponse({"status": "ok", "redis": "not_configured", "mode": "embedded"})
    try:
        await asyncio.to_thread(streams.client.ping)
        return JsonResponse({"status": "ok", "redis": "ok", "mode": "redis"})
    except Exception:
        return JsonResponse({"status": "degraded", "redis": "unavailable", "mode": "redis"}, status=503)


# --- the ASGI app that serves the stream routes -------------------------------------------
EXECUTION_STREAM = re.compile(r"^/api/v1/sse/executions/(?P<pk>[0-9a-fA-F-]{36})/stream/?$")
ORGANIZATION_STREAM = re.compile(r"^/api/v1/sse/stream/?$")
PREFIX = "/api/v1/sse/"


class SSEApplication:
    """GET of a stream route is answered here; every other request goes to `fallback` (Django)."""

    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not path.startswith(PREFIX):
            return await self.fallback(scope, receive, send)
        execution_match = EXECUTION_STREAM.match(path)
        if execution_match is None and not ORGANIZATION_STREAM.match(path):
            return await self.fallback(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        last = headers.get("last-event-id") or (query.get("last_event_id") or [""])[0]
        try:
            body = await _open(execution_match, headers, query, last)
        except DocgError as exc:
            return await _json(send, exc.status_code, error_body(exc.code, exc.message, exc.details))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
                ],
            }
        )
        await _stream(body, receive, send)


async def _open(execution_match, headers: dict, query: dict, last: str):
    """Authenticate the caller and pick the stream; DocgError (before any byte is sent) when refused."""
    organization_header = headers.get("x-organization-id", "")
    if not execution_match:
        organization_header = tenancy.organization_choice(organization_header, (query.get("organization") or [""])[0])
    caller = await in_thread(
        lambda: tenancy.stream_caller(
            token=(query.get("token") or [""])[0],
            authorization=headers.get("authorization", ""),
            session_key=parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME, ""),
            organization_header=organization_header,
        )
    )
    if not execution_match:
        if caller.execution_id is not None:
            raise DocgError("stream_token_invalid", "This stream token is for one execution only.", status_code=401)
        return organization_sse(caller.organization_id, last)
    try:
        pk = str(uuid.UUID(execution_match["pk"]))
    except ValueError:  # 36 dashes match the route but name nothing
        raise DocgError("not_found", "Not found.", status_code=404)
    if caller.execution_id is not None and caller.execution_id != pk:
        raise DocgError("stream_token_invalid", "This stream token is for another execution.", status_code=401)
    return execution_sse(await find_execution(pk, caller.organization_id), last)


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
