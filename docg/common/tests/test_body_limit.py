"""Oversized bodies are refused as they arrive, before Django holds them, on every route."""

import asyncio
import json

import pytest
from django.conf import settings

from config.asgi import application

CHUNK = 64 * 1024


class Client:
    """An HTTP client at the ASGI level that streams a body and counts what the server read."""

    def __init__(self, path: str, *, total: int, declared: bool):
        self.path = path
        self.total = total
        self.declared = declared
        self.read = 0
        self.messages = []

    async def receive(self):
        if self.read >= self.total:
            await asyncio.Event().wait()  # the client stays connected; the server must not need more
        body = b"x" * min(CHUNK, self.total - self.read)
        self.read += len(body)
        return {"type": "http.request", "body": body, "more_body": self.read < self.total}

    async def send(self, message):
        self.messages.append(message)

    async def post(self):
        headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
        if self.declared:
            headers.append((b"content-length", str(self.total).encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": self.path, "raw_path": self.path.encode(), "query_string": b"", "root_path": "",
            "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        }  # fmt: skip
        await asyncio.wait_for(application(scope, self.receive, self.send), timeout=30)
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")
        return start["status"], json.loads(body)


@pytest.mark.parametrize(
    "path", ["/hooks/stripe/", "/api/v1/workflows", "/hooks/generic/0f6f5b8e-0000-4000-8000-000000000000/"]
)
def test_a_declared_oversized_body_is_413_before_a_byte_is_read(path):
    client = Client(path, total=150 * 1024 * 1024, declared=True)
    status, body = asyncio.run(client.post())
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert client.read == 0


@pytest.mark.parametrize("path", ["/hooks/stripe/", "/api/v1/workflows", "/login/"])
def test_an_undeclared_body_is_cut_off_at_the_routes_limit(path):
    limit = settings.API_MAX_BODY_BYTES if path.startswith(("/api/", "/hooks/")) else settings.TEMPLATE_MAX_UPLOAD_BYTES
    client = Client(path, total=150 * 1024 * 1024, declared=False)
    status, body = asyncio.run(client.post())
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    # Read up to the limit and one chunk more, never the 150 MB the client offered.
    assert limit < client.read <= limit + 2 * CHUNK


def test_a_body_within_the_limit_reaches_the_view():
    client = Client("/api/v1/workflows", total=10, declared=True)
    status, _body = asyncio.run(client.post())
    assert status in (400, 401, 403)  # the view answered (the body is not JSON, and nobody is logged in)
    assert client.read == 10
