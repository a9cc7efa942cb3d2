"""Server-Sent Events for one execution (and for an organization's list views).

A plain async view: it replays strictly after Last-Event-ID, then follows the
shared stream reader, sends a heartbeat comment every SSE_HEARTBEAT_SECONDS and
closes after the terminal event. When the given id predates what the stream
still holds (trimmed, expired, or from before a Redis data loss) it first sends
`stream.reset` with the run state read from PostgreSQL.
"""

import asyncio
import json
import uuid
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse

from docg.common.api.errors import error_body
from docg.common.errors import DocgError
from docg.executions.hub import RESET, get_hub
from docg.executions.models import WorkflowExecution
from docg.executions.state import TERMINAL
from docg.executions.stream_auth import caller_from_credentials, stream_caller
from docg.executions.streams import (
    execution_key,
    get_streams,
    id_tuple,
    organization_key,
    parse_public_id,
    public_id,
)

TERMINAL_EVENTS = frozenset({"execution.completed", "execution.failed", "execution.canceled"})
STATE_FIELDS = (
    "status", "progress", "current_step", "last_error_code", "last_error_human", "recommended_actions",
    "phase_metrics", "preflight_summary", "delivery_state", "signature_state", "started_at", "completed_at",
)  # fmt: skip


def run_state(execution: WorkflowExecution) -> dict[str, Any]:
    state = {name: getattr(execution, name) for name in STATE_FIELDS}
    return json.loads(json.dumps({"execution_id": str(execution.pk), **state}, default=str))


_FRAMES: "OrderedDict[str, bytes]" = OrderedDict()
_FRAMES_MAX = 4096


def event_frame(epoch: str, entry_id: str, event: dict) -> bytes:
    """The SSE frame of a stream entry, encoded once and shared by every client of the process."""
    event_id = public_id(epoch, entry_id)
    cached = _FRAMES.get(event_id)
    if cached is None:
        cached = frame(event["event_type"], {**event, "event_id": event_id}, event_id)
        _FRAMES[event_id] = cached
        if len(_FRAMES) > _FRAMES_MAX:
            _FRAMES.popitem(last=False)
    return cached


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    lines = [f"id: {event_id}"] if event_id else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in json.dumps(data, default=str).splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()


def _error(exc: DocgError) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status_code)


def _last_event_id(request) -> str:
    return request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""


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


def _response(stream) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def execution_stream(request, pk):
    """GET /api/v1/sse/executions/{id}/stream"""
    try:
        caller = await stream_caller(request)
        if caller.execution_id is not None and caller.execution_id != str(pk):
            raise DocgError("stream_token_invalid", "This stream token is for another execution.", status_code=401)
        execution = await find_execution(pk, caller.organization_id)
    except DocgError as exc:
        return _error(exc)
    return _response(execution_sse(execution, _last_event_id(request)))


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


async def _current_state(execution_id) -> tuple[dict, bool]:
    execution = await in_thread(lambda: WorkflowExecution.objects.get(pk=execution_id))
    return run_state(execution), execution.status in TERMINAL


async def execution_event_source(execution: WorkflowExecution, last: str):
    """(name, data, id, entry) for one execution: replay after `last`, then live; "heartbeat" ticks.

    Stream entries come as `entry` = (epoch, entry id, event) with data None, so the
    SSE view can reuse one encoded frame for every client; resets carry `data`.

    Shared by the SSE view and the websocket consumer, so both follow the same replay and reset rules.
    """
    key = execution_key(execution.pk)
    streams = get_streams()
    subscription = await get_hub().subscribe(key)
    try:
        epoch = await asyncio.to_thread(streams.epoch)
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
            for entry_id, event in await asyncio.to_thread(streams.read, key, after):
                sent = entry_id
                yield event["event_type"], None, public_id(epoch, entry_id), (epoch, entry_id, event)
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
                epoch = await asyncio.to_thread(streams.epoch)
                state, finished = await _current_state(execution.pk)
                yield "stream.reset", state, public_id(epoch, "0-0"), None
                if finished:
                    return
            else:
                yield event["event_type"], None, public_id(epoch, entry_id), (epoch, entry_id, event)
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
    while True:
        try:
            item = await subscription.get(timeout=settings.SSE_HEARTBEAT_SECONDS)
        except TimeoutError:
            yield None, None
            continue
        if item is None:
            return  # Overflowed: the client reconnects and replays from its last id.
        entry_id, event = item
        if entry_id != RESET and id_tuple(entry_id) <= id_tuple(sent):
            continue
        if entry_id != RESET:
            sent = entry_id
        yield entry_id, event


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def organization_choice(header: str, query: str) -> str:
    """The organization a stream is for: X-Organization-ID, or the `organization` query parameter.

    EventSource cannot send headers, so a dashboard user of several organizations names one
    in the URL. The value then goes through the same membership check as the header (a
    foreign or unknown organization is a 404); a header and a parameter that disagree are refused.
    """
    header, query = header.strip(), query.strip()
    if not query:
        return header
    try:
        chosen = str(uuid.UUID(query))
    except ValueError:
        raise DocgError("invalid_organization", "The organization parameter must be an organization's UUID.")
    if header and _as_uuid(header) != uuid.UUID(chosen):
        raise DocgError("organization_mismatch", "X-Organization-ID and the organization parameter disagree.")
    return chosen


async def organization_stream(request):
    """GET /api/v1/sse/stream[?organization=<uuid>]: status changes of every execution of one organization."""
    try:
        caller = await asyncio.to_thread(
            caller_from_credentials,
            token=request.GET.get("token", ""),
            authorization=request.headers.get("Authorization", ""),
            session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""),
            organization_header=organization_choice(
                request.headers.get("X-Organization-ID", ""), request.GET.get("organization", "")
            ),
        )
        if caller.execution_id is not None:
            raise DocgError("stream_token_invalid", "This stream token is for one execution only.", status_code=401)
    except DocgError as exc:
        return _error(exc)
    return _response(organization_sse(caller.organization_id, _last_event_id(request)))


async def organization_sse(organization_id, last: str):
    key = organization_key(organization_id)
    streams = get_streams()
    subscription = await get_hub().subscribe(key)
    try:
        epoch = await asyncio.to_thread(streams.epoch)
        yield f"retry: {settings.SSE_RETRY_MS}\n\n".encode()
        sent = "0-0"
        if last and await asyncio.to_thread(needs_reset, last, epoch, key):
            yield frame("stream.reset", {"organization_id": str(organization_id)}, None)
        elif last:
            for entry_id, event in await asyncio.to_thread(streams.read, key, parse_public_id(last)[1]):
                sent = entry_id
                yield event_frame(epoch, entry_id, event)
        async for entry_id, event in _live(subscription, sent):
            if entry_id is None:
                yield b": heartbeat\n\n"
            elif entry_id == RESET:
                epoch = await asyncio.to_thread(streams.epoch)
                yield frame("stream.reset", {"organization_id": str(organization_id)}, None)
            else:
                yield event_frame(epoch, entry_id, event)
    finally:
        subscription.close()


async def health(request):
    """GET /api/v1/sse/health → {status, redis, mode}"""
    streams = get_streams()
    if streams.mode == "memory":
        return JsonResponse({"status": "ok", "redis": "not_configured", "mode": "embedded"})
    try:
        await asyncio.to_thread(streams.client.ping)
        return JsonResponse({"status": "ok", "redis": "ok", "mode": "redis"})
    except Exception:
        return JsonResponse({"status": "degraded", "redis": "unavailable", "mode": "redis"}, status=503)
