"""Django's HTTP requests served by its synchronous handler on a fixed pool of threads, under ASGI.

Every docg view is synchronous. Django's ASGI handler runs such a view through asgiref's
sync_to_async inside a per-request ThreadSensitiveContext: a new thread for each request,
and one event-loop → thread → event-loop round trip for each middleware's request and
response hooks (MiddlewareMixin.__acall__) besides the view's. Profiled under uvicorn at 50
concurrent GETs of one run, 85 % of the web process's CPU was that plumbing on the event
loop; the view itself took 11 %. And 50 request threads queued for 10 pooled database
connections.

Here the body is read on the event loop (Django's ASGIHandler.read_body), then the whole
request runs in one hop on a pool of `WEB_THREADS` long-lived threads, exactly as under WSGI:
request_started, the middleware chain loaded in sync mode, the view, the response's content,
request_finished (which returns the database connection). The event loop then sends the
response. A streaming response (CSV export, file download) is iterated in its thread, each
chunk handed to the loop and awaited there, so a slow client holds that thread, not memory.
With as many threads as the database pool has connections no thread waits for a connection.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


class SyncASGIHandler(ASGIHandler):
    """An ASGIHandler whose middleware and views run synchronously, one thread hop per request."""

    def __init__(self, threads: int | None = None):
        # Not super().__init__(): that loads the middleware in async mode.
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=threads or settings.WEB_THREADS, thread_name_prefix="http")

    async def __call__(self, scope, receive, send):
        # No ThreadSensitiveContext: nothing here runs through sync_to_async.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self.executor, self._respond, scope, body_file, send, loop)
            if response is not None:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope, body_file, send, loop):
        """In a pool thread: the whole request. Returns the (closed) response to send, or None if sent here."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
        try:
            if not response.streaming:
                response.content  # noqa: B018 (rendered here, in the thread, before close())
                return response
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
            self._stream(response, send, loop)
            return None
        finally:
            response.close()  # request_finished: the database connection goes back to the pool

    def _stream(self, response, send, loop) -> None:
        def sent(message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        start = {"type": "http.response.start", "status": response.status_code, "headers": _headers(response)}
        sent(start)
        try:
            for part in response.streaming_content:
                for chunk, _last in self.chunk_bytes(part):
                    sent({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            return  # the client went away: stop reading the iterator
        sent({"type": "http.response.body"})


def _headers(response) -> list[tuple[bytes, bytes]]:
    """The response's headers and cookies as ASGI wants them (as ASGIHandler.send_response builds them)."""
    headers = [
        (
            name.encode("ascii") if isinstance(name, str) else name,
            value.encode("latin1") if isinstance(value, str) else value,
        )
        for name, value in response.items()
    ]
    headers.extend((b"Set-Cookie", c.output(header="").encode("ascii").strip()) for c in response.cookies.values())
    return headers
