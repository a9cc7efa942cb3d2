"""A loopback fake of the OAuth providers' APIs (HubSpot, Google, Microsoft): records every request,
answers from routes the test declares, 404 for anything else.

`provider_api` points every CONNECTOR_API_ROOTS entry the OAuth work uses at the fake, each under its
own prefix: /hubspot, /google-oauth, /googleapis, /mslogin, /graph.
"""

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PREFIXES = {
    "hubspot": "/hubspot",
    "google_oauth": "/google-oauth",
    "google_drive": "/googleapis",
    "microsoft_login": "/mslogin",
    "microsoft_graph": "/graph",
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.raw.decode()).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.raw or b"null")


Answer = tuple[int, Any, dict[str, str]]


@dataclass
class FakeProviders:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[tuple[str, str], Callable[[Recorded], Answer]] = field(default_factory=dict)

    def on(self, method: str, path: str, status: int = 200, body: Any = None, headers: dict | None = None) -> None:
        """Always answer `method path` with this status and JSON body."""
        self.routes[(method, path)] = lambda request: (status, body if body is not None else {}, headers or {})

    def handle(self, method: str, path: str, handler: Callable[[Recorded], Answer]) -> None:
        self.routes[(method, path)] = handler

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]


def _handler(fake: FakeProviders):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            recorded = Recorded(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                raw,
            )
            fake.requests.append(recorded)
            route = fake.routes.get((self.command, parts.path))
            if route is None:
                status, body, headers = (
                    404,
                    {"status": "error", "message": "Not found", "category": "OBJECT_NOT_FOUND"},
                    {},
                )
            else:
                status, body, headers = route(recorded)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


@pytest.fixture
def provider_api(settings):
    fake = FakeProviders()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CONNECTOR_API_ROOTS = {
        **settings.CONNECTOR_API_ROOTS,
        **{name: fake.url + prefix for name, prefix in PREFIXES.items()},
    }
    settings.SOCIAL_AUTH_HUBSPOT_KEY, settings.SOCIAL_AUTH_HUBSPOT_SECRET = "hub-client", "hub-secret"
    settings.SOCIAL_AUTH_GOOGLE_KEY, settings.SOCIAL_AUTH_GOOGLE_SECRET = "google-client", "google-secret"
    settings.SOCIAL_AUTH_MICROSOFT_KEY, settings.SOCIAL_AUTH_MICROSOFT_SECRET = "ms-client", "ms-secret"
    yield fake
    server.shutdown()
    server.server_close()
