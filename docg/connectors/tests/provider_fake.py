"""A loopback fake of the OAuth providers' APIs (HubSpot, Google, Microsoft): records every request,
answers from routes the test declares, 404 for anything else.

`provider_api` points every CONNECTOR_API_ROOTS entry the OAuth work uses at the fake, each under its
own prefix: /hubspot, /google-oauth, /googleapis, /mslogin, /graph.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fixtures.loopback import LoopbackHandler, loopback_server

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
    class Handler(LoopbackHandler):
        def _serve(self):
            raw = self.read_body()
            parts = urlsplit(self.path)
            recorded = Recorded(
                self.command,
                parts.path,
                parse_qs(parts.query),
                self.lower_headers(),
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
            self.reply(status, body, headers)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


@pytest.fixture
def provider_api(settings):
    fake = FakeProviders()
    with loopback_server(_handler(fake)) as fake.url:
        settings.CONNECTOR_API_ROOTS = {
            **settings.CONNECTOR_API_ROOTS,
            **{name: fake.url + prefix for name, prefix in PREFIXES.items()},
        }
        settings.SOCIAL_AUTH_HUBSPOT_KEY, settings.SOCIAL_AUTH_HUBSPOT_SECRET = "hub-client", "hub-secret"
        settings.SOCIAL_AUTH_GOOGLE_KEY, settings.SOCIAL_AUTH_GOOGLE_SECRET = "google-client", "google-secret"
        settings.SOCIAL_AUTH_MICROSOFT_KEY, settings.SOCIAL_AUTH_MICROSOFT_SECRET = "ms-client", "ms-secret"
        yield fake
